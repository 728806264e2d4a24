"""
pytest plugin (loaded with ``-p`` before Django is configured) that points the suite at the
backing services.

PostgreSQL and Redis on 127.0.0.1 are used when reachable (or whatever ``DATABASE_URL`` /
``REDIS_URL`` say). Outside CI a missing service falls back to SQLite and the in-memory layers,
and tests marked ``services`` are skipped with a loud banner. Under ``CI=true`` a missing service
is an error: nothing may be skipped for it.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/flowpilot"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _configure() -> tuple[bool, bool]:
    in_ci = os.environ.get("CI", "").lower() == "true"
    db_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    have_pg = db_url.startswith("postgres") and _reachable(db_url, 5432)
    have_redis = _reachable(redis_url, 6379)
    if have_pg:
        os.environ["DATABASE_URL"] = db_url
    else:
        os.environ.pop("DATABASE_URL", None)
    if have_redis:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    # Concurrent runs in one checkout set FLOWPILOT_TEST_DB_NAME to keep their databases apart.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    os.environ["REDIS_KEY_PREFIX"] = f"flowpilot-test-{os.getpid()}-{worker}"
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault(
        "SECRET_KEY", "test-secret-key-flowpilot-suite-0123456789-abcdefghijklmnop"
    )
    os.environ.setdefault("SECURE_COOKIES", "false")
    os.environ.setdefault("STATIC_MANIFEST", "false")
    os.environ["LLM_PROVIDER"] = os.environ.get("TEST_LLM_PROVIDER", "offline")
    os.environ["ANTHROPIC_API_KEY"] = ""
    if in_ci and not (have_pg and have_redis):
        missing = [name for name, ok in (("PostgreSQL", have_pg), ("Redis", have_redis)) if not ok]
        raise pytest.UsageError(f"CI=true but {', '.join(missing)} is not reachable.")
    return have_pg, have_redis


HAVE_POSTGRES, HAVE_REDIS = _configure()
SERVICES_UP = HAVE_POSTGRES and HAVE_REDIS


def pytest_report_header(config: pytest.Config) -> list[str]:
    if SERVICES_UP:
        return ["flowpilot: PostgreSQL + Redis (real services)"]
    return [
        "!" * 78,
        "flowpilot: PostgreSQL/Redis NOT reachable — running on SQLite and in-memory layers.",
        "flowpilot: tests marked `services` WILL BE SKIPPED. Start the services for a full run.",
        "!" * 78,
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SERVICES_UP:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis (not reachable here)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SERVICES_UP:
        terminalreporter.write_line(
            "WARNING: PostgreSQL/Redis were not reachable; service tests were SKIPPED.",
            red=True,
            bold=True,
        )
