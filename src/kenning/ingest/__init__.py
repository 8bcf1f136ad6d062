"""Ingest: read source files, normalise, append to the event log, upsert records."""
