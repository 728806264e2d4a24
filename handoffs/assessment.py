"""
The AI assessment of a hand-off: the heavy tier reads the hand-off's snapshot (15 s timeout) and
answers ``{summary, hypothesis, suggested_steps[]}``; a timeout or an unusable answer stores the
``unavailable`` state instead, which the hand-off screen offers to retry. Run by a Celery task
after the hand-off commits, never on the escalating engineer's request.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.db import transaction

from flowpilot.llm import LLMError, LLMRequest, LLMTimeout, get_llm_client, load_prompt
from handoffs import events
from handoffs.models import AssessmentStatus, HandoffIntent, SessionHandoff

logger = logging.getLogger(__name__)

ASSESSMENT_TIMEOUT_SECONDS = 15.0
ASSESSMENT_MAX_TOKENS = 800

_FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$")


def parse_assessment(text: str) -> dict[str, Any]:
    """``{summary, hypothesis, suggested_steps[]}`` from the model's JSON; else ValueError."""
    data = json.loads(_FENCE_RE.sub("", text.strip()))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    steps = data.get("suggested_steps")
    if not isinstance(steps, list):
        raise ValueError("suggested_steps is not a list")
    clean_steps = [str(step).strip()[:200] for step in steps if str(step).strip()][:5]
    summary = str(data.get("summary") or "").strip()
    if not summary or not clean_steps:
        raise ValueError("empty assessment")
    return {
        "summary": summary[:2000],
        "hypothesis": str(data.get("hypothesis") or "").strip()[:2000],
        "suggested_steps": clean_steps,
    }


def write_assessment(*, handoff_id: Any) -> str:
    """
    Ask the heavy tier (15 s timeout) for the assessment of a hand-off's snapshot and store it,
    or the ``unavailable`` state. Idempotent: a ready assessment is kept as it is (a task
    redelivered after a worker died does nothing). Answers the stored status.
    """
    handoff = SessionHandoff.objects.filter(pk=handoff_id).first()
    if handoff is None:
        return "missing"
    if handoff.assessment_status == AssessmentStatus.READY:
        return AssessmentStatus.READY
    request = LLMRequest(
        purpose="handoff_assessment",
        tier="heavy",
        system=load_prompt("handoff_assessment"),
        messages=[],
        max_tokens=ASSESSMENT_MAX_TOKENS,
        timeout=ASSESSMENT_TIMEOUT_SECONDS,
        context=handoff.snapshot,
    )
    assessment: dict[str, Any] | None = None
    error = ""
    try:
        assessment = parse_assessment(get_llm_client().complete(request).text)
    except LLMTimeout:
        error = "The assistant did not answer within 15 seconds."
    except LLMError as exc:
        error = f"The assistant is unavailable ({type(exc).__name__})."
    except ValueError:
        error = "The assistant's answer could not be read."
    return _store_assessment(handoff=handoff, assessment=assessment, error=error)


@transaction.atomic
def _store_assessment(
    *, handoff: SessionHandoff, assessment: dict[str, Any] | None, error: str
) -> str:
    rows = SessionHandoff.objects.filter(pk=handoff.pk).exclude(
        assessment_status=AssessmentStatus.READY
    )
    if assessment is not None:
        updated = rows.update(
            ai_assessment=assessment, assessment_status=AssessmentStatus.READY, assessment_error=""
        )
        handoff.ai_assessment = assessment
        handoff.assessment_status = AssessmentStatus.READY
    else:
        logger.warning("Assessment of hand-off %s unavailable: %s", handoff.pk, error)
        updated = rows.update(
            assessment_status=AssessmentStatus.UNAVAILABLE, assessment_error=error
        )
        handoff.assessment_status = AssessmentStatus.UNAVAILABLE
        handoff.assessment_error = error
    if not updated:
        return AssessmentStatus.READY
    if handoff.intent == HandoffIntent.ESCALATE:
        events.publish_assessment_ready_on_commit(handoff)
    return handoff.assessment_status
