"""The offline provider: a deterministic runbook assistant that needs no network and no model.

It answers every purpose from ``LLMRequest.context`` (and, for chat, the messages). The keys
each purpose reads — the Anthropic provider receives the same context as JSON, so these are
the contract for callers whichever provider runs:

``chat``
    ``problem`` (str): the session's problem summary.
    ``facts`` (list[str]): facts already confirmed (never promoted twice).
    ``open_questions`` / ``open_checks`` (list[str]): the session's open lane items; when given,
    the lane never brings back an item the engineer already closed.
    ``active_fix`` (dict | None): ``{"title", "status"}`` (+ optional ``applied_at``) of the
    active suggested fix; status is a fix outcome or ``proposed``.
    ``status`` (str, optional): the session's status (``resolved`` changes the "it's broken
    again" reply to the reopen path).
    ``cause_boosts`` (dict[str, float], optional): priors for the cause ranking keyed
    ``"<runbook id>:<cause id>"`` (or a bare cause id), e.g. from past outcomes; a multiplier
    of the cause's prior, never evidence.
    ``past_sessions`` (list, optional): similar resolved sessions of the account (institutional
    memory): ``session_id``, ``fix_title``, ``outcome``, ``resolved_ago``, ``tried_and_failed``.
    A cause whose fix worked there ranks higher and is named; one that failed ranks lower.
``fact_synthesis``
    ``kind`` ("question" | "check"), ``item`` (the question text or check label), ``answer``
    (optional text or check output). Returns "" when nothing can be established.
``resolution_note`` / ``escalation_package`` / ``handoff_assessment``
    The session bundle: ``problem`` (str), ``ticket`` (str | None), ``facts`` (list[str]),
    ``fix`` (dict | None: ``title``, ``description``, ``status``, ``applied_at``,
    ``verified_at``, ``partial_notes``, ``failure_reason``, ``pending_reason``),
    ``script_runs`` (list of ``{"template", "parameters"}``, already redacted) and optional
    ``runbook_hint`` (runbook id, title or description).
``template_extraction``
    ``script`` (str). Returns JSON ``{"body", "parameters"}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator

from flowpilot.llm.offline.chat import chat_reply
from flowpilot.llm.offline.documents import (
    escalation_package,
    handoff_assessment,
    resolution_note,
    synthesise_fact,
)
from flowpilot.llm.offline.extraction import extract_template_json
from flowpilot.llm.types import (
    LLMBadResponse,
    LLMRequest,
    LLMResult,
    LLMStream,
    estimate_tokens,
)

PROVIDER_NAME = "offline"
MODEL_NAME = "flowpilot-offline-runbooks-1"
_CHUNK_RE = re.compile(r"\S+\s*|\s+")
_WORDS_PER_CHUNK = 3


class OfflineClient:
    name = PROVIDER_NAME
    label = "Offline runbook assistant"

    def complete(self, request: LLMRequest) -> LLMResult:
        text = respond(request)
        return LLMResult(
            text=text,
            input_tokens=_input_tokens(request),
            output_tokens=estimate_tokens(text),
            model=MODEL_NAME,
            provider=PROVIDER_NAME,
        )

    def stream(self, request: LLMRequest) -> LLMStream:
        return LLMStream(self._stream(request))

    def _stream(self, request: LLMRequest) -> Generator[str, None, LLMResult]:
        result = self.complete(request)
        words = _CHUNK_RE.findall(result.text)
        for index in range(0, len(words), _WORDS_PER_CHUNK):
            yield "".join(words[index : index + _WORDS_PER_CHUNK])
        return result


def respond(request: LLMRequest) -> str:
    """The offline answer for a request, by purpose."""
    context = request.context
    if request.purpose == "chat":
        return chat_reply(request.messages, context)
    if request.purpose == "fact_synthesis":
        return synthesise_fact(context)
    if request.purpose == "resolution_note":
        return resolution_note(context)
    if request.purpose == "escalation_package":
        return escalation_package(context)
    if request.purpose == "handoff_assessment":
        return handoff_assessment(context)
    if request.purpose == "template_extraction":
        return extract_template_json(str(context.get("script") or ""))
    raise LLMBadResponse(f"The offline assistant has no answer for {request.purpose!r}.")


def _input_tokens(request: LLMRequest) -> int:
    text = request.system + "".join(message.content for message in request.messages)
    if request.context:
        text += json.dumps(request.context, default=str)
    return estimate_tokens(text)
