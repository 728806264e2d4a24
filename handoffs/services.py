"""
Writes of the hand-off flow: create a hand-off (escalate or park), claim one, the assessment,
the seen marks and the bell.

``create_handoff`` is the one canonical path behind ``POST …/handoff``, the ``POST …/escalate``
shim, ``escalation-package/post`` and the page's "Escalate instead → Confirm & post" (those
sessions_app paths reach it through the escalation port this app registers). The package is
written before the transaction opens (a model call when nothing was edited), so no database
transaction waits on a model; a session linked to a ticket then writes the package to the PSA
(the ``sessions_app.ports`` write-back, also outside the transaction, as resolving does). Inside
one transaction: the session flips, the hand-off row, the audit event and the bell
notifications. Only after commit: the live event, the e-mail/webhook fan-out and the
assessment task; a rolled-back hand-off sends nothing.

``claim_handoff`` settles races with one conditional UPDATE ``WHERE claimed_by IS NULL``: under
Read Committed a second claimer's UPDATE waits for the first, re-checks the condition and
matches nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.permissions import require_engineer_or_admin
from accounts.services.audit import build_event, insert_select, record_event, save_event
from flowpilot.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable
from handoffs import events, package, tasks
from handoffs.models import (
    INTENT_ALIASES,
    AppNotification,
    AssessmentStatus,
    HandoffIntent,
    HandoffSeen,
    SessionHandoff,
)
from handoffs.notifications import NOTIFY_ROLES, create_notifications
from sessions_app.models import AISession, SessionStatus
from sessions_app.ports import ticket_writeback
from sessions_app.realtime import publish_status_on_commit
from sessions_app.services.previews import build_bundle, cached_preview, get_preview
from sessions_app.services.resolution import (
    REASON_LIMIT,
    PostResult,
    already_closed,
    markdown_or_preview,
)

logger = logging.getLogger(__name__)

OPEN_STATUSES = (SessionStatus.ACTIVE, SessionStatus.PARKED)


@dataclass(frozen=True)
class HandoffResult:
    handoff: SessionHandoff
    session: AISession
    markdown: str
    notified: int = 0
    psa: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **handoff_dict(self.handoff),
            "status": self.session.status,
            "state_version": self.session.state_version,
            "markdown": self.markdown,
            "notified": self.notified,
            "psa": self.psa,
        }


@dataclass(frozen=True)
class ClaimResult:
    handoff_id: Any
    session_id: int
    claimed_by: User
    claimed_at: datetime
    already_yours: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.handoff_id),
            "session_id": self.session_id,
            "claimed_by": {"id": self.claimed_by.pk, "name": self.claimed_by.display_name},
            "claimed_at": self.claimed_at.isoformat(),
            "already_yours": self.already_yours,
            "url": f"/escalations/{self.handoff_id}",
        }


def handoff_dict(handoff: SessionHandoff) -> dict[str, Any]:
    return {
        "id": str(handoff.pk),
        "session_id": handoff.session_id,
        "intent": handoff.intent,
        "from_user_id": handoff.from_user_id,
        "target_user_id": handoff.target_user_id,
        "reason": handoff.reason,
        "psa_ticket_id": handoff.psa_ticket_id or None,
        "claimed_by_id": handoff.claimed_by_id,
        "claimed_at": handoff.claimed_at.isoformat() if handoff.claimed_at else None,
        "assessment_status": handoff.assessment_status,
        "ai_assessment": handoff.ai_assessment or None,
        "created_at": handoff.created_at.isoformat(),
        "url": handoff.get_absolute_url(),
    }


# --- creating a hand-off ----------------------------------------------------------------------


def clean_intent(value: Any) -> str:
    intent = INTENT_ALIASES.get(str(value), str(value or ""))
    if intent not in HandoffIntent.values:
        raise DomainError("Intent must be 'escalate' or 'park'.", code="intent_invalid")
    return intent


def _clean_reason(reason: Any) -> str:
    text = str(reason or "").strip()
    if len(text) > REASON_LIMIT:
        raise Unprocessable("Keep the reason under 2000 characters.", code="reason_invalid")
    return text


def _target(actor: User, target_user_id: Any) -> User | None:
    if target_user_id in (None, ""):
        return None
    try:
        target_id = int(target_user_id)
    except (TypeError, ValueError):
        raise DomainError("Pick a colleague from the list.", code="target_invalid") from None
    if target_id == actor.pk:
        raise DomainError("You cannot hand a session to yourself.", code="self_target")
    target = User.objects.filter(
        pk=target_id, account_id=actor.account_id, is_active=True, role__in=NOTIFY_ROLES
    ).first()
    if target is None:
        raise DomainError(
            "That colleague cannot pick up sessions in this account.", code="target_invalid"
        )
    return target


def package_text(
    session: AISession, markdown: str | None, reason: str, *, wait_for_model: bool
) -> tuple[str, bool]:
    """
    The package to store now, and whether the assistant should rewrite it after commit. An
    edited text or an already written preview (one narrow query and a cache read) is used as
    it is; otherwise the engineer is not made to wait on the model: a factual draft is stored
    and the worker replaces it. Only a PSA write-back, which posts the text now, waits for it.
    """
    if (markdown or "").strip():
        return markdown_or_preview(session, markdown, "escalation_package"), False
    hit = cached_preview(
        account_id=session.account_id, session_id=session.pk, kind="escalation_package"
    )
    if hit is not None:
        return hit.markdown.strip(), False
    if not wait_for_model:
        return package.draft_package(build_bundle(session), reason), True
    try:
        return get_preview(session=session, kind="escalation_package").markdown.strip(), False
    except DomainError as exc:
        logger.warning("Escalation package for session %s fell back: %s", session.pk, exc.detail)
        return package.fallback_package(build_bundle(session), reason), False


def create_handoff(
    *,
    session: AISession,
    actor: User,
    intent: str,
    reason: str = "",
    target_user_id: Any = None,
    markdown: str | None = None,
) -> HandoffResult:
    """Escalate or park a session (the canonical path; see the module docstring)."""
    require_engineer_or_admin(actor)
    intent = clean_intent(intent)
    reason = _clean_reason(reason)
    target = _target(actor, target_user_id)
    if session.status == SessionStatus.RESOLVED or (
        session.status == SessionStatus.ESCALATED
        or (intent == HandoffIntent.PARK and session.status == SessionStatus.PARKED)
    ):
        # Known closed already: no preview, no model call.
        raise _refused(session, intent, refresh=False)
    escalate = intent == HandoffIntent.ESCALATE
    writeback = ticket_writeback() if session.psa_ticket_id else None
    text, rewrite = (
        package_text(session, markdown, reason, wait_for_model=writeback is not None)
        if escalate
        else ("", False)
    )
    snapshot = build_bundle(session)
    receipt = None
    if escalate and writeback is not None:
        # Outside the transaction, like every PSA call: a refusal (DomainError) leaves the
        # session as it was and nothing is created.
        receipt = writeback.post_escalation(
            account=session.account, actor=actor, ticket_id=session.psa_ticket_id, text=text
        )
    return _write_handoff(
        session=session,
        actor=actor,
        intent=intent,
        reason=reason,
        target=target,
        text=text,
        snapshot=snapshot,
        receipt=receipt,
        rewrite_package=rewrite,
    )


def _refused(session: AISession, intent: str, *, refresh: bool = True) -> Conflict:
    if refresh:
        session.refresh_from_db(fields=["status"])
    if intent == HandoffIntent.PARK and session.status == SessionStatus.PARKED:
        return Conflict("This session is already parked.", code="already_parked")
    return already_closed(session, refresh=False)


@transaction.atomic
def _write_handoff(
    *,
    session: AISession,
    actor: User,
    intent: str,
    reason: str,
    target: User | None,
    text: str,
    snapshot: dict[str, Any],
    receipt: dict[str, Any] | None = None,
    rewrite_package: bool = False,
) -> HandoffResult:
    now = timezone.now()
    escalate = intent == HandoffIntent.ESCALATE
    changes: dict[str, Any] = {
        "status": SessionStatus.ESCALATED if escalate else SessionStatus.PARKED,
        "escalation_reason": reason,
        "updated_at": now,
    }
    if escalate:
        changes["escalated_at"] = now
        changes["escalated_to"] = target
        changes["escalation_package"] = {
            "markdown": text,
            "reason": reason,
            "state_version": session.state_version,
            "created_at": now.isoformat(),
            "created_by": actor.pk,
        }
    allowed = OPEN_STATUSES if escalate else (SessionStatus.ACTIVE,)
    updated = AISession.objects.filter(pk=session.pk, status__in=allowed).bump_state_version(
        **changes
    )
    if not updated:
        raise _refused(session, intent)
    session.refresh_from_db()
    handoff = SessionHandoff.objects.create(
        account_id=session.account_id,
        session=session,
        intent=intent,
        from_user=actor,
        target_user=target,
        reason=reason,
        snapshot=snapshot,
        package_markdown=text,
        psa_ticket_id=session.psa_ticket_id,
        created_at=now,
        assessment_status=AssessmentStatus.PENDING if escalate else AssessmentStatus.UNAVAILABLE,
    )
    record_event(
        account=session.account,
        actor=actor,
        type="session.escalated" if escalate else "session.parked",
        payload={
            "session_id": session.pk,
            "handoff_id": str(handoff.pk),
            "target_user_id": target.pk if target else None,
            "reason": reason[:200],
            "via": "psa" if receipt else "local",
        },
    )
    notified = 0
    if escalate:
        # Park is private: no bell, no live event, no e-mail, no assessment.
        # The status pill in the other tabs of the session's people (their own sockets only).
        publish_status_on_commit(session, actor=actor)
        notified = create_notifications(handoff=handoff, session=session, actor=actor)
        events.publish_handoff_created_on_commit(handoff)
        # robust: a broker (or, in eager mode, an SMTP server) failing is logged and never
        # turns a committed hand-off into an error for the engineer.
        handoff_id = str(handoff.pk)
        transaction.on_commit(lambda: tasks.fan_out_handoff.delay(handoff_id), robust=True)
        transaction.on_commit(lambda: tasks.assess_handoff.delay(handoff_id), robust=True)
        if rewrite_package:
            transaction.on_commit(lambda: tasks.write_package.delay(handoff_id), robust=True)
    return HandoffResult(
        handoff=handoff, session=session, markdown=text, notified=notified, psa=receipt
    )


def escalate_via_handoff(
    *, session: AISession, actor: User, markdown: str | None, reason: str
) -> PostResult:
    """The escalation port's implementation (``escalation-package/post`` and the page)."""
    result = create_handoff(
        session=session,
        actor=actor,
        intent=HandoffIntent.ESCALATE,
        reason=reason,
        markdown=markdown,
    )
    return PostResult(
        outcome="escalated" if result.psa else "escalated_local",
        session=result.session,
        markdown=result.markdown,
        psa=result.psa,
        extra={
            "handoff_id": str(result.handoff.pk),
            "handoff_url": result.handoff.get_absolute_url(),
        },
    )


# --- claiming ---------------------------------------------------------------------------------


def ago(then: datetime, now: datetime | None = None) -> str:
    """ "3 seconds ago", "1 minute ago", "2 hours ago"."""
    seconds = max(0, int(((now or timezone.now()) - then).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size or unit == "second":
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class _Claim:
    """What one claim statement found: won, or the hand-off as this claimer's snapshot saw it."""

    won: bool
    from_user_id: int
    intent: str = HandoffIntent.ESCALATE
    claimed_by_id: int | None = None
    claimed_at: datetime | None = None
    claimer_name: str = ""
    claimer_email: str = ""


def _claim_sql(audit_insert: str) -> str:
    """
    PostgreSQL: the pick-up in one statement, atomic on its own (no BEGIN/COMMIT round trips).
    The conditional UPDATE ``WHERE claimed_by IS NULL`` decides the race; the same statement
    points the session at the winner, marks the hand-off seen and appends the audit event
    (data-modifying CTEs run once, whether read or not). It returns the escalator of the
    hand-off won, or else the hand-off with its claimer as this statement's snapshot saw it
    (no row: not this account's).
    """
    handoffs = SessionHandoff._meta.db_table
    sessions = AISession._meta.db_table
    seen = HandoffSeen._meta.db_table
    users = User._meta.db_table
    return f"""
        WITH won AS (
            UPDATE {handoffs} SET claimed_by_id = %(actor)s, claimed_at = %(now)s
            WHERE id = %(handoff)s AND account_id = %(account)s AND session_id = %(session)s
              AND intent = %(intent)s AND claimed_by_id IS NULL AND from_user_id <> %(actor)s
            RETURNING id, session_id, from_user_id
        ), moved AS (
            UPDATE {sessions} AS s SET escalated_to_id = %(actor)s, updated_at = %(now)s
            FROM won WHERE s.id = won.session_id AND s.account_id = %(account)s
            RETURNING s.id
        ), marked AS (
            INSERT INTO {seen} (account_id, handoff_id, user_id, seen_at)
            SELECT %(account)s, won.id, %(actor)s, %(now)s FROM won
            ON CONFLICT (handoff_id, user_id) DO UPDATE SET seen_at = EXCLUDED.seen_at
            RETURNING 1
        ), audited AS (
            {audit_insert}
            RETURNING 1
        )
        SELECT true, from_user_id, NULL, NULL, NULL, NULL, NULL FROM won
        UNION ALL
        SELECT false, h.from_user_id, h.intent, h.claimed_by_id, h.claimed_at, u.name, u.email
        FROM {handoffs} AS h LEFT JOIN {users} AS u ON u.id = h.claimed_by_id
        WHERE h.id = %(handoff)s AND h.account_id = %(account)s AND h.session_id = %(session)s
          AND NOT EXISTS (SELECT 1 FROM won)
    """  # noqa: S608 - table names from the models, values bound


def _try_claim(
    *, actor: User, session_id: int, handoff_id: uuid.UUID, now: datetime, audit: AuditEvent
) -> _Claim | None:
    """One attempt: the claim and its audit event in one transaction. None: no such hand-off."""
    if connection.vendor == "postgresql":
        audit_insert, audit_params = insert_select(audit, source="won")
        with connection.cursor() as cursor:
            cursor.execute(
                _claim_sql(audit_insert),
                {
                    "actor": actor.pk,
                    "now": now,
                    "handoff": handoff_id,
                    "account": actor.account_id,
                    "session": session_id,
                    "intent": HandoffIntent.ESCALATE.value,
                    **audit_params,
                },
            )
            row = cursor.fetchone()
        if row is None:
            return None
        won, from_user_id, intent, claimed_by_id, claimed_at, name, email = row
        if won:
            return _Claim(won=True, from_user_id=int(from_user_id))
        return _Claim(
            won=False,
            from_user_id=int(from_user_id),
            intent=intent,
            claimed_by_id=claimed_by_id,
            claimed_at=claimed_at,
            claimer_name=name or "",
            claimer_email=email or "",
        )
    # Elsewhere the same writes, one by one, in one transaction.
    with transaction.atomic():
        claimable = SessionHandoff.objects.filter(
            pk=handoff_id,
            account_id=actor.account_id,
            session_id=session_id,
            intent=HandoffIntent.ESCALATE,
            claimed_by__isnull=True,
        ).exclude(from_user_id=actor.pk)
        if claimable.update(claimed_by=actor, claimed_at=now):
            AISession.objects.filter(pk=session_id, account_id=actor.account_id).update(
                escalated_to=actor, updated_at=now
            )
            mark_seen(actor=actor, handoff_id=handoff_id, now=now)
            save_event(audit)
            escalator = SessionHandoff.objects.values_list("from_user_id", flat=True)
            return _Claim(won=True, from_user_id=escalator.get(pk=handoff_id))
    found = (
        SessionHandoff.objects.filter(
            pk=handoff_id, account_id=actor.account_id, session_id=session_id
        )
        .values_list(
            "from_user_id",
            "intent",
            "claimed_by_id",
            "claimed_at",
            "claimed_by__name",
            "claimed_by__email",
        )  # fmt: skip
        .first()
    )
    if found is None:
        return None
    from_user_id, intent, claimed_by_id, claimed_at, name, email = found
    return _Claim(
        won=False,
        from_user_id=from_user_id,
        intent=intent,
        claimed_by_id=claimed_by_id,
        claimed_at=claimed_at,
        claimer_name=name or "",
        claimer_email=email or "",
    )


def claim_handoff(*, actor: User, session_id: int, handoff_id: Any) -> ClaimResult:
    """
    Pick up an escalation: exactly one of many racing claimers wins (module docstring). The
    winner's session shows in their sidebar (``escalated_to``) and its unread dot is gone. On
    PostgreSQL a claim, won or lost, is one statement (``_claim_sql``); the live events are
    built on the publisher thread after commit.
    """
    require_engineer_or_admin(actor)
    try:
        handoff_uuid = (
            handoff_id if isinstance(handoff_id, uuid.UUID) else uuid.UUID(str(handoff_id))
        )
    except ValueError:
        raise NotFound("Not found.") from None
    audit = build_event(
        account_id=actor.account_id,
        actor=actor,
        type="handoff.claimed",
        payload={"session_id": session_id, "handoff_id": str(handoff_uuid)},
    )
    for _attempt in range(3):
        now = timezone.now()
        claim = _try_claim(
            actor=actor, session_id=session_id, handoff_id=handoff_uuid, now=now, audit=audit
        )
        if claim is None:
            raise NotFound("Not found.")
        if claim.won:
            events.publish_handoff_claimed_on_commit(
                account_id=actor.account_id,
                handoff_id=str(handoff_uuid),
                session_id=session_id,
                claimed_by=actor,
                claimed_at=now,
                escalator_id=claim.from_user_id,
            )
            return ClaimResult(
                handoff_id=handoff_uuid, session_id=session_id, claimed_by=actor, claimed_at=now
            )
        result = _not_won(actor=actor, session_id=session_id, handoff_id=handoff_uuid, claim=claim)
        if result is not None:
            return result
        # Lost to a claimer who committed after this statement's snapshot was taken (its
        # UPDATE waited and matched nothing, its read still saw the hand-off unclaimed): the
        # next statement sees who won.
    raise Conflict("Someone else is picking this up; try again.", code="claim_busy")


def _not_won(
    *, actor: User, session_id: int, handoff_id: uuid.UUID, claim: _Claim
) -> ClaimResult | None:
    """Why this claimer did not win: refused, already theirs, 409 naming the winner, or None."""
    if claim.intent != HandoffIntent.ESCALATE:
        raise DomainError("A parked session is not picked up from the queue.", code="not_claimable")
    if claim.from_user_id == actor.pk:
        raise Forbidden("You escalated this session: a colleague picks it up.", code="own_handoff")
    if claim.claimed_by_id is None or claim.claimed_at is None:
        return None
    if claim.claimed_by_id == actor.pk:
        return ClaimResult(
            handoff_id=handoff_id,
            session_id=session_id,
            claimed_by=actor,
            claimed_at=claim.claimed_at,
            already_yours=True,
        )
    winner = User(pk=claim.claimed_by_id, name=claim.claimer_name, email=claim.claimer_email)
    raise Conflict(
        f"Already claimed by {winner.display_name} {ago(claim.claimed_at)}.",
        code="already_claimed",
        extra={
            "claimed_by": {"id": winner.pk, "name": winner.display_name},
            "claimed_at": claim.claimed_at.isoformat(),
        },
    )


def mark_seen(*, actor: User, handoff_id: Any, now: datetime | None = None) -> None:
    """Clear the unread dot of a hand-off for this user (opening or claiming it)."""
    HandoffSeen.objects.bulk_create(
        [
            HandoffSeen(
                account_id=actor.account_id,
                handoff_id=handoff_id,
                user=actor,
                seen_at=now or timezone.now(),
            )
        ],
        update_conflicts=True,
        unique_fields=["handoff", "user"],
        update_fields=["seen_at"],
    )


def hide_chips(*, actor: User, handoff: SessionHandoff) -> None:
    """The senior closed the suggested-step chips (✕) or sent a first message."""
    now = timezone.now()
    HandoffSeen.objects.bulk_create(
        [
            HandoffSeen(
                account_id=actor.account_id,
                handoff=handoff,
                user=actor,
                seen_at=now,
                chips_hidden_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["handoff", "user"],
        update_fields=["chips_hidden_at"],
    )


@transaction.atomic
def retry_assessment(*, actor: User, handoff: SessionHandoff) -> SessionHandoff:
    """ "Retry assessment": back to pending (only from unavailable) and queued again."""
    require_engineer_or_admin(actor)
    updated = SessionHandoff.objects.filter(
        pk=handoff.pk, assessment_status=AssessmentStatus.UNAVAILABLE
    ).update(assessment_status=AssessmentStatus.PENDING, assessment_error="")
    if updated:
        handoff.assessment_status = AssessmentStatus.PENDING
        handoff.assessment_error = ""
        handoff_id = str(handoff.pk)
        transaction.on_commit(lambda: tasks.assess_handoff.delay(handoff_id), robust=True)
    return handoff


# --- the first action after a pick-up ---------------------------------------------------------


def record_first_action(*, session_id: int, at: datetime) -> int:
    """
    A step was saved in the session at ``at``: every hand-off of it picked up at or before that
    moment and still without an earlier first action gets it (one conditional UPDATE; a later
    step matches nothing). Connected to ``AISessionStep``'s ``post_save`` in ``apps.py``.
    """
    return (
        SessionHandoff.objects.filter(
            session_id=session_id, claimed_at__isnull=False, claimed_at__lte=at
        )
        .filter(Q(first_action_at__isnull=True) | Q(first_action_at__gt=at))
        .update(first_action_at=at)
    )


# --- the bell ---------------------------------------------------------------------------------


def mark_notification_read(*, user: User, notification_id: int) -> AppNotification:
    notification = AppNotification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotFound("Not found.")
    if notification.read_at is None:
        now = timezone.now()
        AppNotification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    events.publish_bell_on_commit(user)
    return notification


def mark_all_notifications_read(*, user: User) -> int:
    count = AppNotification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    events.publish_bell_on_commit(user)
    return count
