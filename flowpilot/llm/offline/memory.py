"""
Institutional memory for the offline assistant: ``context["past_sessions"]`` (the account's most
similar resolved sessions, each with the fix it is remembered by, its outcome and the fixes that
failed there) turned into cause priors and a sentence for the reply.

A cause whose fix worked before weighs more (``WORKED_BOOST`` per session, up to ``MAX_BOOST``);
one whose fix failed before weighs less (``FAILED_BOOST`` per session). Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flowpilot.llm.offline.knowledge import Cause, Runbook
from flowpilot.llm.offline.reasoning import boost_key

WORKED_BOOST = 3.0
FAILED_BOOST = 0.35
MAX_BOOST = 9.0
WORKED = frozenset({"applied_success", "applied_partial"})


@dataclass(frozen=True)
class PastFix:
    session_id: int
    title: str
    worked: bool
    ago: str


def past_fixes(past_sessions: object) -> list[PastFix]:
    """Every fix the past sessions remember: the one each is known by, and those that failed."""
    found: list[PastFix] = []
    if not isinstance(past_sessions, list):
        return found
    for entry in past_sessions:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("session_id"), int):
            continue
        ago = str(entry.get("resolved_ago") or "")
        title = str(entry.get("fix_title") or "")
        if title:
            worked = entry.get("outcome") in WORKED
            failed = entry.get("outcome") == "applied_failed"
            if worked or failed:
                found.append(PastFix(entry["session_id"], title, worked, ago))
        for tried in entry.get("tried_and_failed") or []:
            if isinstance(tried, Mapping) and tried.get("title"):
                found.append(PastFix(entry["session_id"], str(tried["title"]), False, ago))
    return found


def cause_boosts(runbooks: Iterable[Runbook], fixes: list[PastFix]) -> dict[str, float]:
    """``boost_key`` → multiplier for every runbook cause whose fix appears in ``fixes``."""
    boosts: dict[str, float] = {}
    for runbook in runbooks:
        for fix in fixes:
            cause = runbook.cause_for_fix_title(fix.title)
            if cause is None:
                continue
            key = boost_key(runbook, cause)
            factor = boosts.get(key, 1.0) * (WORKED_BOOST if fix.worked else FAILED_BOOST)
            boosts[key] = min(factor, MAX_BOOST)
    return boosts


def merged_boosts(base: Mapping[str, float], extra: Mapping[str, float]) -> dict[str, float]:
    merged = dict(base)
    for key, factor in extra.items():
        merged[key] = merged.get(key, 1.0) * factor
    return merged


def note_for(runbook: Runbook, cause: Cause, fixes: list[PastFix]) -> str:
    """ "This fixed #482 3 days ago." / "Tried before without success: X (#12)." or ""."""
    worked = [
        fix for fix in fixes if fix.worked and runbook.cause_for_fix_title(fix.title) == cause
    ]
    failed = [
        fix
        for fix in fixes
        if not fix.worked and runbook.cause_for_fix_title(fix.title) is not None
    ]
    parts = []
    if worked:
        first = worked[0]
        when = f" {first.ago}" if first.ago else ""
        others = f" (and {len(worked) - 1} more)" if len(worked) > 1 else ""
        parts.append(f"This fixed #{first.session_id}{when}{others}.")
    if failed:
        listed = ", ".join(f"**{fix.title}** (#{fix.session_id})" for fix in failed[:2])
        parts.append(f"Tried before without success: {listed}.")
    return " ".join(parts)


def memory_context(context: Mapping[str, Any]) -> list[PastFix]:
    return past_fixes(context.get("past_sessions"))
