"""
Suggested-fix lifecycle. The chat service hands marker proposals here; the fix card, its
endpoints and previews build on the same functions.

Every change a preview reads (decision, apply, outcome, drafted script) bumps the session's
``state_version`` in the same transaction. State transitions are settled by a conditional
UPDATE on the status and its row count, so concurrent requests cannot both win.

Lock order: every service here locks the session row first, then touches fix rows, the same
order as a chat turn (``chat.record_reply`` locks the session, then proposes a fix or an
outcome). Taking them the other way round deadlocks against a concurrent reply on PostgreSQL.
The one exception, ``record_ai_outcome_proposal``, is a single UPDATE that never waits for the
session while holding a fix row.
Once a session is resolved its fix no longer changes (409 ``session_closed``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import Conflict, NotFound, Unprocessable
from sessions_app.models import (
    TERMINAL_FIX_STATUSES,
    AISession,
    AISessionStep,
    FixDecision,
    FixStatus,
    SessionStatus,
    SuggestedFix,
)

# An outcome may be recorded from these statuses; the others are terminal.
OUTCOME_ALLOWED_FROM = (FixStatus.PROPOSED, FixStatus.APPLIED_PARTIAL, FixStatus.APPLIED_PENDING)
OUTCOMES = (
    FixStatus.APPLIED_SUCCESS,
    FixStatus.APPLIED_FAILED,
    FixStatus.APPLIED_PARTIAL,
    FixStatus.APPLIED_PENDING,
    FixStatus.DISMISSED,
)
TEXT_LIMIT = 2000
SCRIPT_LIMIT = 100_000


def _lock_session(session: AISession, *, open_only: bool = True) -> None:
    """
    Lock the session row (the first statement of every fix service: see the module's lock
    order). ``open_only`` refuses a resolved session with 409 ``session_closed``.
    """
    status = AISession.objects.lock(session)
    if status is None:
        raise NotFound("No such session.")
    if open_only and status == SessionStatus.RESOLVED:
        raise Conflict(
            "This session is resolved: its suggested fix can no longer change.",
            code="session_closed",
        )


@transaction.atomic
def propose_fix(
    *,
    session: AISession,
    step: AISessionStep | None,
    title: str,
    description: str,
    confidence: int,
    script: str,
    parameters: list[dict[str, Any]],
) -> SuggestedFix:
    """Store a new suggested fix, superseding the active one. Bumps the session's state_version."""
    # The bump comes first: its UPDATE locks the session row before any fix row (the lock
    # order), without a query of its own on the chat turn's path.
    session.bump_state_version()
    now = timezone.now()
    SuggestedFix.objects.filter(session=session, superseded_at__isnull=True).update(
        superseded_at=now, updated_at=now
    )
    fix = SuggestedFix.objects.create(
        account_id=session.account_id,
        session=session,
        step=step,
        title=title[:200],
        description=description,
        confidence=max(0, min(100, int(confidence))),
        script=script,
        parameters=parameters,
    )
    return fix


@transaction.atomic
def record_ai_outcome_proposal(*, session: AISession, outcome: str, reason: str) -> bool:
    """
    Attach the assistant's belief about the active fix's outcome; the engineer confirms it.
    One conditional UPDATE: a fix that became terminal (or was superseded) meanwhile gets
    nothing. Answers whether a fix took the proposal.
    """
    # No session lock of its own: this single UPDATE holds a fix row without waiting for the
    # session afterwards, so it cannot close a lock cycle (the chat turn calling it already
    # holds the session row).
    now = timezone.now()
    updated = SuggestedFix.objects.filter(
        session=session, superseded_at__isnull=True, status__in=OUTCOME_ALLOWED_FROM
    ).update(
        ai_outcome_proposal={"outcome": outcome, "reason": reason, "proposed_at": now.isoformat()},
        updated_at=now,
    )
    return bool(updated)


# --- decisions ----------------------------------------------------------------------------


@transaction.atomic
def record_decision(
    *, session: AISession, fix: SuggestedFix, decision: str, actor: User
) -> SuggestedFix:
    """
    Record the engineer's decision on the fix (what it means for scripts — the rendered
    script, a draft template, the builder — is the script library's part, which calls this
    inside its own transaction). ``dismissed`` supersedes the fix. A superseded fix takes no
    decision (409).
    """
    _lock_session(session)
    if decision not in FixDecision.values:
        raise Unprocessable(
            f"Unknown decision {decision!r}; use one of {', '.join(FixDecision.values)}.",
            code="invalid_decision",
        )
    now = timezone.now()
    changes: dict[str, Any] = {"decision": decision, "decided_at": now, "updated_at": now}
    if decision == FixDecision.DISMISSED:
        changes["superseded_at"] = now
    updated = SuggestedFix.objects.filter(pk=fix.pk, superseded_at__isnull=True).update(**changes)
    if decision == FixDecision.DISMISSED and updated:
        # A fix nobody verified leaves the card as "dismissed"; a recorded outcome stays.
        SuggestedFix.objects.filter(pk=fix.pk, status__in=OUTCOME_ALLOWED_FROM).update(
            status=FixStatus.DISMISSED, ai_outcome_proposal=None
        )
    if not updated:
        raise Conflict("This fix was superseded by a newer one.", code="fix_superseded")
    fix.refresh_from_db()
    session.bump_state_version()
    record_event(
        account=session.account,
        actor=actor,
        type="fix.decision",
        payload={"session_id": session.pk, "fix_id": fix.pk, "decision": decision},
    )
    return fix


# --- apply and outcome --------------------------------------------------------------------


@transaction.atomic
def apply_fix(*, session: AISession, fix: SuggestedFix, actor: User) -> SuggestedFix:
    """
    Mark the fix applied: stamps applied_at once, status stays ``proposed``. Repeating it is a
    no-op; once an outcome is recorded (or the fix is superseded) it answers 409.
    """
    _lock_session(session)
    now = timezone.now()
    updated = SuggestedFix.objects.filter(
        pk=fix.pk,
        superseded_at__isnull=True,
        status=FixStatus.PROPOSED,
        applied_at__isnull=True,
    ).update(applied_at=now, updated_at=now)
    fix.refresh_from_db()
    if updated:
        session.bump_state_version()
        record_event(
            account=session.account,
            actor=actor,
            type="fix.applied",
            payload={"session_id": session.pk, "fix_id": fix.pk},
        )
        return fix
    if fix.superseded_at is not None:
        raise Conflict("This fix was superseded by a newer one.", code="fix_superseded")
    if fix.status != FixStatus.PROPOSED:
        raise Conflict(
            f"An outcome is already recorded for this fix ({fix.get_status_display()}).",
            code="outcome_recorded",
        )
    return fix


def _clean(text: str | None) -> str:
    return (text or "").strip()


def validate_outcome(
    *, outcome: str, failure_reason: str = "", notes: str = "", reason: str = ""
) -> dict[str, str]:
    """
    Check an outcome request before touching the database. Answers the field errors by name
    (``notes`` for partial, ``reason`` for pending) so forms can show them inline.
    """
    errors: dict[str, str] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = f"Choose one of {', '.join(OUTCOMES)}."
    elif outcome == FixStatus.APPLIED_PARTIAL and not _clean(notes):
        errors["notes"] = "Say what worked and what still fails."
    elif outcome == FixStatus.APPLIED_PENDING and not _clean(reason):
        errors["reason"] = "Say what you are waiting on (a reboot, AD replication, a sync…)."
    for name, value in (("failure_reason", failure_reason), ("notes", notes), ("reason", reason)):
        if len(value or "") > TEXT_LIMIT:
            errors[name] = f"Keep it under {TEXT_LIMIT} characters."
    return errors


@transaction.atomic
def record_outcome(
    *,
    session: AISession,
    fix: SuggestedFix,
    outcome: str,
    actor: User,
    failure_reason: str = "",
    notes: str = "",
    reason: str = "",
) -> SuggestedFix:
    """
    Record the verified outcome — the one validator of an outcome, for the page and the API
    (field errors → 422 with ``errors`` by field name). Partial and pending may move to any
    outcome; success, failed and dismissed are terminal (409). Success and failed stamp
    verified_at (and applied_at if missing); partial and pending stamp applied_at only. A
    terminal outcome clears the AI proposal. One conditional UPDATE decides concurrent
    requests: exactly one terminal wins.
    """
    errors = validate_outcome(
        outcome=outcome, failure_reason=failure_reason, notes=notes, reason=reason
    )
    if errors:
        field, message = next(iter(errors.items()))
        raise Unprocessable(message, code=f"{field}_invalid", extra={"errors": errors})
    _lock_session(session)
    now = timezone.now()
    changes: dict[str, Any] = {"status": outcome, "updated_at": now}
    if outcome != FixStatus.DISMISSED:
        changes["applied_at"] = Coalesce(F("applied_at"), Value(now))
    if outcome in (FixStatus.APPLIED_SUCCESS, FixStatus.APPLIED_FAILED):
        changes["verified_at"] = now
    if outcome == FixStatus.APPLIED_FAILED:
        changes["failure_reason"] = _clean(failure_reason or reason)
    elif outcome == FixStatus.APPLIED_PARTIAL:
        changes["partial_notes"] = _clean(notes)
    elif outcome == FixStatus.APPLIED_PENDING:
        changes["pending_reason"] = _clean(reason)
    if outcome in TERMINAL_FIX_STATUSES:
        changes["ai_outcome_proposal"] = None
    updated = SuggestedFix.objects.filter(
        pk=fix.pk, superseded_at__isnull=True, status__in=OUTCOME_ALLOWED_FROM
    ).update(**changes)
    fix.refresh_from_db()
    if not updated:
        if fix.superseded_at is not None:
            raise Conflict("This fix was superseded by a newer one.", code="fix_superseded")
        raise Conflict(
            f"This fix already has a final outcome ({fix.get_status_display()}).",
            code="outcome_final",
            extra={"status": fix.status},
        )
    session.bump_state_version()
    record_event(
        account=session.account,
        actor=actor,
        type="fix.outcome",
        payload={"session_id": session.pk, "fix_id": fix.pk, "outcome": outcome},
    )
    return fix


@transaction.atomic
def clear_ai_outcome_proposal(*, session: AISession, fix: SuggestedFix) -> SuggestedFix:
    """ "Not yet": drop the assistant's proposal for good. Status and state_version stay."""
    _lock_session(session, open_only=False)
    SuggestedFix.objects.filter(pk=fix.pk).update(
        ai_outcome_proposal=None, updated_at=timezone.now()
    )
    fix.refresh_from_db(fields=["ai_outcome_proposal", "updated_at"])
    return fix


# --- drafted script -----------------------------------------------------------------------


@transaction.atomic
def store_fix_script(
    *,
    session: AISession,
    fix: SuggestedFix,
    script: str,
    parameters: list[dict[str, Any]],
    actor: User,
) -> SuggestedFix:
    """
    Store a drafted script and its (already validated) parameter schema on the fix without
    stamping applied_at — the inline builder's submit, owned by the script library. Empty →
    422; a terminal or superseded fix → 409.
    """
    _lock_session(session)
    body = (script or "").strip()
    if not body:
        raise Unprocessable("The script is empty.", code="script_empty")
    if len(body) > SCRIPT_LIMIT:
        raise Unprocessable("The script is too long.", code="script_too_long")
    cleaned = list(parameters)
    now = timezone.now()
    updated = (
        SuggestedFix.objects.filter(pk=fix.pk, superseded_at__isnull=True)
        .exclude(status__in=TERMINAL_FIX_STATUSES)
        .update(script=body, parameters=cleaned, updated_at=now)
    )
    fix.refresh_from_db()
    if not updated:
        raise Conflict("This fix is closed; its script can no longer change.", code="fix_closed")
    session.bump_state_version()
    record_event(
        account=session.account,
        actor=actor,
        type="fix.draft_submitted",
        payload={"session_id": session.pk, "fix_id": fix.pk, "parameters": len(cleaned)},
    )
    return fix
