"""Celery helpers shared by every app."""

from __future__ import annotations

from typing import Any


def dispatch_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """
    Queue a task only once the current transaction commits (never for a rolled-back one). A
    broker that refuses it never fails the committed request: the call waits in the outbox.
    """
    from flowpilot.outbox.services import dispatch_on_commit as outbox_dispatch

    outbox_dispatch(task, *args, **kwargs)
