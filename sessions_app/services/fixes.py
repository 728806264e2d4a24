"""
Suggested-fix lifecycle. The chat service hands marker proposals here; the fix card, its
endpoints and previews build on the same functions.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from sessions_app.models import AISession, AISessionStep, SuggestedFix


def active_fix(session: AISession) -> SuggestedFix | None:
    return SuggestedFix.objects.filter(session=session, superseded_at__isnull=True).first()


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
    session.bump_state_version()
    return fix


@transaction.atomic
def record_ai_outcome_proposal(*, session: AISession, outcome: str, reason: str) -> bool:
    """Attach the assistant's belief about the active fix's outcome; the engineer confirms it."""
    fix = active_fix(session)
    if fix is None or fix.is_terminal:
        return False
    fix.ai_outcome_proposal = {
        "outcome": outcome,
        "reason": reason,
        "proposed_at": timezone.now().isoformat(),
    }
    fix.updated_at = timezone.now()
    fix.save(update_fields=["ai_outcome_proposal", "updated_at"])
    return True
