"""
AI troubleshooting sessions: the chat (steps), the task lane, confirmed facts and the suggested
fix with its verified outcome. Every row carries its account; every query goes through
``accounts.tenancy``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString, mark_safe

from sessions_app.markdown import render_markdown


class SessionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ESCALATED = "escalated", "Escalated"
    PARKED = "parked", "Parked"
    RESOLVED = "resolved", "Resolved"


# Older clients send this; it means the same as escalated.
LEGACY_STATUS_ALIASES = {"requesting_escalation": SessionStatus.ESCALATED}


class AISessionQuerySet(models.QuerySet["AISession"]):
    def bump_state_version(self, **changes: Any) -> int:
        """
        The conditional form of the bump: ``state_version + 1`` in SQL together with ``changes``
        (a status transition, say) on the rows of this queryset; ``updated_at`` moves to now
        unless given. Answers the row count, the verdict of a race.
        """
        changes.setdefault("updated_at", timezone.now())
        return self.update(state_version=F("state_version") + 1, **changes)


_AISessionManagerBase = models.Manager.from_queryset(AISessionQuerySet)


class AISessionManager(_AISessionManagerBase["AISession"]):
    """
    The one API for the session row: locking it and moving ``state_version`` and
    ``updated_at``. ``touch`` and ``bump`` use UPDATE ... RETURNING (PostgreSQL, SQLite 3.35+):
    Django's UPDATE answers a row count only, and the chat turn's query budget
    (``bench/bench_chat.py``) has no room for a read-back.
    """

    def lock(self, session: AISession) -> str | None:
        """Lock the row until the transaction ends; answers its status (None: it is gone)."""
        status: str | None = (
            self.get_queryset()
            .select_for_update()
            .filter(pk=session.pk)
            .values_list("status", flat=True)
            .first()
        )
        return status

    def touch(self, session: AISession, *, now: datetime) -> None:
        """
        Move ``updated_at`` to ``now`` (never backwards). The updated row stays locked until the
        transaction ends, so this doubles as the row lock of a chat turn; the instance gets the
        stored ``state_version`` and ``updated_at``.
        """
        value = connection.ops.adapt_datetimefield_value(now)
        self._returning_update(
            session,
            "updated_at = CASE WHEN updated_at < %s THEN %s ELSE updated_at END",
            [value, value],
        )

    def take_turn(
        self, session: AISession, *, owner: str, until: datetime, now: datetime, handover: str
    ) -> bool:
        """
        Lease the chat turn of ``session`` to ``owner`` until ``until`` (the conditional UPDATE
        settles the race: answers False while another turn holds an unexpired lease). A lease
        held by ``handover`` (the posted message whose stream now opens; "" for none) passes
        to ``owner``. Also moves ``updated_at`` (never backwards) and locks the row like
        ``touch``.
        """
        value = connection.ops.adapt_datetimefield_value(now)
        table = connection.ops.quote_name(self.model._meta.db_table)
        free = "turn_lease_until IS NULL OR turn_lease_until < %s"
        params: list[Any] = [value, value, owner, connection.ops.adapt_datetimefield_value(until)]
        params += [session.pk, value]
        if handover:
            free += " OR turn_owner = %s"
            params.append(handover)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET "  # noqa: S608 - fixed SQL
                "updated_at = CASE WHEN updated_at < %s THEN %s ELSE updated_at END, "
                f"turn_owner = %s, turn_lease_until = %s WHERE id = %s AND ({free}) "
                "RETURNING state_version, updated_at",
                params,
            )
            row = cursor.fetchone()
        if row is None:
            return False
        session.state_version = row[0]
        session.updated_at = _aware(row[1])
        return True

    def end_turn(
        self, session: AISession, *, owners: tuple[str, str], now: datetime | None = None
    ) -> None:
        """
        Give back a lease held by one of ``owners`` (the names of one turn); with ``now`` also
        ``touch`` the row in the same UPDATE (a reply being stored). Another turn's lease is
        left alone.
        """
        if now is None:
            self.get_queryset().filter(pk=session.pk, turn_owner__in=owners).update(
                turn_owner="", turn_lease_until=None
            )
            return
        value = connection.ops.adapt_datetimefield_value(now)
        self._returning_update(
            session,
            "updated_at = CASE WHEN updated_at < %s THEN %s ELSE updated_at END, "
            "turn_lease_until = CASE WHEN turn_owner IN (%s, %s) THEN NULL "
            "ELSE turn_lease_until END, "
            "turn_owner = CASE WHEN turn_owner IN (%s, %s) THEN '' ELSE turn_owner END",
            [value, value, *owners, *owners],
        )

    def renew_turn(
        self, session: AISession, *, owners: tuple[str, str], until: datetime, now: datetime
    ) -> None:
        """
        Keep a lease held by one of ``owners`` until ``until`` (a turn answering queued steps
        before its own) and ``touch`` the row in the same UPDATE; another turn's lease is left.
        """
        value = connection.ops.adapt_datetimefield_value(now)
        self._returning_update(
            session,
            "updated_at = CASE WHEN updated_at < %s THEN %s ELSE updated_at END, "
            "turn_lease_until = CASE WHEN turn_owner IN (%s, %s) THEN %s "
            "ELSE turn_lease_until END",
            [value, value, *owners, connection.ops.adapt_datetimefield_value(until)],
        )

    def bump(self, session: AISession) -> None:
        """``state_version + 1`` and ``updated_at`` = now in one round trip, read back."""
        value = connection.ops.adapt_datetimefield_value(timezone.now())
        self._returning_update(
            session, "state_version = state_version + 1, updated_at = %s", [value]
        )

    def _returning_update(self, session: AISession, assignments: str, params: list[Any]) -> None:
        table = connection.ops.quote_name(self.model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE id = %s "  # noqa: S608 - fixed SQL
                "RETURNING state_version, updated_at",
                [*params, session.pk],
            )
            row = cursor.fetchone()
        if row is None:
            raise self.model.DoesNotExist("The session was deleted meanwhile.")
        session.state_version = row[0]
        session.updated_at = _aware(row[1])


def _aware(value: Any) -> datetime:
    # PostgreSQL answers an aware datetime; SQLite the stored text (naive UTC).
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        raise TypeError(f"Unexpected updated_at value from the database: {value!r}")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


class AISession(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="ai_sessions")
    status = models.CharField(max_length=24, choices=SessionStatus, default=SessionStatus.ACTIVE)
    problem_summary = models.CharField(max_length=200)
    psa_ticket_id = models.CharField(max_length=32, blank=True, default="")
    escalated_to = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_reason = models.TextField(blank=True, default="")
    escalation_package = models.JSONField(default=dict, blank=True)
    resolution_note = models.TextField(blank=True, default="")
    # Bumped atomically (F()) by every change a preview depends on: cache key part.
    state_version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # The chat-turn lease: one reply is written at a time (services.chat). ``turn_owner`` names
    # the turn ("step:<id>" posted and waiting for its stream, "reply:<id>" being answered);
    # an expired lease (a crashed process) is free again.
    turn_owner = models.CharField(max_length=64, blank=True, default="")
    turn_lease_until = models.DateTimeField(null=True, blank=True)

    objects = AISessionManager()

    class Meta:
        verbose_name = "AI session"
        verbose_name_plural = "AI sessions"
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["account", "user", "-updated_at"]),
            # The "picked up" half of a user's list (selectors.my_sessions_page).
            models.Index(
                fields=["account", "escalated_to", "-updated_at"], name="aisession_picked_up_idx"
            ),
            models.Index(fields=["account", "status", "-updated_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SessionStatus.values), name="aisession_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.problem_summary

    def get_absolute_url(self) -> str:
        return f"/sessions/{self.pk}"

    def bump_state_version(self) -> None:
        """Increment the version in SQL (no lost update under concurrency) and read it back."""
        type(self).objects.bump(self)


class StepRole(models.TextChoices):
    USER = "user", "Engineer"
    ASSISTANT = "assistant", "Assistant"


class AISessionStep(models.Model):
    """One chat message: the engineer's or the assistant's (markers stripped for display)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(AISession, on_delete=models.CASCADE, related_name="steps")
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(max_length=16, choices=StepRole)
    content = models.TextField()
    raw_content = models.TextField(blank=True, default="")
    provider = models.CharField(max_length=32, blank=True, default="")
    model = models.CharField(max_length=64, blank=True, default="")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    marker_errors = models.JSONField(default=list, blank=True)
    # An assistant step: the engineer's step it answers (at most one reply per step).
    reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reply"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # An assistant step's Markdown as sanitised HTML, rendered once when the step is written
    # (``save``; migration 0007 backfilled older steps): the page shows it as stored.
    content_html = models.TextField(blank=True, default="", editable=False)

    class Meta:
        verbose_name = "session step"
        verbose_name_plural = "session steps"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["session", "created_at"])]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "content" in update_fields:
            self.content_html = rendered_step_html(self.role, self.content)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "content_html"}
        super().save(*args, **kwargs)

    @property
    def body_html(self) -> SafeString:
        """The assistant's message as HTML: the stored render (rows written in bulk, which
        skips ``save``, render here)."""
        if self.content_html:
            return mark_safe(self.content_html)  # noqa: S308 - nh3-sanitised when written
        return render_markdown(self.content)


def rendered_step_html(role: str, content: str) -> str:
    """What ``content_html`` holds: the sanitised Markdown of an assistant step, else ""."""
    return str(render_markdown(content)) if role == StepRole.ASSISTANT else ""


class TaskKind(models.TextChoices):
    QUESTION = "question", "Question"
    CHECK = "check", "Diagnostic check"
    ACTION = "action", "Action"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DISMISSED = "dismissed", "Dismissed"


class TaskItem(models.Model):
    """
    An item of the task lane. ``uid`` is stable: a later turn that lists the same text (or label)
    keeps the item and its uid; items a turn no longer lists are marked removed.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(AISession, on_delete=models.CASCADE, related_name="task_items")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=TaskKind)
    text = models.TextField()
    command = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=TaskStatus, default=TaskStatus.OPEN)
    answer = models.TextField(blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    introduced_by = models.ForeignKey(
        AISessionStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "task lane item"
        verbose_name_plural = "task lane items"
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["session", "kind", "position"])]

    def __str__(self) -> str:
        return self.text[:60]


class FactSource(models.TextChoices):
    NOTE = "note", "Engineer note"
    QUESTION = "question", "Answered question"
    CHECK = "check", "Diagnostic check"
    AI = "ai", "Assistant"


class FactQuerySet(models.QuerySet["Fact"]):
    def live_in(self, session: AISession) -> FactQuerySet:
        """The session's facts that are not deleted, oldest first (the order everything shows)."""
        return self.filter(session=session, deleted_at__isnull=True).order_by("created_at", "id")


class Fact(models.Model):
    """A confirmed fact in "What we know". Soft-deleted so previews and audits keep history."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(AISession, on_delete=models.CASCADE, related_name="facts")
    text = models.TextField()
    source = models.CharField(max_length=16, choices=FactSource)
    task_item = models.ForeignKey(
        TaskItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="facts"
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = FactQuerySet.as_manager()

    class Meta:
        verbose_name = "fact"
        verbose_name_plural = "facts"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["session", "deleted_at"])]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def editable(self) -> bool:
        """Facts derived from a question or a check are edited through their source."""
        return self.source not in (FactSource.QUESTION, FactSource.CHECK)


class FixStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPLIED_SUCCESS = "applied_success", "Worked"
    APPLIED_FAILED = "applied_failed", "Didn't work"
    APPLIED_PARTIAL = "applied_partial", "Partially worked"
    APPLIED_PENDING = "applied_pending", "Waiting to verify"
    DISMISSED = "dismissed", "Dismissed"


TERMINAL_FIX_STATUSES = frozenset(
    {FixStatus.APPLIED_SUCCESS, FixStatus.APPLIED_FAILED, FixStatus.DISMISSED}
)


class FixDecision(models.TextChoices):
    ONE_OFF = "one_off", "One-off script"
    DRAFT_TEMPLATE = "draft_template", "Draft a template"
    BUILD_TEMPLATE = "build_template", "Build a template"
    DISMISSED = "dismissed", "Dismissed"


class SuggestedFix(models.Model):
    """The assistant's suggested fix. One active (not superseded) fix per session."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(AISession, on_delete=models.CASCADE, related_name="fixes")
    step = models.ForeignKey(
        AISessionStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    confidence = models.PositiveSmallIntegerField(default=50)
    script = models.TextField(blank=True, default="")
    parameters = models.JSONField(default=list, blank=True)
    # A script template in the scripts app, referenced by id (that app depends on this one).
    template_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=24, choices=FixStatus, default=FixStatus.PROPOSED)
    decision = models.CharField(max_length=24, choices=FixDecision, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    partial_notes = models.TextField(blank=True, default="")
    failure_reason = models.TextField(blank=True, default="")
    pending_reason = models.TextField(blank=True, default="")
    ai_outcome_proposal = models.JSONField(null=True, blank=True)
    # Proposed by "Use this fix" from a past session (institutional memory).
    reused_from = models.ForeignKey(
        AISession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "suggested fix"
        verbose_name_plural = "suggested fixes"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=FixStatus.values), name="suggestedfix_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=100),
                name="suggestedfix_confidence_0_100",
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(superseded_at__isnull=True),
                name="suggestedfix_one_active_per_session",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_FIX_STATUSES

    def as_bundle(self) -> dict[str, Any]:
        """The fields previews and the model read about this fix."""
        return {
            "title": self.title,
            "description": self.description,
            "status": self.status,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "partial_notes": self.partial_notes,
            "failure_reason": self.failure_reason,
            "pending_reason": self.pending_reason,
        }


# The search index of institutional memory lives in its own module (imported here so Django
# registers its models with this app).
from sessions_app.memory_models import (  # noqa: E402, F401
    SessionSearchDocument,
    SessionSearchTerm,
)
