from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from flowpilot.outbox.services import pending_count, sweep_outbox


class Command(BaseCommand):
    help = "Send the task calls the broker refused at commit time (what Celery beat runs)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = sweep_outbox()
        self.stdout.write(f"sent {sent}, still pending {pending_count()}")
