"""Builders shared by the hand-off tests: data is made through the real services."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from handoffs import services
from handoffs.models import SessionHandoff
from sessions_app.models import AISession


def make_session(
    user: User, problem: str = "Outlook is failing to sync email", **extra: Any
) -> AISession:
    return AISession.objects.create(
        account=user.account, user=user, problem_summary=problem, **extra
    )


def escalate(
    user: User,
    *,
    session: AISession | None = None,
    reason: str = "Needs an Exchange admin",
    target: User | None = None,
    markdown: str = "## Problem\n\nOutlook sync.",
) -> SessionHandoff:
    session = session or make_session(user)
    result = services.create_handoff(
        session=session,
        actor=user,
        intent="escalate",
        reason=reason,
        target_user_id=target.pk if target else None,
        markdown=markdown,
    )
    return result.handoff


def claim_url(handoff: SessionHandoff) -> str:
    return f"/api/v1/ai-sessions/{handoff.session_id}/handoffs/{handoff.pk}/claim"
