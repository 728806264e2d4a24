"""Celery helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django.db import transaction


def dispatch_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Queue a task only once the current transaction commits (never for a rolled-back one)."""
    transaction.on_commit(lambda: task.delay(*args, **kwargs))
