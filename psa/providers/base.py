"""
The provider interface every PSA implements, and the plain records it speaks in. Records are
frozen dataclasses built from the PSA's answers, so templates and serializers never see a raw
upstream payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class NoteKind(StrEnum):
    RESOLUTION = "resolution"
    INTERNAL = "internal"
    DISCUSSION = "discussion"


@dataclass(frozen=True)
class Ref:
    id: int
    name: str
    identifier: str = ""


@dataclass(frozen=True)
class Board:
    id: int
    name: str


@dataclass(frozen=True)
class Status:
    id: int
    name: str
    board_id: int
    closed: bool = False
    sort: int = 0


@dataclass(frozen=True)
class Priority:
    id: int
    name: str
    sort: int = 0


@dataclass(frozen=True)
class Member:
    id: int
    identifier: str
    name: str
    email: str = ""


@dataclass(frozen=True)
class Company:
    id: int
    identifier: str
    name: str


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    kind: NoteKind
    created_by: str = ""
    created_at: str = ""


@dataclass(frozen=True)
class Ticket:
    id: int
    summary: str
    board: Ref | None = None
    status: Ref | None = None
    priority: Ref | None = None
    company: Ref | None = None
    contact_name: str = ""
    resources: tuple[str, ...] = ()
    closed: bool = False
    initial_description: str = ""
    entered_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class TicketQuery:
    board_id: int | None = None
    status_name: str = ""
    # "" = all, "unassigned", or a member identifier ("mine" is resolved before the query).
    assignee: str = ""
    text: str = ""
    open_only: bool = True
    page: int = 1
    page_size: int = 25


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    page: int
    page_size: int
    has_next: bool
    last_page: int | None = None


@dataclass(frozen=True)
class NewTicket:
    summary: str
    company_id: int
    board_id: int
    status_id: int | None = None
    priority_id: int | None = None
    initial_description: str = ""


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str
    company_name: str = ""
    codebase: str = ""
    details: dict[str, str] = field(default_factory=dict)


class PSAProvider(Protocol):
    """One PSA. Methods raise ``psa.errors.PSAError`` subclasses on refusal or failure."""

    name: str
    is_remote: bool

    def test_connection(self) -> ConnectionResult: ...

    def search_tickets(self, query: TicketQuery) -> TicketPage: ...

    def get_ticket(self, ticket_id: int) -> Ticket: ...

    def create_ticket(self, ticket: NewTicket) -> Ticket: ...

    def boards(self) -> list[Board]: ...

    def board_statuses(self, board_id: int) -> list[Status]: ...

    def priorities(self) -> list[Priority]: ...

    def members(self) -> list[Member]: ...

    def companies(self) -> list[Company]: ...

    def ticket_resources(self, ticket_id: int) -> list[str]: ...

    def add_resource(self, ticket_id: int, identifier: str) -> list[str]: ...

    def remove_resource(self, ticket_id: int, identifier: str) -> list[str]: ...

    def notes(self, ticket_id: int) -> list[Note]: ...

    def add_note(self, ticket_id: int, text: str, kind: NoteKind) -> Note: ...

    def set_status(self, ticket_id: int, status_id: int) -> Ticket: ...

    def ticket_status(self, ticket_id: int) -> Ticket:
        """A fresh read of the ticket's status (verification after a change)."""
        ...
