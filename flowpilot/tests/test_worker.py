from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import RefreshToken, User
from accounts.tasks import RETENTION, purge_expired_sessions
from flowpilot.tasks import dispatch_on_commit
from flowpilot.testing.worker import celery_worker, output_of


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
    with celery_worker() as worker:
        _old_token(engineer, "worker")
        purge_expired_sessions.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not RefreshToken.objects.filter(jti="worker").exists():
                break
            assert worker.poll() is None, output_of(worker)
            time.sleep(0.25)
        else:
            pytest.fail(
                f"The worker did not run the task in time. Worker output:\n{output_of(worker)}"
            )
