"""
"What we know": the session's confirmed facts.

Engineer notes and assistant facts are edited directly; facts derived from a question or a
diagnostic check are edited through their source (answer the item again and promote it: the
fact is updated in place). Deletion is soft. Every change bumps the session's state_version
once, in the same transaction, because previews are built from the facts.
"""

from __future__ import annotations

import logging
import re

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from flowpilot.errors import Forbidden, NotFound, Unprocessable, UpstreamError
from flowpilot.llm import LLMClient, LLMError, LLMRequest, Message, get_llm_client, prompt_for
from sessions_app.models import AISession, Fact, FactSource, TaskItem, TaskKind, TaskStatus
from sessions_app.services import lane

logger = logging.getLogger(__name__)

FACT_LIMIT = 1000
SYNTHESIS_TIMEOUT = 20.0
EDIT_THE_SOURCE = (
    "This fact comes from a {kind} in the task lane: edit its answer there and promote it "
    "again, or delete the fact."
)
_NONE_RE = re.compile(r"^\W*none\W*$", re.IGNORECASE)


def clean_fact_text(text: str) -> str:
    cleaned = re.sub(r"[ \t]+", " ", (text or "").strip())
    if not cleaned:
        raise Unprocessable("Write the fact first.", code="fact_empty")
    if len(cleaned) > FACT_LIMIT:
        raise Unprocessable(f"Keep a fact under {FACT_LIMIT:,} characters.", code="fact_too_long")
    return cleaned


@transaction.atomic
def add_note(*, session: AISession, user: User, text: str) -> Fact:
    """The engineer's own note in What we know."""
    fact = Fact.objects.create(
        account_id=session.account_id,
        session=session,
        text=clean_fact_text(text),
        source=FactSource.NOTE,
        created_by=user,
    )
    session.bump_state_version()
    return fact


@transaction.atomic
def update_fact(*, session: AISession, fact: Fact, text: str) -> Fact:
    """Edit a note or an assistant fact; question/check facts answer 403 (edit the source)."""
    if not fact.editable:
        raise Forbidden(EDIT_THE_SOURCE.format(kind=fact.source), code="edit_the_source")
    cleaned = clean_fact_text(text)
    if cleaned == fact.text:
        return fact
    now = timezone.now()
    updated = Fact.objects.filter(pk=fact.pk, deleted_at__isnull=True).update(
        text=cleaned, updated_at=now
    )
    if not updated:
        raise NotFound("This fact was deleted meanwhile.", code="fact_not_found")
    fact.text, fact.updated_at = cleaned, now
    session.bump_state_version()
    return fact


@transaction.atomic
def delete_fact(*, session: AISession, fact: Fact) -> None:
    """Soft delete. Deleting twice is a no-op, not an error."""
    now = timezone.now()
    if Fact.objects.filter(pk=fact.pk, deleted_at__isnull=True).update(
        deleted_at=now, updated_at=now
    ):
        fact.deleted_at = now
        session.bump_state_version()


def synthesise(*, item: TaskItem, client: LLMClient | None = None) -> str:
    """One fact sentence for an answered item from the light tier; "" when nothing is known."""
    client = client or get_llm_client()
    context = {"kind": item.kind, "item": item.text, "answer": item.answer}
    request = LLMRequest(
        purpose="fact_synthesis",
        tier="light",
        system=prompt_for("fact_synthesis"),
        messages=[
            Message(
                role="user",
                content=f"{item.get_kind_display()}: {item.text}\nAnswer: {item.answer or '-'}",
            )
        ],
        max_tokens=200,
        timeout=SYNTHESIS_TIMEOUT,
        context=context,
    )
    try:
        text = client.complete(request).text.strip()
    except LLMError as exc:
        logger.warning("Fact synthesis failed: %s", exc)
        raise UpstreamError(
            "The assistant could not write the fact just now. Type it yourself or try again.",
            code="llm_unavailable",
        ) from exc
    text = text.strip().strip('"').strip()
    return "" if _NONE_RE.match(text) else text


def promote_item(
    *,
    session: AISession,
    user: User,
    item: TaskItem,
    text: str | None = None,
    answer: str | None = None,
    client: LLMClient | None = None,
) -> Fact:
    """
    Promote a question or check to What we know, with the given text or one synthesised by the
    light tier (outside the transaction: a slow model holds no locks). Nothing synthesised →
    422. Promoting an item that already has a fact updates that fact: the "edit the source" path.
    An ``answer`` sent with it (the page's lane form, the API's ``answer``) is saved first when
    it differs from the stored one, so the fact is built from what the engineer sees.
    """
    if item.kind not in (TaskKind.QUESTION, TaskKind.CHECK):
        raise Unprocessable(
            "Only questions and diagnostic checks can be promoted.", code="not_promotable"
        )
    if answer is not None and answer.strip() != item.answer:
        lane.update_item(session=session, item=item, user=user, answer=answer, done=None)
    if text is not None and text.strip():
        fact_text = clean_fact_text(text)
    else:
        synthesised = synthesise(item=item, client=client)
        if not synthesised:
            raise Unprocessable(
                "Nothing to promote yet: answer the question (or paste the check's output) "
                "or write the fact yourself.",
                code="nothing_synthesised",
            )
        fact_text = clean_fact_text(synthesised)
    return _store_promotion(session=session, user=user, item=item, text=fact_text)


@transaction.atomic
def _store_promotion(*, session: AISession, user: User, item: TaskItem, text: str) -> Fact:
    now = timezone.now()
    existing = Fact.objects.live_in(session).filter(task_item=item).first()
    if existing is not None:
        Fact.objects.filter(pk=existing.pk).update(text=text, updated_at=now)
        existing.text, existing.updated_at = text, now
        fact = existing
    else:
        fact = Fact.objects.create(
            account_id=session.account_id,
            session=session,
            text=text,
            source=FactSource.QUESTION if item.kind == TaskKind.QUESTION else FactSource.CHECK,
            task_item=item,
            created_by=user,
        )
    if item.status != TaskStatus.DONE:
        TaskItem.objects.filter(pk=item.pk).update(status=TaskStatus.DONE, updated_at=now)
        item.status = TaskStatus.DONE
    session.bump_state_version()
    return fact
