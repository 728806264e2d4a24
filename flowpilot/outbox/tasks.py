from __future__ import annotations

from celery import shared_task


@shared_task(name="flowpilot.outbox.sweep")  # type: ignore[untyped-decorator]
def sweep() -> int:
    """Periodic (Celery beat): send task calls the broker refused at commit time."""
    from flowpilot.outbox.services import sweep_outbox

    return sweep_outbox()
