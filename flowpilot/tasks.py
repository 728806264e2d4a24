"""Platform-level Celery tasks."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(acks_late=True, name="flowpilot.record_audit_event")  # type: ignore[untyped-decorator]
def record_audit_event(
    account_id: int,
    type: str,
    payload: dict[str, Any],
    dedupe_key: str,
    actor_id: int | None = None,
) -> bool:
    """
    Append an audit event from outside a request. Idempotent through ``dedupe_key``: with
    ``acks_late`` a task may run twice after a worker dies, and the second run records nothing.
    """
    from accounts.models import Account, User
    from accounts.services.audit import record_event

    account = Account.objects.get(pk=account_id)
    actor = User.objects.filter(pk=actor_id, account=account).first() if actor_id else None
    event = record_event(
        account=account, type=type, actor=actor, payload=payload, dedupe_key=dedupe_key
    )
    return event is not None


def dispatch_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """
    Queue a task only once the current transaction commits (never for a rolled-back one). A
    broker that refuses it never fails the committed request: the call waits in the outbox.
    """
    from flowpilot.outbox.services import dispatch_on_commit as outbox_dispatch

    outbox_dispatch(task, *args, **kwargs)


HEARTBEAT_KEY = "worker-heartbeat"


@shared_task(name="flowpilot.worker_heartbeat", ignore_result=True)  # type: ignore[untyped-decorator]
def worker_heartbeat() -> float:
    """Celery beat sends this every 30 s; the worker that runs it stamps the shared cache, and
    ``/readyz`` reads the stamp's age."""
    import time

    from django.core.cache import cache

    now = time.time()
    cache.set(HEARTBEAT_KEY, now, timeout=600)
    return now
