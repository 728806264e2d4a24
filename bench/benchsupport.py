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


BENCH_SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdef"  # noqa: S105


def bench_environment(database: str = "flowpilot_bench", *, redis: bool = False) -> None:
    """
    The settings every benchmark runs under: production mode (DEBUG off, source static files,
    plain-HTTP cookies for the test client), the offline model, persistent database connections,
    and the bench's own PostgreSQL database (and Redis, with its own key prefix, when asked).
    A variable already set in the environment wins for the connection settings.
    """
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    if redis:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
        os.environ.setdefault("REDIS_KEY_PREFIX", "flowpilot-bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowpilot.settings")
    os.environ.setdefault("SECRET_KEY", BENCH_SECRET_KEY)
    os.environ.setdefault("CONN_MAX_AGE", "60")
    os.environ["DEBUG"] = "false"
    os.environ["SECURE_COOKIES"] = "false"
    # Pages render with the source static files (no collectstatic manifest in a bench run).
    os.environ["STATIC_MANIFEST"] = "false"
    os.environ["LLM_PROVIDER"] = "offline"
    os.environ["ANTHROPIC_API_KEY"] = ""
