"""Pricing: price books, promotions and coupons, and the one function that prices a basket."""
