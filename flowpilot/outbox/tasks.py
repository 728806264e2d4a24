from __future__ import annotations

from celery import shared_task


@shared_task(name="flowpilot.outbox.sweep")  # type: ignore[untyped-decorator]
def sweep() -> int:
    """Periodic (Celery beat): send task calls the broker refused at commit time."""
    from flowpilot.outbox.services import sweep_outbox

    return sweep_outbox()


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
