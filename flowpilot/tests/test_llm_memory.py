"""The offline assistant uses institutional memory: past outcomes move a cause and are named."""

from __future__ import annotations

import re
from typing import Any

from flowpilot.llm.offline import memory
from flowpilot.llm.offline.chat import chat_reply
from flowpilot.llm.offline.knowledge import load_runbooks
from flowpilot.llm.types import Message

PROBLEM = "Outlook is not syncing mail"
CACHE_FIX = "Rebuild the Outlook offline cache"
CREDENTIALS_FIX = "Clear cached Office credentials and rebuild the Outlook offline cache"


def _suggested(context: dict[str, Any]) -> tuple[str, str]:
    messages = [
        Message("user", PROBLEM),
        Message("assistant", "Thanks — this looks like Outlook sync."),
        Message("user", "what do you suggest?"),
    ]
    reply = chat_reply(messages, {"problem": PROBLEM, **context})
    title = re.search(r'"title": "([^"]*)"', reply)
    assert title is not None, reply
    return title.group(1), reply


def _past(outcome: str, title: str = CACHE_FIX, failed: str = "") -> list[dict[str, Any]]:
    return [
        {
            "session_id": 482,
            "problem": "Outlook shows old mail",
            "fix_title": title,
            "outcome": outcome,
            "resolved_ago": "6 days ago",
            "tried_and_failed": [{"title": failed, "reason": "no change"}] if failed else [],
        }
    ]


def test_without_memory_the_most_common_cause_leads() -> None:
    title, reply = _suggested({})
    assert title == CREDENTIALS_FIX
    assert "#482" not in reply


def test_a_fix_that_worked_before_ranks_higher_and_says_so() -> None:
    title, reply = _suggested({"past_sessions": _past("applied_success")})
    assert title == CACHE_FIX
    assert "This fixed #482 6 days ago." in reply
    assert "worked here before" in reply


def test_a_fix_that_failed_before_ranks_lower_and_is_mentioned() -> None:
    past = _past("applied_success", title=CACHE_FIX, failed=CREDENTIALS_FIX)
    title, reply = _suggested({"past_sessions": past})
    assert title == CACHE_FIX
    assert f"Tried before without success: **{CREDENTIALS_FIX}** (#482)." in reply
    boosts = memory.cause_boosts(load_runbooks(), memory.past_fixes(past))
    assert boosts["outlook-sync:credentials"] < 1 < boosts["outlook-sync:offline-cache"]


def test_unknown_or_malformed_memory_changes_nothing() -> None:
    baseline = _suggested({})
    for past in (None, "junk", [{"session_id": "x"}], _past("applied_success", "Unknown fix")):
        assert _suggested({"past_sessions": past})[0] == baseline[0]
