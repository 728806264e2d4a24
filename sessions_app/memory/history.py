"""
Past sessions played through the real services (create, facts, fixes with outcomes, resolve),
for the relevance corpus, the demo's history and the benchmarks.
"""

from __future__ import annotations

from accounts.models import User
from sessions_app.memory.corpus import PastSession
from sessions_app.models import AISession
from sessions_app.services import facts, fixes, resolution, sessions


def record_past_session(*, user: User, past: PastSession) -> AISession:
    """A resolved session telling ``past``'s story; indexing is queued on commit as usual."""
    session, _ = sessions.create_session(user=user, problem=past.problem, psa_ticket_id=past.ticket)
    for text in past.facts:
        facts.add_note(session=session, user=user, text=text)
    for title, reason in past.failed:
        tried = fixes.propose_fix(
            session=session,
            step=None,
            title=title,
            description="",
            confidence=50,
            script="",
            parameters=[],
        )
        fixes.record_outcome(
            session=session, fix=tried, outcome="applied_failed", actor=user, failure_reason=reason
        )
    fix = fixes.propose_fix(
        session=session,
        step=None,
        title=past.fix,
        description=past.fix_description,
        confidence=80,
        script=past.script,
        parameters=[dict(parameter) for parameter in past.parameters],
    )
    notes = "Worked for part of the users." if past.outcome == "applied_partial" else ""
    fixes.record_outcome(session=session, fix=fix, outcome=past.outcome, actor=user, notes=notes)
    resolution.post_resolution_note(session=session, actor=user, markdown=past.note)
    session.refresh_from_db()
    return session
