"""
The PSA write-back seam of an escalation. The PSA integration registers a ``TicketWriteback``
(from its own ready() or the composition app); until one is registered, or when the session
has no linked ticket, pushing the package to the ticket does nothing and the escalation stays
local. The call runs inside the hand-off's transaction: a write-back that raises a
``DomainError`` rolls the hand-off back and the engineer sees why.
"""

from __future__ import annotations

from typing import Any, Protocol


class TicketWriteback(Protocol):
    def __call__(self, *, handoff: Any, session: Any, markdown: str) -> None: ...


_writebacks: list[TicketWriteback] = []


def register_ticket_writeback(writeback: TicketWriteback) -> None:
    if writeback not in _writebacks:
        _writebacks.append(writeback)


def push_to_ticket(*, handoff: Any, session: Any, markdown: str) -> bool:
    """Hand the package to the registered PSA write-back; False when nothing was pushed."""
    if not session.psa_ticket_id or not _writebacks:
        return False
    for writeback in _writebacks:
        writeback(handoff=handoff, session=session, markdown=markdown)
    return True
