"""Stock everywhere: locations, stock levels, reservations and sourcing rules. Pure: no I/O;
the service hands these types to and from the store."""
