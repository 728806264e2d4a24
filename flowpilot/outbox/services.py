"""Sending task calls through the outbox (see the package docstring)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flowpilot.outbox.models import PendingTask
from flowpilot.resilience import OUTAGE_ERRORS, redis_breaker

logger = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=30)
SWEEP_BATCH = 200


class _Refused(Exception):
    pass


def _send(task: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Hand one call to Celery: ``delay`` in eager mode (it runs here), else a publish that does
    not retry (a refusal goes to the outbox at once instead of blocking the response)."""
    if isinstance(task, str):
        task = current_app.tasks[task]
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args, **kwargs)
        return
    refused: list[BaseException] = []

    def publish() -> None:
        task.apply_async(args=args, kwargs=kwargs, retry=False)

    def skip() -> None:
        refused.append(_Refused(redis_breaker.last_error or "broker unreachable"))

    redis_breaker.call(publish, skip)
    if refused:
        raise refused[0]


def send_or_store(task: Any, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """Send the call now; when that fails, log it and store it for the sweep. True when sent."""
    task_name = task if isinstance(task, str) else str(task.name)
    try:
        _send(task, args, kwargs)
    except (_Refused, *OUTAGE_ERRORS) as exc:  # type: ignore[misc]
        logger.warning("Task %s not sent (%s): stored for the outbox sweep", task_name, exc)
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        logger.exception("Task %s failed: stored for the outbox sweep", task_name)
        error = f"{type(exc).__name__}: {exc}"
    else:
        return True
    PendingTask.objects.create(
        task_name=task_name, args=list(args), kwargs=dict(kwargs), last_error=error[:2000]
    )
    return False


def dispatch_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Send ``task`` once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: send_or_store(task, list(args), dict(kwargs)))


def sweep_outbox(*, limit: int = SWEEP_BATCH) -> int:
    """Send stored calls that are due; a call that fails again waits longer. Returns sent."""
    now = timezone.now()
    sent = 0
    with transaction.atomic():
        due = list(
            PendingTask.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")[:limit]
        )
        for row in due:
            try:
                with transaction.atomic():  # an eager run that fails rolls back alone
                    _send(row.task_name, row.args, row.kwargs)
            except Exception as exc:
                row.attempts += 1
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                backoff = min(timedelta(seconds=30 * 2 ** min(row.attempts, 10)), MAX_BACKOFF)
                row.next_attempt_at = now + backoff
                row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                continue
            row.delete()
            sent += 1
    if due:
        logger.info("Outbox sweep: %d of %d stored task calls sent", sent, len(due))
    return sent


def pending_count() -> int:
    return PendingTask.objects.count()
