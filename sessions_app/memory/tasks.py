"""
Celery task of the search index, and what queues it: ``session_history_changed`` (a session
resolved, reopened or edited) schedules a re-index once the transaction commits.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction
from django.dispatch import receiver

from sessions_app.memory.indexing import index_session
from sessions_app.signals import session_history_changed


@shared_task(acks_late=True, name="sessions_app.memory.index_session")  # type: ignore[untyped-decorator]
def index_session_task(session_id: int) -> str:
    """Idempotent: a redelivered or late run rebuilds the same document from the session."""
    return index_session(session_id=session_id)


def schedule_index(session_id: int) -> None:
    """Queue (re)indexing once the current transaction commits; a broker outage is logged."""

    def queue() -> None:
        index_session_task.delay(session_id)

    transaction.on_commit(queue, robust=True)


@receiver(session_history_changed, dispatch_uid="memory_reindex_on_history_change")
def _history_changed(sender: Any, session_id: int, **kwargs: Any) -> None:
    schedule_index(session_id)
