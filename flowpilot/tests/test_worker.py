from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import RefreshToken, User
from accounts.tasks import RETENTION, purge_expired_sessions
from flowpilot.celery import app as celery_app
from flowpilot.tasks import dispatch_on_commit

ROOT = Path(__file__).resolve().parents[2]


def _old_token(user: User, jti: str) -> RefreshToken:
    """A refresh-token row long past the retention window: the purge task deletes it."""
    long_ago = timezone.now() - RETENTION - timedelta(days=1)
    return RefreshToken.objects.create(
        jti=jti,
        account=user.account,
        user=user,
        auth_time=long_ago,
        issued_at=long_ago,
        expires_at=long_ago,
    )


def test_task_is_dispatched_only_after_commit(
    engineer: User, django_capture_on_commit_callbacks
) -> None:
    """A task queued inside a transaction runs at commit, and not at all when it rolls back."""

    class Boom(Exception):
        pass

    _old_token(engineer, "rolled-back")
    with pytest.raises(Boom), transaction.atomic():
        dispatch_on_commit(purge_expired_sessions)
        raise Boom
    assert RefreshToken.objects.filter(jti="rolled-back").exists()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dispatch_on_commit(purge_expired_sessions)
        assert RefreshToken.objects.filter(jti="rolled-back").exists()
    assert len(callbacks) == 1
    assert not RefreshToken.objects.filter(jti="rolled-back").exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_the_task_from_redis(engineer: User) -> None:
    """A Celery worker process consumes the task from the Redis broker and writes to the DB."""
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
        _old_token(engineer, "worker")
        purge_expired_sessions.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not RefreshToken.objects.filter(jti="worker").exists():
                break
            assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
            time.sleep(0.25)
        else:
            worker.terminate()
            output = worker.stdout.read().decode() if worker.stdout else ""
            pytest.fail(f"The worker did not run the task in time. Worker output:\n{output}")
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=20)
