"""Starting a troubleshooting session, linking it to a PSA ticket, reopening a resolved one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import Conflict, Unprocessable
from sessions_app.models import AISession, AISessionStep, SessionStatus
from sessions_app.realtime import publish_status_on_commit
from sessions_app.services import chat
from sessions_app.services.facts import add_note
from sessions_app.services.steps import clean_message, create_user_step
from sessions_app.signals import session_history_changed

SUMMARY_LIMIT = 120
TICKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def derive_summary(text: str) -> str:
    """The sidebar line: the first non-empty line of the first message, shortened on a word."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"\s+", " ", first)
    if len(first) <= SUMMARY_LIMIT:
        return first or "Untitled session"
    cut = first[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + "…"


def clean_ticket_id(value: str) -> str:
    """A PSA ticket id as typed ("#1234" is fine); empty unlinks. Invalid → 422."""
    ticket = (value or "").strip().lstrip("#").strip()
    if ticket and not TICKET_RE.match(ticket):
        raise Unprocessable(
            "A ticket id is letters, digits and dashes (at most 32).", code="invalid_ticket_id"
        )
    return ticket


@transaction.atomic
def create_session(
    *, user: User, problem: str, psa_ticket_id: str = ""
) -> tuple[AISession, AISessionStep]:
    """
    A new session whose first engineer message is the problem statement; the assistant's reply
    to it is produced by the chat service (streamed on pages, inline in the API).
    """
    content = clean_message(problem)
    now = timezone.now()
    session = AISession.objects.create(
        account_id=user.account_id,
        user=user,
        problem_summary=derive_summary(content),
        psa_ticket_id=clean_ticket_id(psa_ticket_id),
        created_at=now,
        updated_at=now,
    )
    step = create_user_step(session=session, user=user, text=content, now=now)
    return session, step


@dataclass
class StartedSession:
    session: AISession
    step: AISessionStep
    # With ``answer``: the first turn, or why the reply failed (the session and its first
    # message are saved either way; the client retries the reply).
    turn: chat.TurnResult | None = None
    reply_error: chat.ChatFailed | None = None


def start_session(
    *, user: User, problem: str, psa_ticket_id: str = "", answer: bool = False
) -> StartedSession:
    """
    "New session", for the page and the API alike: the session with its first message, and
    with ``answer`` the assistant's first reply inline (the API). Pages leave ``answer`` off:
    the session page streams the reply to the pending first message.
    """
    session, step = create_session(user=user, problem=problem, psa_ticket_id=psa_ticket_id)
    started = StartedSession(session=session, step=step)
    if answer:
        try:
            started.turn = chat.run_reply(session=session, user_step=step, fresh=True)
        except chat.ChatFailed as exc:
            started.reply_error = exc
    return started


@transaction.atomic
def link_ticket(*, session: AISession, psa_ticket_id: str) -> AISession:
    """Link (or with "" unlink) a PSA ticket. Previews name the ticket, so the version moves."""
    ticket = clean_ticket_id(psa_ticket_id)
    if ticket == session.psa_ticket_id:
        return session
    AISession.objects.filter(pk=session.pk).update(psa_ticket_id=ticket)
    session.psa_ticket_id = ticket
    session.bump_state_version()
    return session


REASON_LIMIT = 500


@transaction.atomic
def reopen_session(*, session: AISession, actor: User, reason: str) -> AISession:
    """
    A resolved session becomes active again: one conditional UPDATE (resolved → active, the
    version bumped), the reason kept in What we know as the engineer's note, and audited.
    Anything but a resolved session answers 409 ``not_resolved``.
    """
    text = " ".join((reason or "").split())
    if not text or "\x00" in text:
        raise Unprocessable("Say why the session is reopened.", code="reason_required")
    if len(text) > REASON_LIMIT:
        raise Unprocessable(
            f"The reason is at most {REASON_LIMIT} characters.", code="reason_too_long"
        )
    reopened = AISession.objects.filter(
        pk=session.pk, status=SessionStatus.RESOLVED
    ).bump_state_version(status=SessionStatus.ACTIVE, resolved_at=None)
    if not reopened:
        raise Conflict("Only a resolved session can be reopened.", code="not_resolved")
    session.refresh_from_db()
    add_note(session=session, user=actor, text=f"Reopened: {text}")
    record_event(
        account=session.account,
        actor=actor,
        type="session.reopened",
        payload={"session_id": session.pk, "reason": text},
    )
    # A reopened session no longer teaches anything: it leaves the search index until it is
    # resolved again.
    session_history_changed.send(sender=AISession, session_id=session.pk)
    publish_status_on_commit(
        session, actor=actor, note=f"{actor.display_name} reopened this session: {text}"
    )
    return session
