"""The ``none`` provider: no PSA. Lists are empty and ticket operations say there is no PSA."""

from __future__ import annotations

from psa.errors import PSANotConfigured
from psa.providers.base import (
    Board,
    Company,
    ConnectionResult,
    Member,
    NewTicket,
    Note,
    NoteKind,
    Priority,
    Status,
    Ticket,
    TicketPage,
    TicketQuery,
)

NO_PSA = "No PSA is connected to this account; sessions resolve and escalate locally."


class NoneProvider:
    name = "none"
    is_remote = False

    def _refuse(self) -> PSANotConfigured:
        return PSANotConfigured(NO_PSA)

    def test_connection(self) -> ConnectionResult:
        return ConnectionResult(ok=True, message="Local only: no PSA to reach.")

    def search_tickets(self, query: TicketQuery) -> TicketPage:
        return TicketPage(tickets=[], page=1, page_size=query.page_size, has_next=False)

    def get_ticket(self, ticket_id: int) -> Ticket:
        raise self._refuse()

    def create_ticket(self, ticket: NewTicket) -> Ticket:
        raise self._refuse()

    def boards(self) -> list[Board]:
        return []

    def board_statuses(self, board_id: int) -> list[Status]:
        return []

    def priorities(self) -> list[Priority]:
        return []

    def members(self) -> list[Member]:
        return []

    def companies(self) -> list[Company]:
        return []

    def ticket_resources(self, ticket_id: int) -> list[str]:
        raise self._refuse()

    def add_resource(self, ticket_id: int, identifier: str) -> list[str]:
        raise self._refuse()

    def remove_resource(self, ticket_id: int, identifier: str) -> list[str]:
        raise self._refuse()

    def notes(self, ticket_id: int) -> list[Note]:
        raise self._refuse()

    def add_note(self, ticket_id: int, text: str, kind: NoteKind) -> Note:
        raise self._refuse()

    def set_status(self, ticket_id: int, status_id: int) -> Ticket:
        raise self._refuse()

    def ticket_status(self, ticket_id: int) -> Ticket:
        raise self._refuse()
