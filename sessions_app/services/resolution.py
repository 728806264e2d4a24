"""
Closing a session: post the resolution note (resolve) or the escalation package (escalate).

The text is stored and the status flips in one conditional UPDATE, so a double submit or two
engineers posting at once resolve the session exactly once. A session linked to a ticket first
writes the note to the PSA through the ``sessions_app.ports`` write-back, outside any
transaction: when the PSA refuses, the session is left unresolved with the typed note kept as
its draft, and posting again is safe (the write-back does not post a note the ticket has).
Escalating goes through the escalation port below (the hand-offs app implements it, with the
same write-back).

When nothing was edited the text is the preview, which may call the model: that happens before
the transaction opens, so no database transaction waits on a model call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import Conflict, Unprocessable
from sessions_app.models import AISession, SessionStatus
from sessions_app.ports import ticket_writeback
from sessions_app.realtime import publish_status_on_commit
from sessions_app.services.previews import get_preview
from sessions_app.signals import session_history_changed

MARKDOWN_LIMIT = 50_000
REASON_LIMIT = 2000


@dataclass(frozen=True)
class PostResult:
    outcome: str
    session: AISession
    markdown: str
    psa: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        session = self.session
        body: dict[str, Any] = {
            "outcome": self.outcome,
            "session_id": session.pk,
            "status": session.status,
            "markdown": self.markdown,
            "state_version": session.state_version,
        }
        if self.psa is not None:
            body["psa"] = self.psa
        if session.resolved_at:
            body["resolved_at"] = session.resolved_at.isoformat()
        if session.escalated_at:
            body["escalated_at"] = session.escalated_at.isoformat()
            body["escalation_reason"] = session.escalation_reason
        body.update(self.extra)
        return body


def markdown_or_preview(session: AISession, markdown: str | None, kind: Any) -> str:
    text = (markdown or "").strip()
    if not text:
        # Nothing edited: post what the preview says for the current state.
        text = get_preview(session=session, kind=kind).markdown.strip()
    if len(text) > MARKDOWN_LIMIT:
        raise Unprocessable("The text is too long to post.", code="markdown_too_long")
    return text


def already_closed(session: AISession, *, refresh: bool = True) -> Conflict:
    if refresh:
        session.refresh_from_db(fields=["status"])
    if session.status == SessionStatus.RESOLVED:
        return Conflict("This session is already resolved.", code="already_resolved")
    return Conflict("This session is already escalated.", code="already_escalated")


def post_resolution_note(
    *, session: AISession, actor: User, markdown: str | None = None
) -> PostResult:
    """
    Resolve the session with the (possibly edited) note. A resolved session answers 409. The
    note is written first (a model call when nothing was edited), outside any transaction.
    """
    if session.status == SessionStatus.RESOLVED:
        # Known closed already: no preview, no model call.
        raise already_closed(session, refresh=False)
    text = markdown_or_preview(session, markdown, "resolution_note")
    receipt = None
    writeback = ticket_writeback()
    if session.psa_ticket_id and writeback is not None:
        # Keep what was typed whatever the PSA answers; the draft never changes the status.
        AISession.objects.filter(pk=session.pk).exclude(status=SessionStatus.RESOLVED).update(
            resolution_note=text
        )
        receipt = writeback.post_resolution(
            account=session.account, actor=actor, ticket_id=session.psa_ticket_id, text=text
        )
    return _resolve(session=session, actor=actor, text=text, receipt=receipt)


@transaction.atomic
def _resolve(
    *, session: AISession, actor: User, text: str, receipt: dict[str, Any] | None = None
) -> PostResult:
    now = timezone.now()
    updated = (
        AISession.objects.filter(pk=session.pk)
        .exclude(status=SessionStatus.RESOLVED)
        .bump_state_version(
            status=SessionStatus.RESOLVED, resolution_note=text, resolved_at=now, updated_at=now
        )
    )
    if not updated:
        raise already_closed(session)
    session.refresh_from_db()
    record_event(
        account=session.account,
        actor=actor,
        type="session.resolved",
        payload={"session_id": session.pk, "via": "psa" if receipt else "local"},
    )
    session_history_changed.send(sender=AISession, session_id=session.pk)
    publish_status_on_commit(session, actor=actor)  # the pill in the engineer's other tabs
    outcome = "resolved" if receipt else "resolved_local"
    return PostResult(outcome=outcome, session=session, markdown=text, psa=receipt)


# --- Escalation port ------------------------------------------------------------------------
# The escalation flow (hand-off row, notifications, live events, assessment) belongs to the
# hand-offs app, which depends on this one: it registers the function that performs the
# escalation in its AppConfig.ready(), and every escalate path here calls it.


class EscalationWriter(Protocol):
    def __call__(
        self, *, session: AISession, actor: User, markdown: str | None, reason: str
    ) -> PostResult: ...


_escalation_writer: EscalationWriter | None = None


def register_escalation_writer(writer: EscalationWriter) -> None:
    global _escalation_writer
    _escalation_writer = writer


def escalate_session(
    *, session: AISession, actor: User, markdown: str | None = None, reason: str = ""
) -> PostResult:
    """
    Escalate with the (possibly edited) package through the registered escalation writer (the
    one canonical path: the PSA write-back, status ``escalated``, the package, the hand-off and
    its fan-out).
    """
    if _escalation_writer is None:
        raise ImproperlyConfigured("No escalation writer is registered.")
    return _escalation_writer(session=session, actor=actor, markdown=markdown, reason=reason)
