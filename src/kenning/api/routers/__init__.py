"""Routers: parse, call a service, shape the answer."""
