"""The ranked hypothesis: a runbook's causes scored by the evidence a conversation produced.

``rank_causes`` is pure. Each cause starts from its ``prior`` (times an optional ``boost``
from the caller, e.g. how often it was the answer in past sessions), gains for every piece of
evidence ``for`` it and loses more for every piece ``against`` it; causes already ruled out
(their fix failed) sink to the end. ``confidence`` turns a cause's evidence into the 0-100
figure a suggested fix carries.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from flowpilot.llm.offline.knowledge import Cause, Runbook

SUPPORT_WEIGHT = 1.0
AGAINST_WEIGHT = 1.5
NO_FIX_CONFIDENCE = 60


@dataclass(frozen=True)
class RankedCause:
    cause: Cause
    score: float
    supporting: tuple[str, ...]
    contradicting: tuple[str, ...]
    ruled_out: bool = False


def boost_key(runbook: Runbook, cause: Cause) -> str:
    """The key a caller uses to boost a cause: ``"<runbook id>:<cause id>"``."""
    return f"{runbook.id}:{cause.id}"


def rank_causes(
    runbook: Runbook,
    evidence: Collection[str],
    *,
    boosts: Mapping[str, float] | None = None,
    ruled_out: Collection[str] = (),
) -> list[RankedCause]:
    """The runbook's causes, most likely first. ``boosts`` maps ``boost_key`` (or a bare cause
    id) to a positive multiplier of the cause's prior; ``ruled_out`` holds cause ids."""
    boosts = boosts or {}
    seen = set(evidence)
    ranked = []
    for cause in runbook.causes:
        boost = boosts.get(boost_key(runbook, cause), boosts.get(cause.id, 1.0))
        boost = boost if isinstance(boost, int | float) and boost > 0 else 1.0
        supporting = tuple(name for name in cause.supports if name in seen)
        contradicting = tuple(name for name in cause.against if name in seen)
        score = (
            math.log(cause.prior * float(boost))
            + SUPPORT_WEIGHT * len(supporting)
            - AGAINST_WEIGHT * len(contradicting)
        )
        ranked.append(
            RankedCause(
                cause=cause,
                score=round(score, 4),
                supporting=supporting,
                contradicting=contradicting,
                ruled_out=cause.id in ruled_out,
            )
        )
    order = {cause.id: index for index, cause in enumerate(runbook.causes)}
    return sorted(ranked, key=lambda item: (item.ruled_out, -item.score, order[item.cause.id]))


def confidence(ranked: list[RankedCause], lead: RankedCause) -> int:
    """The confidence of a fix for ``lead``: its fix's base figure moved by the evidence and by
    how far it leads the next live cause, clamped to 20-95."""
    base = lead.cause.fix.confidence if lead.cause.fix is not None else NO_FIX_CONFIDENCE
    value = base + 6 * len(lead.supporting) - 12 * len(lead.contradicting)
    if not lead.supporting:
        value -= 15
    rivals = [item for item in ranked if item is not lead and not item.ruled_out]
    if rivals and lead.score - rivals[0].score < 0.5:
        value -= 10
    return max(20, min(95, value))
