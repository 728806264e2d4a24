"""A session with every kind of child row, and the values that fill every route's converters."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from sessions_app.models import AISessionStep, Fact, FactSource, StepRole, TaskItem
from sessions_app.services import chat, fixes
from sessions_app.services.sessions import create_session


def build_world(engineer: User) -> dict[str, Any]:
    """Real rows of the engineer's own session, so that each route reaches its form or body
    handling instead of stopping at a 404."""
    session, step = create_session(user=engineer, problem="Outlook keeps asking for the password")
    chat.run_reply(session=session, user_step=step, fresh=True)
    fact = Fact.objects.create(
        account_id=session.account_id,
        session=session,
        text="Mailbox is 49 GB",
        source=FactSource.NOTE,
    )
    fix = fixes.propose_fix(
        session=session,
        step=None,
        title="Rebuild the Outlook profile",
        description="A corrupt profile keeps prompting.",
        confidence=70,
        script="Write-Output 'rebuild'",
        parameters=[],
    )
    item = TaskItem.objects.filter(session=session).first()
    if item is None:
        item = TaskItem.objects.create(
            account_id=session.account_id, session=session, kind="question", text="Which client?"
        )
    user_step = AISessionStep.objects.filter(session=session, role=StepRole.USER).first()
    assert user_step is not None
    return {
        "session_id": session.pk,
        "fact_id": fact.pk,
        "fix_id": fix.pk,
        "step_id": user_step.pk,
        "uid": item.uid,
        "kind": "resolution",
        "id": session.pk,
    }
