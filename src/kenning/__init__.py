"""Kenning: one customer across every channel of a retailer."""

__version__ = "0.1.0"
