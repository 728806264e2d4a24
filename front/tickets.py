"""What a PSA ticket page offers from sessions: start a session on it, or link an open one."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest
from accounts.models import User
from accounts.permissions import engineer_or_admin_required
from accounts.tenancy import scoped
from flowpilot.errors import DomainError
from psa.ports import TicketAction
from psa.providers.base import Ticket
from psa.selectors import is_connected
from sessions_app.access import get_session
from sessions_app.models import AISession, SessionStatus
from sessions_app.services import sessions

LINKABLE_LIMIT = 20


def _problem(ticket: Ticket) -> str:
    company = f" ({ticket.company.name})" if ticket.company else ""
    return f"{ticket.summary}{company}"


def ticket_session_actions(ticket: Ticket, user: User) -> list[TicketAction]:
    start = (
        f"{reverse('session-new')}?{urlencode({'ticket': ticket.id, 'problem': _problem(ticket)})}"
    )
    actions = [TicketAction(key="start-session", label="Start session", url=start, primary=True)]
    open_sessions = list(
        scoped(AISession, user.account)
        .filter(user=user, status=SessionStatus.ACTIVE)
        .exclude(psa_ticket_id=str(ticket.id))
        .order_by("-updated_at")
        .values_list("pk", "problem_summary")[:LINKABLE_LIMIT]
    )
    if open_sessions:
        actions.append(
            TicketAction(
                key="link-session",
                label="Link session",
                url=reverse("ticket-link-session", args=[ticket.id]),
                method="post",
                choice_name="session_id",
                choices=tuple((str(pk), summary[:60]) for pk, summary in open_sessions),
            )
        )
    return actions


@engineer_or_admin_required
@require_POST
def link_session(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Link one of the engineer's sessions to this ticket, then open the session."""
    raw = request.POST.get("session_id", "")
    session = get_session(request.user, int(raw) if raw.isdigit() else 0)
    try:
        session = get_session(request.user, session.pk, for_write=True)
        sessions.link_ticket(session=session, psa_ticket_id=str(ticket_id))
    except DomainError as exc:
        messages.error(request, exc.detail)
        return HttpResponseRedirect(reverse("ticket-detail", args=[ticket_id]))
    messages.success(request, f"Linked to ticket #{ticket_id}.")
    return HttpResponseRedirect(session.get_absolute_url())


def session_ticket_links(*, session: AISession, user: User) -> list[dict[str, str]]:
    """On a session with no ticket, in an account connected to a PSA: spin a ticket off it."""
    if session.psa_ticket_id or not is_connected(session.account_id):
        return []
    params = {
        "origin": f"session:{session.pk}",
        "summary": session.problem_summary[:100],
        "description": session.problem_summary,
    }
    return [
        {
            "key": "new-ticket",
            "label": "New ticket from this session",
            "url": f"{reverse('ticket-new')}?{urlencode(params)}",
        }
    ]


def link_created_ticket(ticket: Ticket, user: User, origin: str) -> str | None:
    """After a ticket is spun off a session, link the session to it and go back to it."""
    kind, _, raw = origin.partition(":")
    if kind != "session" or not raw.isdigit():
        return None
    try:
        session = get_session(user, int(raw), for_write=True)
        sessions.link_ticket(session=session, psa_ticket_id=str(ticket.id))
    except (DomainError, Http404):
        return None
    return session.get_absolute_url()
