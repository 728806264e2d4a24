"""Shared set-up for the benchmark scripts: the bench database and Django on top of it."""

from __future__ import annotations

import os


def ensure_database() -> None:
    """Create the PostgreSQL database named by DATABASE_URL when it does not exist yet."""
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
