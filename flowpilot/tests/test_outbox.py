"""After-commit dispatch: a broker that refuses a task never fails the committed request; the
call waits in the outbox and the sweep sends it later."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from celery import shared_task
from kombu.exceptions import OperationalError

from accounts.models import Account, AuditEvent, LoginSession, User
from accounts.services.audit import record_event
from accounts.services.revocation import revoke_account_sessions
from flowpilot.outbox.models import PendingTask
from flowpilot.outbox.services import dispatch_on_commit, send_or_store, sweep_outbox
from flowpilot.resilience import redis_breaker

pytestmark = pytest.mark.django_db
TASK = "flowpilot.tests.record_marker"


@shared_task(name=TASK)  # type: ignore[untyped-decorator]
def record_marker(account_id: int, type: str) -> None:
    """A task with a visible effect (idempotence is not under test here)."""
    record_event(account=Account.objects.get(pk=account_id), type=type)


@pytest.fixture(autouse=True)
def _closed_breaker() -> Any:
    redis_breaker.reset()
    yield
    redis_breaker.reset()


@pytest.fixture
def broker_down(settings: Any) -> Any:
    """A real (non-eager) publish whose broker connection is refused."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch(
        "celery.app.task.Task.apply_async", autospec=True, side_effect=OperationalError("refused")
    ) as send:
        yield send


def test_refused_send_is_stored_not_raised(account: Account, broker_down: Any) -> None:
    assert send_or_store(TASK, [account.pk, "t"], {}) is False
    row = PendingTask.objects.get()
    assert row.task_name == TASK
    assert row.args == [account.pk, "t"]
    assert "refused" in row.last_error


def test_open_breaker_skips_the_broker(account: Account, broker_down: Any) -> None:
    """After one refusal the breaker is open: the next call goes to the outbox without waiting."""
    send_or_store(TASK, [account.pk, "a"], {})
    send_or_store(TASK, [account.pk, "b"], {})
    assert broker_down.call_count == 1
    assert PendingTask.objects.count() == 2


def test_sign_out_everyone_succeeds_when_the_push_cannot_be_queued(
    owner: User,
    engineer: User,
    client_for: Any,
    broker_down: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The committed revoke answers 200 with its count; the push waits in the outbox."""
    client_for(engineer)
    api = client_for(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/accounts/me/security/revoke-sessions",
            {"scope": "others"},
            content_type="application/json",
        )
    assert response.status_code == 200
    assert response.json()["revoked_count"] == 1
    assert not LoginSession.objects.filter(user=engineer, revoked_at__isnull=True).exists()
    assert PendingTask.objects.get().task_name == "accounts.tasks.push_session_revoked"


def test_sweep_sends_stored_calls_and_backs_off_on_failure(account: Account, settings: Any) -> None:
    PendingTask.objects.create(task_name=TASK, args=[account.pk, "swept"])
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch(
        "celery.app.task.Task.apply_async",
        autospec=True,
        side_effect=OperationalError("still down"),
    ):
        assert sweep_outbox() == 0
    row = PendingTask.objects.get()
    assert row.attempts == 1
    assert row.next_attempt_at > row.created_at
    # Redis is back (eager here): the due call is sent once and leaves the outbox.
    redis_breaker.reset()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    PendingTask.objects.update(next_attempt_at=row.created_at)
    assert sweep_outbox() == 1
    assert not PendingTask.objects.exists()
    assert AuditEvent.objects.filter(type="swept").count() == 1


def test_nothing_is_sent_for_a_rolled_back_transaction(account: Account) -> None:
    from django.db import transaction

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        dispatch_on_commit(record_marker, account.pk, "never")
        raise Boom
    assert not PendingTask.objects.exists()
    assert not AuditEvent.objects.filter(type="never").exists()


def test_revoke_dispatches_through_the_outbox(
    owner: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        revoke_account_sessions(account=owner.account, actor=owner, scope="all")
    assert len(callbacks) == 1
    assert not PendingTask.objects.exists()  # eager and healthy: sent at once
