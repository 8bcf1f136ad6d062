"""Errors meaning the database refused a value (a number past 64 bits, a date past its
range, a NUL in text), not that the store is broken: the API answers them as invalid input."""

from __future__ import annotations

import psycopg

# sqlite3 raises OverflowError for integers past 64 bits, as does date arithmetic past 9999;
# psycopg.DataError is PostgreSQL's class 22, "data exception", and NUL bytes in text.
REFUSED_VALUE_ERRORS: tuple[type[Exception], ...] = (OverflowError, psycopg.DataError)
