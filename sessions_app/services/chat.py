"""
One chat turn: save the engineer's step, ask the assistant, parse its markers and apply them.

``send_message`` is the blocking turn the API uses; pages stream the same turn through
``stream_reply``. Either way the engineer's step is committed before the model is called, so a
provider failure loses nothing: the step stays, the caller shows an error, and a retry
(``retry_reply`` or re-opening the stream) answers that same step without duplicating it.

One reply is written at a time per session: a turn leases the session row (``take_turn``, a
conditional UPDATE of ``turn_owner``/``turn_lease_until``) before it saves or answers a
message, and gives the lease back when the reply is stored or has failed. No transaction is
held across the model call. A second message while a reply is being written is refused with
409 ``reply_in_progress`` and is not saved (the page keeps it in the composer); every stored
reply records the step it answers (``reply_to``, at most one per step). A lease left behind by a
crashed process expires after the longest model call (``turn_lease_seconds``).

Marker effects: ``[TASKS]`` merges the task lane (stable item uids), ``[PROMOTE]`` adds facts
(one state_version bump for the turn), ``[SUGGEST_FIX]`` and ``[FIX_OUTCOME]`` go to the fixes
service. A malformed block is logged on the step and ignored; plain chat does not move the
state_version.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from flowpilot.errors import Conflict, DomainError, UpstreamError
from flowpilot.llm import (
    LLMClient,
    LLMError,
    LLMRequest,
    LLMResult,
    LLMTimeout,
    Message,
    get_llm_client,
    prompt_for,
)
from flowpilot.llm.markers import ParsedReply, Promotion, parse_markers, visible_prefix
from sessions_app import ports, selectors
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    FactSource,
    StepRole,
    SuggestedFix,
    TaskItem,
    TaskStatus,
)
from sessions_app.services import fixes
from sessions_app.services.lane import LaneMerge, item_key, merge_lane
from sessions_app.services.steps import clean_message, create_user_step

logger = logging.getLogger(__name__)

CHAT_MAX_TOKENS = 1500
EMPTY_REPLY = "The assistant sent an empty reply. Try again, or rephrase your message."


class ChatFailed(UpstreamError):
    """The assistant did not answer; the engineer's step is saved and can be retried."""

    code = "llm_error"


class ReplyInProgress(Conflict):
    """Another turn holds the session's lease: this message was not saved."""

    code = "reply_in_progress"


BUSY_MESSAGE = (
    "A reply is being written in this session. Your message was not sent: "
    "send it again when the reply has arrived."
)


def turn_lease_seconds() -> float:
    """The longest a turn may hold its lease: every attempt of the model call, plus a margin."""
    timeout = float(getattr(settings, "LLM_TIMEOUT_SECONDS", 60.0))
    attempts = 1 + max(0, int(getattr(settings, "LLM_MAX_RETRIES", 2)))
    return timeout * attempts + 30.0


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=turn_lease_seconds())


# The lease of a message being saved (renamed after its step in the same transaction).
POSTING = "posting"


def _reply_owner(user_step: AISessionStep) -> str:
    return f"reply:{user_step.pk}"


def _turn_owners(user_step: AISessionStep) -> tuple[str, str]:
    # The names one turn's lease goes by: posted and waiting for its stream, then answering.
    return (f"step:{user_step.pk}", _reply_owner(user_step))


def claim_turn(*, session: AISession, user_step: AISessionStep) -> None:
    """
    Lease the session to the reply to ``user_step`` (taking over the lease its posting left for
    the stream), or refuse with 409 while another reply is being written.
    """
    owner = _reply_owner(user_step)
    now = timezone.now()
    if not AISession.objects.take_turn(
        session, owner=owner, until=_lease_until(now), now=now, handover=f"step:{user_step.pk}"
    ):
        raise ReplyInProgress(BUSY_MESSAGE)


def release_turn(*, session: AISession, user_step: AISessionStep) -> None:
    """Give a lease back after a failed reply (a stored reply gives it back itself)."""
    try:
        AISession.objects.end_turn(session, owners=_turn_owners(user_step))
    except Exception:  # the lease expires on its own; the caller's own error matters more
        logger.exception("Session %s: could not release the turn lease", session.pk)


@dataclass
class TurnResult:
    user_step: AISessionStep
    assistant_step: AISessionStep
    facts: list[Fact] = field(default_factory=list)
    fix: SuggestedFix | None = None
    outcome_proposed: bool = False
    lane: LaneMerge | None = None
    errors: list[str] = field(default_factory=list)
    duplicate: bool = False
    # The session's state_version once the turn is stored (None: not read by this turn).
    state_version: int | None = None

    @property
    def facts_changed(self) -> bool:
        return bool(self.facts)


@dataclass(frozen=True)
class StreamEvent:
    kind: Literal["token", "done", "error"]
    text: str = ""
    turn: TurnResult | None = None
    error: DomainError | None = None


# --- validation and steps -------------------------------------------------------------------


@transaction.atomic
def add_user_step(
    *, session: AISession, user: User, content: str, answer_now: bool = False
) -> AISessionStep:
    """
    Save the engineer's step under the session's turn lease, or refuse it (409, nothing saved)
    while a reply is being written. The lease waits for the step's stream (``stream_reply``
    takes it over); ``answer_now`` leases it straight to the blocking reply that follows
    (``run_reply(fresh=True)``).
    """
    text = clean_message(content)
    now = timezone.now()
    # The lease first: a step inserted before it would get an id (and a place in the chat)
    # ahead of the reply being written. Then the lease is renamed after the step.
    if not AISession.objects.take_turn(
        session, owner=POSTING, until=_lease_until(now), now=now, handover=""
    ):
        raise ReplyInProgress(BUSY_MESSAGE)
    step = create_user_step(session=session, user=user, text=text, now=now)
    owner = _reply_owner(step) if answer_now else f"step:{step.pk}"
    AISession.objects.filter(pk=session.pk).update(turn_owner=owner)
    return step


# --- the request ----------------------------------------------------------------------------


def build_chat_request(session: AISession, user_step: AISessionStep) -> LLMRequest:
    """The prompt for answering ``user_step``: problem, facts, open lane, fix and recent steps."""
    messages: list[Message] = []
    for role, content in selectors.prompt_history(session, user_step):
        if not messages and role != StepRole.USER:
            continue  # the conversation a model sees starts with the engineer
        if messages and messages[-1].role == role:
            # A retried or failed turn leaves two engineer steps in a row: send them as one.
            messages[-1] = Message(role=role, content=f"{messages[-1].content}\n\n{content}")
        else:
            messages.append(
                Message(role="user" if role == StepRole.USER else "assistant", content=content)
            )
    return LLMRequest(
        purpose="chat",
        tier="heavy",
        system=prompt_for("chat"),
        messages=messages,
        max_tokens=CHAT_MAX_TOKENS,
        context=_with_extras(session, selectors.prompt_context(session)),
    )


def _with_extras(session: AISession, context: dict[str, Any]) -> dict[str, Any]:
    # Features beside the chat (institutional memory's past sessions) add their keys.
    return {**context, **ports.extra_prompt_context(session, context)}


# --- applying a reply -----------------------------------------------------------------------


@transaction.atomic
def record_reply(*, session: AISession, user_step: AISessionStep, result: LLMResult) -> TurnResult:
    """
    Save the assistant step (``reply_to`` = ``user_step``) and apply its markers. The session
    row is locked first, by the UPDATE that moves its ``updated_at`` and gives this turn's lease
    back (visible when the reply commits, so the next turn sees the reply in its prompt). Two
    racing replies to one step (a lease that expired meanwhile) store one answer; the loser
    gets the winner's step. ``session`` leaves with the stored ``state_version``.
    """
    now = timezone.now()
    AISession.objects.end_turn(session, owners=_turn_owners(user_step), now=now)
    existing = selectors.reply_to(session, user_step)
    if existing is not None:
        return TurnResult(
            user_step=user_step,
            assistant_step=existing,
            duplicate=True,
            state_version=session.state_version,
        )
    parsed = parse_markers(result.text)
    errors = list(parsed.errors)
    step = AISessionStep.objects.create(
        account_id=session.account_id,
        session=session,
        role=StepRole.ASSISTANT,
        content=parsed.display_text or EMPTY_REPLY,
        raw_content=result.text,
        provider=result.provider[:32],
        model=result.model[:64],
        input_tokens=max(0, result.input_tokens),
        output_tokens=max(0, result.output_tokens),
        marker_errors=errors,
        reply_to=user_step,
        created_at=now,
    )
    turn = TurnResult(user_step=user_step, assistant_step=step, errors=errors)
    if parsed.tasks is not None:
        turn.lane = merge_lane(session=session, step=step, lane=parsed.tasks)
    turn.facts = _record_promotions(
        session=session,
        promotions=parsed.promotions,
        items=turn.lane.items if turn.lane is not None else None,
    )
    if turn.facts and AISession.objects.filter(pk=session.pk).bump_state_version(
        updated_at=session.updated_at
    ):
        # The row is locked by this transaction: the increment needs no read-back.
        session.state_version += 1
    _apply_fix_markers(session=session, step=step, parsed=parsed, turn=turn)
    turn.state_version = session.state_version
    if turn.errors != errors:
        AISessionStep.objects.filter(pk=step.pk).update(marker_errors=turn.errors)
        step.marker_errors = turn.errors
    if turn.errors:
        logger.warning(
            "Session %s step %s: marker problems ignored: %s", session.pk, step.pk, turn.errors
        )
    return turn


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _record_promotions(
    *, session: AISession, promotions: list[Promotion], items: list[TaskItem] | None = None
) -> list[Fact]:
    """
    Add the promoted facts (duplicates of live facts skipped). ``items`` are every lane row of
    the session when this turn's lane merge already read them; otherwise they are read here.
    """
    if not promotions:
        return []
    known = {
        _normal(text)
        for text in Fact.objects.filter(session=session, deleted_at__isnull=True).values_list(
            "text", flat=True
        )
    }
    rows = (
        sorted(items, key=lambda item: item.pk, reverse=True)
        if items is not None
        else TaskItem.objects.filter(session=session).order_by("-id")
    )
    # Newest first, so the oldest row of a repeated text wins.
    by_key = {item_key(item.kind, item.text): item for item in rows}
    created: list[Fact] = []
    for promotion in promotions:
        key = _normal(promotion.text)
        if not key or key in known:
            continue
        known.add(key)
        item = None
        if promotion.source in ("question", "check") and promotion.ref:
            item = by_key.get(item_key(promotion.source, promotion.ref))
        source = {
            "question": FactSource.QUESTION,
            "check": FactSource.CHECK,
        }.get(promotion.source, FactSource.AI)
        if item is None:
            # A fact without its lane item has nothing to edit through: keep it editable.
            source = FactSource.AI
        created.append(
            Fact(
                account_id=session.account_id,
                session=session,
                text=promotion.text[:1000],
                source=source,
                task_item=item,
            )
        )
    Fact.objects.bulk_create(created)
    confirmed = [fact.task_item_id for fact in created if fact.task_item_id]
    if confirmed:
        TaskItem.objects.filter(pk__in=confirmed, status=TaskStatus.OPEN).update(
            status=TaskStatus.DONE, updated_at=timezone.now()
        )
    return created


def _apply_fix_markers(
    *, session: AISession, step: AISessionStep, parsed: ParsedReply, turn: TurnResult
) -> None:
    # Both fixes services are atomic themselves: a refused marker rolls back to their savepoint.
    if parsed.fix is not None:
        proposal = parsed.fix
        try:
            turn.fix = fixes.propose_fix(
                session=session,
                step=step,
                title=proposal.title,
                description=proposal.description,
                confidence=proposal.confidence,
                script=proposal.script,
                parameters=[parameter.as_dict() for parameter in proposal.parameters],
            )
        except DomainError as exc:
            turn.errors.append(f"[SUGGEST_FIX] not stored: {exc.detail}")
    if parsed.outcome is not None:
        try:
            turn.outcome_proposed = fixes.record_ai_outcome_proposal(
                session=session, outcome=parsed.outcome.outcome, reason=parsed.outcome.reason
            )
        except DomainError as exc:
            turn.errors.append(f"[FIX_OUTCOME] not stored: {exc.detail}")
        if not turn.outcome_proposed:
            turn.errors.append("[FIX_OUTCOME] ignored: no open suggested fix")


# --- blocking turns (API, no-JS form) -------------------------------------------------------


def _failure(exc: LLMError, user_step: AISessionStep) -> ChatFailed:
    timed_out = isinstance(exc, LLMTimeout)
    detail = (
        "The assistant took too long to answer. Your message is saved: retry when ready."
        if timed_out
        else "The assistant could not answer just now. Your message is saved: retry when ready."
    )
    return ChatFailed(
        detail,
        code="llm_timeout" if timed_out else "llm_error",
        extra={"user_step_id": user_step.pk, "retry": True},
    )


def run_reply(
    *,
    session: AISession,
    user_step: AISessionStep,
    client: LLMClient | None = None,
    fresh: bool = False,
) -> TurnResult:
    """
    Answer ``user_step`` (idempotent: an answered step returns its existing reply without a
    model call) under the session's turn lease (409 ``reply_in_progress`` while another reply
    is being written). ``fresh``: the step was saved just now, by ``add_user_step(answer_now=
    True)`` (which leased the turn to this reply) or with a new session; the look-up and the
    claim are skipped, and ``record_reply`` still settles races under the session lock.
    """
    if not fresh:
        existing = selectors.reply_to(session, user_step)
        if existing is not None:
            return TurnResult(user_step=user_step, assistant_step=existing, duplicate=True)
        claim_turn(session=session, user_step=user_step)
    try:
        request = build_chat_request(session, user_step)
        try:
            result = (client or get_llm_client()).complete(request)
        except LLMError as exc:
            logger.warning("Chat turn failed for session %s: %s", session.pk, exc)
            raise _failure(exc, user_step) from exc
        return record_reply(session=session, user_step=user_step, result=result)
    except BaseException:
        release_turn(session=session, user_step=user_step)
        raise


def send_message(
    *, session: AISession, user: User, content: str, client: LLMClient | None = None
) -> TurnResult:
    step = add_user_step(session=session, user=user, content=content, answer_now=True)
    return run_reply(session=session, user_step=step, client=client, fresh=True)


def retry_reply(*, session: AISession, client: LLMClient | None = None) -> TurnResult:
    step = selectors.pending_user_step(session)
    if step is None:
        raise Conflict(
            "Nothing to retry: the last message already has its reply.", code="nothing_to_retry"
        )
    return run_reply(session=session, user_step=step, client=client)


# --- streaming turns (pages) ----------------------------------------------------------------


async def stream_reply(
    *, session: AISession, user_step: AISessionStep, client: LLMClient | None = None
) -> AsyncIterator[StreamEvent]:
    """
    Stream the reply to ``user_step``: ``token`` events carry newly visible text (markers are
    never shown while streaming), then one ``done`` with the stored turn or one ``error``.
    The provider runs in its own thread; database work runs through ``sync_to_async``.
    """
    existing = await sync_to_async(selectors.reply_to)(session, user_step)
    if existing is not None:
        yield StreamEvent("done", turn=TurnResult(user_step, existing, duplicate=True))
        return
    try:
        await sync_to_async(claim_turn)(session=session, user_step=user_step)
    except ReplyInProgress as exc:
        yield StreamEvent("error", error=exc)
        return
    stored = False
    try:
        async for event in _stream_claimed(session=session, user_step=user_step, client=client):
            stored = stored or event.kind == "done"
            yield event
    finally:
        if not stored:
            await sync_to_async(release_turn)(session=session, user_step=user_step)


async def _stream_claimed(
    *, session: AISession, user_step: AISessionStep, client: LLMClient | None
) -> AsyncIterator[StreamEvent]:
    request = await sync_to_async(build_chat_request)(session, user_step)
    llm = client or await sync_to_async(get_llm_client)()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def put(kind: str, value: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def produce() -> None:
        try:
            with llm.stream(request) as stream:
                for delta in stream:
                    if stop.is_set():
                        return
                    put("delta", delta)
                put("result", stream.result)
        except LLMError as exc:
            put("error", exc)
        except Exception as exc:  # a provider bug must still end in a visible, retryable error
            logger.exception("Chat stream crashed for session %s", session.pk)
            put("error", LLMError(str(exc)))

    threading.Thread(target=produce, name=f"chat-stream-{session.pk}", daemon=True).start()
    text = ""
    shown = 0
    try:
        while True:
            kind, value = await queue.get()
            if kind == "delta":
                text += value
                visible = visible_prefix(text)
                if len(visible) > shown:
                    yield StreamEvent("token", text=visible[shown:])
                    shown = len(visible)
            elif kind == "result":
                turn = await sync_to_async(record_reply)(
                    session=session, user_step=user_step, result=value
                )
                yield StreamEvent("done", turn=turn)
                return
            else:
                logger.warning("Chat stream failed for session %s: %s", session.pk, value)
                yield StreamEvent("error", error=_failure(value, user_step))
                return
    finally:
        stop.set()
