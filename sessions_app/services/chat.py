"""
One chat turn: save the engineer's step, ask the assistant, parse its markers and apply them.

``send_message`` is the blocking turn the API uses; pages stream the same turn through
``stream_reply``. Either way the engineer's step is committed before the model is called, so a
provider failure loses nothing: the step stays, the caller shows an error, and a retry
(``retry_reply`` or re-opening the stream) answers that same step without duplicating it.

One reply is written at a time per session, and every engineer step gets its own: a turn
leases the session row (``take_turn``, a conditional UPDATE of ``turn_owner``/
``turn_lease_until``) and, holding it, answers the OLDEST unanswered step, then the next, up to
and including its own (each reply records the step it answers, ``reply_to``, at most one per
step), then gives the lease back. A message sent while a reply is being written is saved all the
same and queued: its turn waits for the lease (short polls of the conditional UPDATE, bounded by
``queue_wait_seconds``), then answers it; steps after it have their own waiting turn (API call or
page stream), and a step whose waiter went away is answered by the next turn or a retry. A
blocking turn that times out raises ``ReplyQueued`` (the API answers 202 ``queued``). No
transaction is held across the model call. Steps are inserted under the session row lock, so
their ids follow commit order and "oldest" is well defined. A lease left behind by a crashed
process expires after the longest model call (``turn_lease_seconds``).

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
import time
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


class ReplyQueued(DomainError):
    """The step is saved and queued, but earlier replies outlasted the wait: it will be answered."""

    status = 202
    code = "queued"

    def __init__(self, user_step: AISessionStep) -> None:
        super().__init__(QUEUED_MESSAGE, extra={"user_step_id": user_step.pk, "queued": True})
        self.user_step = user_step


QUEUED_MESSAGE = "Queued — waiting for the reply before it."
# How often a queued turn tries the lease again.
POLL_SECONDS = 0.05
STREAM_POLL_SECONDS = 0.25


def turn_lease_seconds() -> float:
    """The longest a turn may hold its lease: every attempt of the model call, plus a margin."""
    timeout = float(getattr(settings, "LLM_TIMEOUT_SECONDS", 60.0))
    attempts = 1 + max(0, int(getattr(settings, "LLM_MAX_RETRIES", 2)))
    return timeout * attempts + 30.0


def queue_wait_seconds() -> float:
    """How long a queued turn waits for the lease: the longest one other turn may hold it."""
    return turn_lease_seconds()


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=turn_lease_seconds())


# The lease of a message being saved (renamed after its step in the same transaction).
POSTING = "posting"


def _reply_owner(user_step: AISessionStep) -> str:
    return f"reply:{user_step.pk}"


def _turn_owners(user_step: AISessionStep) -> tuple[str, str]:
    # The names one turn's lease goes by: posted and waiting for its stream, then answering.
    return (f"step:{user_step.pk}", _reply_owner(user_step))


def claim_turn(*, session: AISession, user_step: AISessionStep) -> bool:
    """
    Try to lease the session to the turn of ``user_step`` (taking over the lease its posting
    left for the stream); False while another turn holds it.
    """
    now = timezone.now()
    return AISession.objects.take_turn(
        session,
        owner=_reply_owner(user_step),
        until=_lease_until(now),
        now=now,
        handover=f"step:{user_step.pk}",
    )


def _wait_for_turn(*, session: AISession, user_step: AISessionStep) -> AISessionStep | None:
    """
    Block until the turn of ``user_step`` holds the lease (None), or another turn has answered
    the step meanwhile (its reply). ``ReplyQueued`` when the wait runs out.
    """
    deadline = time.monotonic() + queue_wait_seconds()
    while True:
        if claim_turn(session=session, user_step=user_step):
            return None
        existing = selectors.reply_to(session, user_step)
        if existing is not None:
            return existing
        if time.monotonic() >= deadline:
            raise ReplyQueued(user_step)
        time.sleep(POLL_SECONDS)


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
    kind: Literal["token", "done", "error", "queued"]
    text: str = ""
    turn: TurnResult | None = None
    error: DomainError | None = None


# --- validation and steps -------------------------------------------------------------------


def add_user_step(
    *, session: AISession, user: User, content: str, answer_now: bool = False
) -> AISessionStep:
    """
    Save the engineer's step; it is never refused for a reply being written (it queues). When
    the session is free the step's turn takes the lease: it waits for the step's stream
    (``stream_reply`` takes it over), or with ``answer_now`` goes straight to the blocking reply
    that follows (``run_reply(fresh=True)``).
    """
    return _post_step(session=session, user=user, content=content, answer_now=answer_now)[0]


@transaction.atomic
def _post_step(
    *, session: AISession, user: User, content: str, answer_now: bool
) -> tuple[AISessionStep, bool]:
    # The step, and whether its turn took the lease.
    text = clean_message(content)
    now = timezone.now()
    # The row lock first (the lease UPDATE, or a touch when the lease is taken): steps get
    # their ids in commit order, so the oldest unanswered step is well defined.
    leased = AISession.objects.take_turn(
        session, owner=POSTING, until=_lease_until(now), now=now, handover=""
    )
    if not leased:
        AISession.objects.touch(session, now=now)
    step = create_user_step(session=session, user=user, text=text, now=now)
    if leased:
        owner = _reply_owner(step) if answer_now else f"step:{step.pk}"
        AISession.objects.filter(pk=session.pk).update(turn_owner=owner)
    return step, leased


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
def record_reply(
    *,
    session: AISession,
    user_step: AISessionStep,
    result: LLMResult,
    lease: AISessionStep | None = None,
) -> TurnResult:
    """
    Save the assistant step (``reply_to`` = ``user_step``) and apply its markers. The session
    row is locked first, by the UPDATE that moves its ``updated_at`` and gives this turn's lease
    back (visible when the reply commits, so the next turn sees the reply in its prompt).
    ``lease``: the step whose turn holds the lease and answers an earlier queued step; the
    lease is renewed instead of given back, for the steps after it. Two
    racing replies to one step (a lease that expired meanwhile) store one answer; the loser
    gets the winner's step. ``session`` leaves with the stored ``state_version``.
    """
    now = timezone.now()
    if lease is None or lease.pk == user_step.pk:
        AISession.objects.end_turn(session, owners=_turn_owners(user_step), now=now)
    else:
        AISession.objects.renew_turn(
            session, owners=_turn_owners(lease), until=_lease_until(now), now=now
        )
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


def _answer(
    *, session: AISession, step: AISessionStep, lease: AISessionStep, client: LLMClient | None
) -> TurnResult:
    """One model call for ``step`` and its stored reply, under the lease of ``lease``'s turn."""
    request = build_chat_request(session, step)
    try:
        result = (client or get_llm_client()).complete(request)
    except LLMError as exc:
        logger.warning("Chat turn failed for session %s: %s", session.pk, exc)
        raise _failure(exc, lease) from exc
    return record_reply(session=session, user_step=step, result=result, lease=lease)


def _answer_earlier(
    *, session: AISession, user_step: AISessionStep, client: LLMClient | None
) -> AISessionStep | None:
    """
    Holding the lease for ``user_step``: answer the queued steps before it, oldest first.
    Returns ``user_step``'s own reply when another turn stored it meanwhile.
    """
    while True:
        oldest = selectors.oldest_unanswered_step(session)
        if oldest is not None and oldest.pk == user_step.pk:
            return None
        if oldest is None or oldest.pk > user_step.pk:
            # Ours is answered (by a turn that held the lease before): nothing left to us.
            return selectors.reply_to(session, user_step)
        _answer(session=session, step=oldest, lease=user_step, client=client)


def run_reply(
    *,
    session: AISession,
    user_step: AISessionStep,
    client: LLMClient | None = None,
    fresh: bool = False,
) -> TurnResult:
    """
    Answer ``user_step`` (idempotent: an answered step returns its existing reply without a
    model call). The turn waits for the session's lease while earlier replies are written
    (``ReplyQueued`` when the wait runs out), answers the unanswered steps before its own,
    oldest first, then its own, and gives the lease back. ``fresh``: the step was saved just
    now and its turn may go ahead (a new session, or ``add_user_step(answer_now=True)`` found
    the session free and leased it to this reply); the look-up and the wait are skipped, and
    ``record_reply`` still settles races under the row lock.
    """
    if not fresh:
        existing = selectors.reply_to(session, user_step)
        if existing is None:
            existing = _wait_for_turn(session=session, user_step=user_step)
        if existing is not None:
            return TurnResult(user_step=user_step, assistant_step=existing, duplicate=True)
    try:
        existing = _answer_earlier(session=session, user_step=user_step, client=client)
        if existing is not None:
            release_turn(session=session, user_step=user_step)
            return TurnResult(user_step=user_step, assistant_step=existing, duplicate=True)
        return _answer(session=session, step=user_step, lease=user_step, client=client)
    except BaseException:
        release_turn(session=session, user_step=user_step)
        raise


def send_message(
    *, session: AISession, user: User, content: str, client: LLMClient | None = None
) -> TurnResult:
    """Save and answer a message; ``ReplyQueued`` (saved, answered later) when the wait runs out."""
    step, leased = _post_step(session=session, user=user, content=content, answer_now=True)
    return run_reply(session=session, user_step=step, client=client, fresh=leased)


def retry_reply(*, session: AISession, client: LLMClient | None = None) -> TurnResult:
    """Answer the oldest step without a reply (a failed or abandoned turn)."""
    step = selectors.oldest_unanswered_step(session)
    if step is None:
        raise Conflict(
            "Nothing to retry: every message already has its reply.", code="nothing_to_retry"
        )
    return run_reply(session=session, user_step=step, client=client)


# --- streaming turns (pages) ----------------------------------------------------------------


async def stream_reply(
    *, session: AISession, user_step: AISessionStep, client: LLMClient | None = None
) -> AsyncIterator[StreamEvent]:
    """
    Stream the reply to ``user_step``: ``token`` events carry newly visible text (markers are
    never shown while streaming), then one ``done`` with the stored turn or one ``error``.
    While earlier replies are being written the step is queued: a ``queued`` event about once a
    second until its turn holds the lease (an ``error`` with ``ReplyQueued`` if the wait runs
    out); earlier steps nobody answered are answered first, then this one streams.
    The provider runs in its own thread; database work runs through ``sync_to_async``.
    """
    existing = await sync_to_async(selectors.reply_to)(session, user_step)
    if existing is not None:
        yield StreamEvent("done", turn=TurnResult(user_step, existing, duplicate=True))
        return
    deadline = time.monotonic() + queue_wait_seconds()
    announced = -1.0
    while not await sync_to_async(claim_turn)(session=session, user_step=user_step):
        existing = await sync_to_async(selectors.reply_to)(session, user_step)
        if existing is not None:
            yield StreamEvent("done", turn=TurnResult(user_step, existing, duplicate=True))
            return
        now = time.monotonic()
        if now >= deadline:
            yield StreamEvent("error", error=ReplyQueued(user_step))
            return
        if now - announced >= 1.0:
            announced = now
            yield StreamEvent("queued", text=QUEUED_MESSAGE)
        await asyncio.sleep(STREAM_POLL_SECONDS)
    stored = False
    try:
        # Earlier messages nobody answered (their stream went away) come first, oldest first;
        # the page keeps showing this one as queued meanwhile.
        existing = None
        while True:
            oldest = await sync_to_async(selectors.oldest_unanswered_step)(session)
            if oldest is None or oldest.pk >= user_step.pk:
                if oldest is None or oldest.pk > user_step.pk:
                    existing = await sync_to_async(selectors.reply_to)(session, user_step)
                break
            yield StreamEvent("queued", text=QUEUED_MESSAGE)
            try:
                await sync_to_async(_answer)(
                    session=session, step=oldest, lease=user_step, client=client
                )
            except DomainError as exc:
                yield StreamEvent("error", error=exc)
                return
        if existing is not None:
            yield StreamEvent("done", turn=TurnResult(user_step, existing, duplicate=True))
            return
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
