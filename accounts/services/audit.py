"""Writing audit events. Events are append-only; this is the one place that creates them."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Account, AuditEvent, User


def record_event(
    *,
    account: Account,
    type: str,
    actor: User | None = None,
    payload: dict[str, Any] | None = None,
    ip_address: str | None = None,
    dedupe_key: str | None = None,
) -> AuditEvent | None:
    """
    Append one audit event. With a ``dedupe_key`` a repeated call (a retried Celery task) records
    nothing and returns None.
    """
    event = AuditEvent(
        account=account,
        actor=actor,
        type=type,
        payload=payload or {},
        ip_address=ip_address,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        event.save(force_insert=True)
        return event
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        return None
    return event
