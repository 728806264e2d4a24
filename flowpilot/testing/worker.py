"""
A real Celery worker process for the tests that prove a task travels through Redis: it runs
against the test database, and the test process stops running tasks eagerly while it lives.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from flowpilot.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_worker() -> Iterator[subprocess.Popen[bytes]]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"
        ),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "flowpilot",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=20)


def output_of(worker: subprocess.Popen[bytes]) -> str:
    """What a stopped worker printed (for a failure message)."""
    worker.terminate()
    return worker.stdout.read().decode() if worker.stdout else ""
