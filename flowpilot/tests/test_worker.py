from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts.models import Account, AuditEvent
from flowpilot.celery import app as celery_app
from flowpilot.tasks import dispatch_on_commit, record_audit_event

ROOT = Path(__file__).resolve().parents[2]


def test_task_is_dispatched_only_after_commit(
    account: Account, django_capture_on_commit_callbacks
) -> None:
    """A task queued inside a transaction runs at commit, and not at all when it rolls back."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dispatch_on_commit(record_audit_event, account.pk, "test.committed", {}, "key-commit")
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(type="test.committed").count() == 1

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        dispatch_on_commit(record_audit_event, account.pk, "test.rolled_back", {}, "key-rollback")
        raise Boom
    assert not AuditEvent.objects.filter(type="test.rolled_back").exists()


def test_task_is_idempotent(account: Account) -> None:
    """Running the same task twice (acks_late redelivery) records one event."""
    assert record_audit_event(account.pk, "test.once", {"n": 1}, "same-key") is True
    assert record_audit_event(account.pk, "test.once", {"n": 1}, "same-key") is False
    assert AuditEvent.objects.filter(type="test.once").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_the_task_from_redis(account: Account) -> None:
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
        record_audit_event.delay(account.pk, "test.worker", {"via": "redis"}, "worker-key")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if AuditEvent.objects.filter(type="test.worker").exists():
                break
            assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
            time.sleep(0.25)
        else:
            worker.terminate()
            output = worker.stdout.read().decode() if worker.stdout else ""
            pytest.fail(f"The worker did not run the task in time. Worker output:\n{output}")
        event = AuditEvent.objects.get(type="test.worker")
        assert event.payload == {"via": "redis"}
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=20)
