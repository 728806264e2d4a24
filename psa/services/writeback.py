"""
Writing a session's outcome back to its PSA ticket: the resolution note (customer-visible
resolution flag) or the escalation package (internal-analysis flag), then the configured status,
verified by re-reading the ticket.

Called outside any database transaction: the caller changes the session only after this returns,
so a PSA failure leaves the session as it was and the engineer can post again. A retry never
double-posts: the ticket's notes are read first and an identical note of the same kind counts as
already posted (a timeout whose POST actually landed is the usual cause).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from accounts.models import Account, User
from accounts.services.audit import record_event
from accounts.services.preferences import get_preferences
from flowpilot.errors import DomainError
from psa.errors import PSAStatusVerificationError, PSATimeout
from psa.providers.base import Note, NoteKind, Ticket
from psa.selectors import Workspace, all_statuses, board_statuses, workspace_for

logger = logging.getLogger(__name__)

RESOLVED_PREFERENCE = "cw_resolved_status_id"
ESCALATED_PREFERENCE = "cw_escalated_status_id"


@dataclass(frozen=True)
class WritebackResult:
    ticket_id: int
    note_id: int
    note_kind: str
    note_already_posted: bool
    status_transition: str  # "applied", "already", "skipped"
    status_id: int | None = None
    status_name: str = ""
    status_transition_skipped_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "note_id": self.note_id,
            "note_kind": self.note_kind,
            "note_already_posted": self.note_already_posted,
            "status_transition": self.status_transition,
            "status_id": self.status_id,
            "status_name": self.status_name,
            "status_transition_skipped_reason": self.status_transition_skipped_reason,
        }


def parse_ticket_id(value: str | int) -> int:
    text = str(value).strip().lstrip("#")
    if not text.isdigit():
        raise DomainError(
            f"Ticket '{value}' is not a ConnectWise ticket number.", code="invalid_ticket_id"
        )
    return int(text)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _find(notes: list[Note], text: str, kind: NoteKind) -> Note | None:
    return next((n for n in notes if n.kind == kind and _same(n.text, text)), None)


def post_note_once(
    *, ws: Workspace, ticket_id: int, text: str, kind: NoteKind
) -> tuple[Note, bool]:
    """Post the note unless the ticket already has it; (note, already posted)."""
    existing = _find(ws.provider.notes(ticket_id), text, kind)
    if existing is not None:
        return existing, True
    try:
        return ws.provider.add_note(ticket_id, text, kind), False
    except PSATimeout:
        # The POST may have landed although no answer came back: look before anyone retries.
        landed = _find(ws.provider.notes(ticket_id), text, kind)
        if landed is not None:
            logger.info("Note on ticket %s landed despite the timeout", ticket_id)
            return landed, True
        raise


def _target_on_board(ws: Workspace, ticket: Ticket, status_id: int) -> int:
    """The configured status, or the one with its name on the ticket's board (ids are per board)."""
    if ticket.board is None:
        return status_id
    on_board = board_statuses(ws, ticket.board.id).items
    if any(s.id == status_id for s in on_board) or not on_board:
        return status_id
    configured = next((s for s in all_statuses(ws).items if s.id == status_id), None)
    if configured is None:
        return status_id
    same_name = next((s for s in on_board if s.name.lower() == configured.name.lower()), None)
    return same_name.id if same_name else status_id


def transition_ticket_status(
    *, ws: Workspace, ticket_id: int, status_id: int
) -> tuple[Ticket, bool]:
    """
    Move the ticket to ``status_id`` and prove it moved: the PATCH answer and a fresh read must
    both show the new status, else ``PSAStatusVerificationError`` (a silently ignored change).
    Returns (ticket, changed now).
    """
    before = ws.provider.ticket_status(ticket_id)
    target = _target_on_board(ws, before, status_id)
    if before.status and before.status.id == target:
        return before, False
    answered = ws.provider.set_status(ticket_id, target)
    fresh = ws.provider.ticket_status(ticket_id)
    for seen in (answered, fresh):
        if seen.status is None or seen.status.id != target:
            shown = seen.status.name if seen.status else "no status"
            logger.warning(
                "ConnectWise ignored the status change of ticket %s to %s (shows %s)",
                ticket_id,
                target,
                shown,
            )
            raise PSAStatusVerificationError(
                f"ConnectWise accepted the status change of ticket #{ticket_id} but the ticket "
                f"still shows '{shown}'. Check the board's workflow rules, then post again.",
                extra={"ticket_id": ticket_id, "expected_status_id": target},
            )
    return fresh, True


def _write_back(
    *,
    account: Account,
    actor: User,
    ticket_id: str | int,
    text: str,
    kind: NoteKind,
    preference: str,
    audit_type: str,
) -> WritebackResult | None:
    ws = workspace_for(account)
    if not ws.connected:
        return None
    number = parse_ticket_id(ticket_id)
    note, already = post_note_once(ws=ws, ticket_id=number, text=text, kind=kind)
    status_id = get_preferences(account).get(preference)
    if not status_id:
        result = WritebackResult(
            ticket_id=number,
            note_id=note.id,
            note_kind=kind.value,
            note_already_posted=already,
            status_transition="skipped",
            status_transition_skipped_reason=f"No target status is configured ({preference}).",
        )
    else:
        ticket, changed = transition_ticket_status(
            ws=ws, ticket_id=number, status_id=int(status_id)
        )
        result = WritebackResult(
            ticket_id=number,
            note_id=note.id,
            note_kind=kind.value,
            note_already_posted=already,
            status_transition="applied" if changed else "already",
            status_id=ticket.status.id if ticket.status else None,
            status_name=ticket.status.name if ticket.status else "",
        )
    record_event(
        account=account,
        actor=actor,
        type=audit_type,
        payload={
            "ticket_id": number,
            "note_id": note.id,
            "status_transition": result.status_transition,
            "status_id": result.status_id,
        },
    )
    return result


def post_resolution_note(
    *, account: Account, actor: User, ticket_id: str | int, text: str
) -> WritebackResult | None:
    """Resolution note + resolved status. None when the account has no PSA (resolve locally)."""
    return _write_back(
        account=account,
        actor=actor,
        ticket_id=ticket_id,
        text=text,
        kind=NoteKind.RESOLUTION,
        preference=RESOLVED_PREFERENCE,
        audit_type="psa.resolution_posted",
    )


def post_escalation_package(
    *, account: Account, actor: User, ticket_id: str | int, text: str
) -> WritebackResult | None:
    """Internal-analysis note + escalated status. None when the account has no PSA."""
    return _write_back(
        account=account,
        actor=actor,
        ticket_id=ticket_id,
        text=text,
        kind=NoteKind.INTERNAL,
        preference=ESCALATED_PREFERENCE,
        audit_type="psa.escalation_posted",
    )


class TicketWriteback:
    """The implementation of the sessions' write-back port (registered by the composition app)."""

    def post_resolution(
        self, *, account: Account, actor: User, ticket_id: str, text: str
    ) -> dict[str, Any] | None:
        result = post_resolution_note(account=account, actor=actor, ticket_id=ticket_id, text=text)
        return result.as_dict() if result else None

    def post_escalation(
        self, *, account: Account, actor: User, ticket_id: str, text: str
    ) -> dict[str, Any] | None:
        result = post_escalation_package(
            account=account, actor=actor, ticket_id=ticket_id, text=text
        )
        return result.as_dict() if result else None
