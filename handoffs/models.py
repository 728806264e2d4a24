"""
Hand-offs (escalate or park a session), each senior's "seen" mark for the queue's unread dots,
and the in-app notifications behind the bell. Every row carries its account; reads go through
``handoffs.selectors`` and writes through ``handoffs.services``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone


class HandoffIntent(models.TextChoices):
    ESCALATE = "escalate", "Escalate"
    PARK = "park", "Park"


# Older clients send the session status they want; it means the same as escalate.
INTENT_ALIASES = {
    "requesting_escalation": HandoffIntent.ESCALATE,
    "escalated": HandoffIntent.ESCALATE,
}


class AssessmentStatus(models.TextChoices):
    PENDING = "pending", "Being written"
    READY = "ready", "Ready"
    UNAVAILABLE = "unavailable", "Unavailable"


class SessionHandoff(models.Model):
    # The id exists before the row is flushed: notifications, links and the events published
    # on commit all name it from the start.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(
        "sessions_app.AISession", on_delete=models.CASCADE, related_name="handoffs"
    )
    intent = models.CharField(max_length=16, choices=HandoffIntent)
    from_user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    target_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, default="")
    snapshot = models.JSONField(default=dict, blank=True)
    package_markdown = models.TextField(blank=True, default="")
    ai_assessment = models.JSONField(default=dict, blank=True)
    assessment_status = models.CharField(
        max_length=16, choices=AssessmentStatus, default=AssessmentStatus.PENDING
    )
    assessment_error = models.CharField(max_length=200, blank=True, default="")
    claimed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The first session step at or after the pick-up (set once by a conditional UPDATE when
    # that step is saved): the analytics aggregate this column instead of scanning steps.
    first_action_at = models.DateTimeField(null=True, blank=True)
    psa_ticket_id = models.CharField(max_length=32, blank=True, default="")
    # Set once by the ageing sweep (a conditional UPDATE) when nobody picked it up in time.
    renotified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The queue: an account's unclaimed escalations in its exact order (newest first,
            # id as the tie-break), so a page reads 25 index entries whatever the queue's size.
            models.Index(
                fields=["account", "-created_at", "-id"],
                condition=Q(intent="escalate", claimed_by__isnull=True),
                name="handoff_queue_order_idx",
            ),
            # Analytics: an account's claims in a period, with the first action beside them
            # (an index-only scan on PostgreSQL).
            models.Index(
                fields=["account", "claimed_at"],
                include=["first_action_at"],
                condition=Q(intent="escalate", claimed_at__isnull=False),
                name="handoff_claimed_action_idx",
            ),
            # A new session step finds the claimed hand-offs still waiting for a first action.
            models.Index(
                fields=["session"],
                condition=Q(claimed_at__isnull=False, first_action_at__isnull=True),
                name="handoff_awaiting_action_idx",
            ),
            models.Index(fields=["session", "-created_at"], name="handoff_session_idx"),
            # The dashboard's "Picked up from me": a user's claimed escalations, latest first.
            models.Index(
                fields=["account", "from_user", "-claimed_at"],
                condition=Q(intent="escalate", claimed_at__isnull=False),
                name="handoff_picked_from_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(intent__in=HandoffIntent.values), name="handoff_intent_valid"
            ),
            models.CheckConstraint(
                condition=Q(assessment_status__in=AssessmentStatus.values),
                name="handoff_assessment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(target_user=models.F("from_user")), name="handoff_not_self_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_intent_display()} of session {self.session_id}"

    def get_absolute_url(self) -> str:
        return f"/escalations/{self.pk}"

    @property
    def is_claimed(self) -> bool:
        return self.claimed_by_id is not None

    @property
    def suggested_steps(self) -> list[str]:
        steps = (self.ai_assessment or {}).get("suggested_steps") or []
        return [str(step) for step in steps if str(step).strip()]


class HandoffSeen(models.Model):
    """A user opened (or claimed) a hand-off: its unread dot is gone for them."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    handoff = models.ForeignKey(SessionHandoff, on_delete=models.CASCADE, related_name="seen")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)
    # The suggested-step chips were closed (✕) or used (first send) on the hand-off screen.
    chips_hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["handoff", "user"], name="handoff_seen_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.handoff_id}"


class NotificationKind(models.TextChoices):
    HANDOFF_CREATED = "handoff_created", "Escalation"
    HANDOFF_CLAIMED = "handoff_claimed", "Picked up"
    HANDOFF_WAITING = "handoff_waiting", "Still waiting"


class AppNotification(models.Model):
    """One bell entry for one user."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=NotificationKind)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, default="")
    link = models.CharField(max_length=300, blank=True, default="")
    handoff = models.ForeignKey(
        SessionHandoff, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(null=True, blank=True)
    # Set once by the e-mail task (a conditional UPDATE): a redelivered task sends nothing twice.
    emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.pk,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "link": self.link,
            "read_at": self.read_at.isoformat() if self.read_at else None,
            "created_at": self.created_at.isoformat(),
        }
