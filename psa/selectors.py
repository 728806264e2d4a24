"""
Reads from the account's PSA. Lookups (boards, statuses, priorities, members, companies) are
cached per account for a short TTL so a tickets page costs one upstream request for its list.
Optional lists answer ``[]`` with a warning log when the PSA refuses them, and say why, so a
page can still render and name the missing permission.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from django.core.cache import cache

from accounts.models import Account, User
from flowpilot.errors import DomainError, NotFound
from psa.connection import build_provider, integration_of, is_simulator
from psa.errors import PSAError, PSANotFound, PSAPermissionError
from psa.models import Provider, PSAIntegration
from psa.providers.base import (
    Board,
    Company,
    Member,
    Note,
    Priority,
    PSAProvider,
    Status,
    Ticket,
    TicketPage,
    TicketQuery,
)

logger = logging.getLogger(__name__)

LOOKUP_TTL = 300
T = TypeVar("T")


@dataclass(frozen=True)
class Lookup(Generic[T]):
    items: list[T]
    problem: str = ""
    permission: str = ""


@dataclass
class Workspace:
    """The account's PSA as one request sees it: the integration row and its provider."""

    account: Account
    integration: PSAIntegration | None
    provider: PSAProvider
    problems: list[str] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return bool(self.integration and self.integration.provider == Provider.CONNECTWISE)

    def cache_key(self, name: str) -> str:
        stamp = int(self.integration.updated_at.timestamp()) if self.integration else 0
        return f"psa:lookup:{self.account.pk}:{stamp}:{name}"


def workspace_for(account: Account) -> Workspace:
    integration = integration_of(account)
    return Workspace(account=account, integration=integration, provider=build_provider(integration))


def _cached(ws: Workspace, name: str, load: Callable[[], list[T]]) -> Lookup[T]:
    key = ws.cache_key(name)
    hit = cache.get(key)
    if hit is not None:
        return Lookup(items=list(hit))
    try:
        items = load()
    except PSAError as exc:
        logger.warning("PSA lookup %s for account %s failed: %s", name, ws.account.pk, exc.detail)
        permission = exc.permission if isinstance(exc, PSAPermissionError) else ""
        ws.problems.append(exc.detail)
        return Lookup(items=[], problem=exc.detail, permission=permission)
    cache.set(key, items, LOOKUP_TTL)
    return Lookup(items=items)


def boards(ws: Workspace) -> Lookup[Board]:
    return _cached(ws, "boards", ws.provider.boards)


def board_statuses(ws: Workspace, board_id: int) -> Lookup[Status]:
    return _cached(ws, f"statuses:{int(board_id)}", lambda: ws.provider.board_statuses(board_id))


def all_statuses(ws: Workspace) -> Lookup[Status]:
    """Every board's statuses (status names are aggregated across boards by the filters), cached
    as one entry so a page reads it in one round trip."""
    key = ws.cache_key("statuses:all")
    hit = cache.get(key)
    if hit is not None:
        return Lookup(items=list(hit))
    found = boards(ws)
    items: list[Status] = []
    problem = found.problem
    permission = found.permission
    for board in found.items:
        statuses = board_statuses(ws, board.id)
        items.extend(statuses.items)
        problem = problem or statuses.problem
        permission = permission or statuses.permission
    if not problem:
        cache.set(key, items, LOOKUP_TTL)
    return Lookup(items=items, problem=problem, permission=permission)


def status_names(statuses: list[Status]) -> list[str]:
    """Distinct names in board order, open statuses first."""
    seen: dict[str, Status] = {}
    for status in sorted(statuses, key=lambda s: (s.closed, s.sort)):
        seen.setdefault(status.name.lower(), status)
    return [s.name for s in seen.values()]


def priorities(ws: Workspace) -> Lookup[Priority]:
    return _cached(ws, "priorities", ws.provider.priorities)


def members(ws: Workspace) -> Lookup[Member]:
    return _cached(ws, "members", ws.provider.members)


def companies(ws: Workspace) -> Lookup[Company]:
    return _cached(ws, "companies", ws.provider.companies)


def member_for_user(ws: Workspace, user: User) -> Member | None:
    """The PSA member who is this user (matched by e-mail), from the cached member list."""
    email = user.email.lower()
    return next((m for m in members(ws).items if m.email.lower() == email), None)


def search_tickets(ws: Workspace, user: User, query: TicketQuery) -> TicketPage:
    """One page of tickets; "mine" becomes the user's member identifier (none → no tickets)."""
    if query.assignee == "mine":
        me = member_for_user(ws, user)
        if me is None:
            ws.problems.append(
                f"No ConnectWise member has the e-mail {user.email}, so 'Mine' finds nothing."
            )
            return TicketPage(tickets=[], page=1, page_size=query.page_size, has_next=False)
        query = replace(query, assignee=me.identifier)
    return ws.provider.search_tickets(query)


def get_ticket(ws: Workspace, ticket_id: int) -> Ticket:
    """The ticket, or a 404 when this account's PSA has no such ticket (or there is no PSA)."""
    if not ws.connected:
        raise NotFound("No PSA is connected to this account.")
    try:
        return ws.provider.get_ticket(ticket_id)
    except PSANotFound as exc:
        raise NotFound(f"Ticket #{ticket_id} was not found in ConnectWise.") from exc


def query_from(data: dict[str, Any]) -> TicketQuery:
    """A ticket query from validated filter values (page size capped at 100)."""
    return TicketQuery(
        board_id=data.get("board") or None,
        status_name=(data.get("status") or "").strip(),
        assignee=(data.get("assignee") or "").strip(),
        text=(data.get("q") or "").strip(),
        open_only=bool(data.get("open", True)),
        page=int(data.get("page") or 1),
        page_size=min(int(data.get("page_size") or 25), 100),
    )


def integration_summary(
    account: Account, integration: PSAIntegration | None | bool = False
) -> dict[str, Any]:
    """What the settings page and API show of the connection: never a key, only whether set.
    Pass the integration already read (or None) to save the query."""
    if integration is False:
        integration = integration_of(account)
    if not isinstance(integration, PSAIntegration):
        return {
            "provider": Provider.NONE,
            "site": "",
            "company_id": "",
            "client_id": "",
            "public_key_set": False,
            "private_key_set": False,
            "public_key_hint": "",
            "is_simulator": False,
            "last_test": None,
        }
    try:
        hint = integration.public_key_hint()
    except DomainError:
        hint = ""
    return {
        "provider": integration.provider,
        "site": integration.site,
        "company_id": integration.company_id,
        "client_id": integration.client_id,
        "public_key_set": bool(integration.public_key_encrypted),
        "private_key_set": bool(integration.private_key_encrypted),
        "public_key_hint": hint,
        "is_simulator": is_simulator(integration),
        "last_test": None
        if integration.last_tested_at is None
        else {
            "ok": integration.last_test_ok,
            "message": integration.last_test_message,
            "at": integration.last_tested_at.isoformat(),
        },
    }


def ticket_notes(ws: Workspace, ticket_id: int) -> Lookup[Note]:
    try:
        return Lookup(items=ws.provider.notes(ticket_id))
    except PSAError as exc:
        logger.warning("PSA notes of ticket %s failed: %s", ticket_id, exc.detail)
        permission = exc.permission if isinstance(exc, PSAPermissionError) else ""
        return Lookup(items=[], problem=exc.detail, permission=permission)


PROMPT_TTL = 300
PROMPT_MISS_TTL = 60
PROMPT_TIMEOUT = (2.0, 3.0)


def ticket_for_prompt(*, account_id: int, ticket_id: str) -> dict[str, Any] | None:
    """
    The linked ticket's company, summary and initial description for the assistant, cached per
    account and ticket. Read with short timeouts and never raising: a PSA that is down or slow
    costs the chat at most a few seconds once a minute, and the chat works without it.
    """
    text = str(ticket_id).strip().lstrip("#")
    if not text.isdigit():
        return None
    key = f"psa:prompt:{account_id}:{text}"
    hit = cache.get(key)
    if hit is not None:
        return dict(hit) or None
    integration = (
        PSAIntegration.objects.filter(account_id=account_id, provider=Provider.CONNECTWISE)
        .select_related("account")
        .first()
    )
    if integration is None:
        return None
    try:
        ticket = build_provider(integration, timeout=PROMPT_TIMEOUT).get_ticket(int(text))
    except (PSAError, DomainError) as exc:
        logger.warning("Ticket %s for the prompt of account %s: %s", text, account_id, exc)
        cache.set(key, {}, PROMPT_MISS_TTL)
        return None
    details = {
        "id": ticket.id,
        "summary": ticket.summary,
        "company": ticket.company.name if ticket.company else "",
        "contact": ticket.contact_name,
        "board": ticket.board.name if ticket.board else "",
        "status": ticket.status.name if ticket.status else "",
        "initial_description": ticket.initial_description[:2000],
    }
    cache.set(key, details, PROMPT_TTL)
    return details


CONNECTED_TTL = 60


def connected_key(account_id: int) -> str:
    return f"psa:connected:{account_id}"


def is_connected(account_id: int) -> bool:
    """Whether the account has a ConnectWise connection, cached (pages that only show a link)."""
    hit = cache.get(connected_key(account_id))
    if hit is None:
        hit = PSAIntegration.objects.filter(
            account_id=account_id, provider=Provider.CONNECTWISE
        ).exists()
        cache.set(connected_key(account_id), hit, CONNECTED_TTL)
    return bool(hit)
