"""
What sessions need from apps that build on them, as small ports those apps fill in their
``AppConfig.ready`` (sessions name no downstream app).

``TicketWriteback``: when a session linked to a PSA ticket is resolved or escalated, its note or
package is written to the ticket first. The implementation returns a JSON-able receipt, or None
when the account has no PSA (the session then resolves or escalates locally), and raises a
``flowpilot.errors.DomainError`` (an ``UpstreamError`` for a PSA failure) to refuse: the session
is then left unchanged.
"""

from __future__ import annotations

from typing import Any, Protocol

from accounts.models import Account, User


class TicketWriteback(Protocol):
    def post_resolution(
        self, *, account: Account, actor: User, ticket_id: str, text: str
    ) -> dict[str, Any] | None: ...

    def post_escalation(
        self, *, account: Account, actor: User, ticket_id: str, text: str
    ) -> dict[str, Any] | None: ...


_writeback: list[TicketWriteback] = []


def register_ticket_writeback(implementation: TicketWriteback) -> None:
    """Install the write-back (the last registration wins; registering again is harmless)."""
    _writeback[:] = [implementation]


def ticket_writeback() -> TicketWriteback | None:
    return _writeback[0] if _writeback else None


class TicketDetails(Protocol):
    """The linked ticket's company, summary and initial description for the assistant's prompt,
    or None when unknown. Must answer quickly and never raise: the chat works without it."""

    def __call__(self, *, account_id: int, ticket_id: str) -> dict[str, Any] | None: ...


_ticket_details: list[TicketDetails] = []


def register_ticket_details(source: TicketDetails) -> None:
    _ticket_details[:] = [source]


def ticket_details(*, account_id: int, ticket_id: str) -> dict[str, Any] | None:
    if not ticket_id or not _ticket_details:
        return None
    return _ticket_details[0](account_id=account_id, ticket_id=ticket_id)
