"""Changes to PSA tickets made from the Tickets workspace (create, assign, unassign)."""

from __future__ import annotations

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import DomainError
from psa.errors import PSANotConfigured
from psa.providers.base import NewTicket, Ticket
from psa.selectors import Workspace, members

SUMMARY_LIMIT = 100


def _require_connected(ws: Workspace) -> None:
    if not ws.connected:
        raise PSANotConfigured("Connect a PSA in Account › PSA integration first.")


def create_ticket(*, ws: Workspace, actor: User, ticket: NewTicket) -> Ticket:
    _require_connected(ws)
    errors: dict[str, list[str]] = {}
    summary = ticket.summary.strip()
    if not summary:
        errors["summary"] = ["Required."]
    elif len(summary) > SUMMARY_LIMIT:
        errors["summary"] = [f"ConnectWise keeps at most {SUMMARY_LIMIT} characters."]
    if not ticket.board_id:
        errors["board_id"] = ["Choose a board."]
    if not ticket.company_id:
        errors["company_id"] = ["Choose a company."]
    if errors:
        raise DomainError("Check the highlighted fields.", code="invalid", extra=errors)
    created = ws.provider.create_ticket(ticket)
    record_event(
        account=ws.account,
        actor=actor,
        type="psa.ticket_created",
        payload={"ticket_id": created.id, "board_id": ticket.board_id},
    )
    return created


def _known_member(ws: Workspace, identifier: str) -> str:
    identifier = (identifier or "").strip()
    known = {m.identifier.lower(): m.identifier for m in members(ws).items}
    if not identifier:
        raise DomainError("Choose a member.", code="invalid", extra={"member": ["Required."]})
    # With no member list (no permission to read it) the identifier is passed through as typed.
    if known and identifier.lower() not in known:
        raise DomainError(
            f"No ConnectWise member '{identifier}'.",
            code="invalid",
            extra={"member": ["Unknown member."]},
        )
    return known.get(identifier.lower(), identifier)


def assign_member(*, ws: Workspace, actor: User, ticket_id: int, identifier: str) -> list[str]:
    """Add a member to the ticket's ``resources`` without dropping the others."""
    _require_connected(ws)
    member = _known_member(ws, identifier)
    resources = ws.provider.add_resource(ticket_id, member)
    record_event(
        account=ws.account,
        actor=actor,
        type="psa.ticket_assigned",
        payload={"ticket_id": ticket_id, "member": member},
    )
    return resources


def unassign_member(*, ws: Workspace, actor: User, ticket_id: int, identifier: str) -> list[str]:
    _require_connected(ws)
    member = (identifier or "").strip()
    if not member:
        raise DomainError("Choose a member.", code="invalid", extra={"member": ["Required."]})
    resources = ws.provider.remove_resource(ticket_id, member)
    record_event(
        account=ws.account,
        actor=actor,
        type="psa.ticket_unassigned",
        payload={"ticket_id": ticket_id, "member": member},
    )
    return resources
