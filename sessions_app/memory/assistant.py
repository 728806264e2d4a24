"""
What the assistant learns from institutional memory on a chat turn: the account's most similar
resolved sessions, bounded and redacted, as ``context["past_sessions"]``.

Both providers read it: the offline assistant moves a runbook cause's prior by how its fix did
in those sessions (and says so: "this fixed #482 3 days ago"); Claude gets it inside the prompt's
context block. Only titles, outcomes and short reasons go in — never a script.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.timesince import timesince

from sessions_app.memory.redaction import redact_script
from sessions_app.memory.selectors import similar_for_session
from sessions_app.models import AISession

PROMPT_SESSIONS = 3
FIELD_LIMIT = 160
# The whole block stays small next to the conversation (≈ 300 tokens).
BLOCK_LIMIT = 1200


def _clip(text: str, limit: int = FIELD_LIMIT) -> str:
    text = " ".join(redact_script(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def past_sessions_for_prompt(
    session: AISession, facts: list[str] | None = None
) -> list[dict[str, Any]]:
    matches = similar_for_session(session, facts=facts or [], first_message="")
    now = timezone.now()
    block: list[dict[str, Any]] = []
    used = 0
    for match in matches[:PROMPT_SESSIONS]:
        doc = match.document
        entry = {
            "session_id": doc.session_id,
            "problem": _clip(doc.problem.split("\n", 1)[0]),
            "fix_title": _clip(doc.fix_title),
            "outcome": doc.outcome or None,
            "resolved_ago": f"{timesince(doc.resolved_at, now).split(',')[0]} ago",
            "tried_and_failed": [
                {
                    "title": _clip(item.get("title", "")),
                    "reason": _clip(item.get("reason", ""), 120),
                }
                for item in (doc.failed_fixes or [])[:2]
            ],
        }
        size = len(str(entry))
        if block and used + size > BLOCK_LIMIT:
            break
        block.append(entry)
        used += size
    return block


def prompt_context_source(session: AISession, context: dict[str, Any]) -> dict[str, Any]:
    """The ``sessions_app.ports`` prompt-context source: nothing when memory has nothing."""
    facts = [str(fact) for fact in context.get("facts") or []]
    past = past_sessions_for_prompt(session, facts)
    return {"past_sessions": past} if past else {}
