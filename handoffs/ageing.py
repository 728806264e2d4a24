"""
Escalations nobody picked up: the Celery beat sweep (``handoffs.renotify_ageing``, every five
minutes) announces each one once more after ``ESCALATION_RENOTIFY_MINUTES``, to the same people,
in the bell and by e-mail (no second Slack/Teams post).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from handoffs.models import HandoffIntent, NotificationKind, SessionHandoff
from handoffs.notifications import create_notifications
from sessions_app.models import SessionStatus

BATCH = 200


def renotify_ageing(
    *, now: datetime | None = None, announce: Callable[[str], None] | None = None
) -> int:
    """
    Idempotent: a hand-off is taken by a conditional UPDATE of ``renotified_at`` in the same
    transaction as its notifications, so a repeated or overlapping run (beat, a redelivered
    task) announces nothing twice; a claim in between wins (``claimed_by IS NULL``).
    ``announce(handoff_id)`` runs after each commit (the task queues the bell push and
    e-mails there). Returns how many were announced.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ESCALATION_RENOTIFY_MINUTES)
    due = list(
        SessionHandoff.objects.filter(
            intent=HandoffIntent.ESCALATE,
            claimed_by__isnull=True,
            renotified_at__isnull=True,
            created_at__lte=cutoff,
            session__status__in=(SessionStatus.ESCALATED, "requesting_escalation"),
        )
        .select_related("session", "from_user")
        .order_by("created_at")[:BATCH]
    )
    announced = 0
    for handoff in due:
        with transaction.atomic():
            taken = SessionHandoff.objects.filter(
                pk=handoff.pk, renotified_at__isnull=True, claimed_by__isnull=True
            ).update(renotified_at=now)
            if not taken:
                continue
            create_notifications(
                handoff=handoff,
                session=handoff.session,
                actor=handoff.from_user,
                kind=NotificationKind.HANDOFF_WAITING,
            )
            if announce is not None:
                transaction.on_commit(partial(announce, str(handoff.pk)), robust=True)
        announced += 1
    return announced
