"""
Writing the index: what a resolved session teaches, in one search document.

``index_session`` is idempotent: it rebuilds the document from the session as it is now
(resolved → upserted; reopened, not resolved or deleted → removed), so running it twice, late
or out of order leaves the same index. Callers never index inline: ``tasks.schedule_index`` queues
the Celery task once the transaction that changed the session commits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from sessions_app.memory.redaction import redact_script
from sessions_app.memory.text import distinct_terms
from sessions_app.memory_models import DOCS_TERM, SessionSearchDocument, SessionSearchTerm
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    FixStatus,
    SessionStatus,
    StepRole,
    SuggestedFix,
)
from sessions_app.ports import ticket_details

logger = logging.getLogger(__name__)

MAX_TERMS = 400
TEXT_LIMIT = 4000
# Which fix a past session is remembered by: the one that worked, else the best attempt.
_FIX_PREFERENCE: dict[str, int] = {
    FixStatus.APPLIED_SUCCESS: 0,
    FixStatus.APPLIED_PARTIAL: 1,
    FixStatus.APPLIED_PENDING: 2,
    FixStatus.PROPOSED: 3,
    FixStatus.APPLIED_FAILED: 4,
    FixStatus.DISMISSED: 5,
}
_MARKDOWN_RE = re.compile(r"[#*_`>|]+")


def _ticket_summary(session: AISession) -> str:
    """The linked ticket's summary and company, through the PSA port ("" without a PSA)."""
    if not session.psa_ticket_id:
        return ""
    try:
        details = ticket_details(account_id=session.account_id, ticket_id=session.psa_ticket_id)
    except Exception:  # the port promises not to raise; indexing must not fail if it does
        logger.exception("Ticket details failed for session %s", session.pk)
        return ""
    if not details:
        return ""
    return " ".join(str(details.get(key) or "") for key in ("summary", "company")).strip()


def _clip(text: str, limit: int = TEXT_LIMIT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit]


def remembered_fix(fixes: Iterable[SuggestedFix]) -> SuggestedFix | None:
    """The fix a session is remembered by: worked first, then partial… newest first within."""
    ranked = sorted(
        fixes, key=lambda fix: (_FIX_PREFERENCE.get(fix.status, 9), -fix.created_at.timestamp())
    )
    return ranked[0] if ranked else None


def document_fields(session: AISession) -> dict[str, Any]:
    """The document of a resolved session (problem, facts, fixes, note, ticket)."""
    facts = list(Fact.objects.live_in(session).values_list("text", flat=True))
    fixes = list(SuggestedFix.objects.filter(session=session).order_by("-created_at", "-id"))
    first_message = (
        AISessionStep.objects.filter(session=session, role=StepRole.USER)
        .order_by("pk")
        .values_list("content", flat=True)
        .first()
    ) or ""
    fix = remembered_fix(fixes)
    failed = [
        {"id": item.pk, "title": item.title, "reason": _clip(item.failure_reason, 300)}
        for item in fixes
        if item.status == FixStatus.APPLIED_FAILED and item is not fix
    ]
    problem = session.problem_summary
    if first_message and _clip(first_message) != _clip(problem):
        problem = f"{problem}\n{first_message}"
    fix_text = ""
    script = ""
    if fix is not None:
        fix_text = f"{fix.title}\n{fix.description}"
        script = redact_script(fix.script, fix.parameters)
    other = [
        session.psa_ticket_id,
        _ticket_summary(session),
        *(f"{item['title']} {item['reason']}" for item in failed),
        script,
    ]
    engineer = session.escalated_to or session.user
    fields: dict[str, Any] = {
        "account_id": session.account_id,
        "problem": _clip(problem),
        "fix_text": _clip(fix_text),
        "facts_text": _clip("\n".join(facts)),
        "note_text": _clip(_MARKDOWN_RE.sub(" ", session.resolution_note)),
        "other_text": _clip("\n".join(part for part in other if part)),
        "outcome": fix.status if fix is not None else "",
        "fix_id": fix.pk if fix is not None else None,
        "fix_title": fix.title if fix is not None else "",
        "failed_fixes": failed,
        "engineer_id": engineer.pk,
        "engineer_name": engineer.display_name[:150],
        "ticket": session.psa_ticket_id,
        "resolved_at": session.resolved_at or timezone.now(),
        "source_version": session.state_version,
        "indexed_at": timezone.now(),
    }
    texts = [fields[name] for name in ("problem", "fix_text", "facts_text", "note_text")]
    terms = distinct_terms([*texts, fields["other_text"]])[:MAX_TERMS]
    fields["terms"] = [DOCS_TERM, *terms]
    return fields


IndexResult = Literal["indexed", "removed", "absent"]


@transaction.atomic
def index_session(*, session_id: int) -> IndexResult:
    """
    Bring the session's document in line with the session: upsert it when resolved, remove it
    otherwise. The session row is locked first (the lock order of the fixes service), so two
    runs for one session take turns.
    """
    session = (
        AISession.objects.select_for_update(of=("self",))
        .select_related("user", "escalated_to")
        .filter(pk=session_id)
        .first()
    )
    existing = SessionSearchDocument.objects.filter(session_id=session_id).first()
    if session is None or session.status != SessionStatus.RESOLVED:
        if existing is None:
            return "absent"
        existing.delete()  # the post_delete receiver gives its words back
        return "removed"
    fields = document_fields(session)
    old_terms = set(existing.terms) if existing is not None else set()
    new_terms = set(fields["terms"])
    if existing is None:
        SessionSearchDocument.objects.create(session=session, **fields)
    else:
        SessionSearchDocument.objects.filter(pk=existing.pk).update(**fields)
    _adjust_terms(session.account_id, add=new_terms - old_terms, remove=old_terms - new_terms)
    return "indexed"


def _adjust_terms(account_id: int, *, add: set[str], remove: set[str]) -> None:
    """Count words in and out of the lexicon (sorted, so concurrent writers never deadlock)."""
    table = connection.ops.quote_name(SessionSearchTerm._meta.db_table)
    with connection.cursor() as cursor:
        if add:
            ordered = sorted(add)
            rows = ", ".join(["(%s, %s, 1)"] * len(ordered))
            params: list[Any] = []
            for term in ordered:
                params += [account_id, term]
            cursor.execute(
                f"INSERT INTO {table} (account_id, term, doc_count) VALUES {rows} "  # noqa: S608 - fixed SQL, bound values
                f"ON CONFLICT (account_id, term) DO UPDATE SET doc_count = {table}.doc_count + 1",
                params,
            )
        if remove:
            ordered = sorted(remove)
            marks = ", ".join(["%s"] * len(ordered))
            cursor.execute(
                f"UPDATE {table} SET doc_count = doc_count - 1 "  # noqa: S608 - fixed SQL, bound values
                f"WHERE account_id = %s AND term IN ({marks})",
                [account_id, *ordered],
            )
            cursor.execute(
                f"DELETE FROM {table} WHERE account_id = %s AND term IN ({marks}) "  # noqa: S608 - fixed SQL, bound values
                "AND doc_count <= 0",
                [account_id, *ordered],
            )


@receiver(post_delete, sender=SessionSearchDocument, dispatch_uid="memory_document_deleted")
def _document_deleted(sender: Any, instance: SessionSearchDocument, **kwargs: Any) -> None:
    # Also runs when a deleted session cascades to its document: its words leave the lexicon,
    # so no typo correction ever suggests a word only a deleted session used.
    _adjust_terms(instance.account_id, add=set(), remove=set(instance.terms or []))
