"""Celery task of the search index (queued on commit by ``indexing.schedule_index``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, name="sessions_app.memory.index_session")  # type: ignore[untyped-decorator]
def index_session_task(session_id: int) -> str:
    """Idempotent: a redelivered or late run rebuilds the same document from the session."""
    from sessions_app.memory.indexing import index_session

    return index_session(session_id=session_id)
