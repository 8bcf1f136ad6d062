"""Kenning's PostgreSQL sessions of one test, to end as a server restart would."""

from __future__ import annotations

import psycopg


class NamedPostgres:
    """A fresh schema whose URL names Kenning's sessions uniquely in pg_stat_activity, so
    that a test can end them (what a restart or a fail-over does) without touching the
    sessions of tests running beside it on the same server."""

    def __init__(self, server_url: str, url: str, name: str) -> None:
        self.server_url = server_url
        self.url = url
        self.name = name

    def end_sessions(self) -> int:
        """End every session of this name, waiting until each is gone (the server has said
        goodbye to its client by then); returns how many there were."""
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                "AND application_name = %s",
                (self.name,),
            ).fetchall()
        assert all(ended for (ended,) in rows)
        return len(rows)
