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

import logging
from collections.abc import Callable
from typing import Any, Protocol

from accounts.models import Account, User

logger = logging.getLogger(__name__)


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


# ``PromptContextSource``: a feature beside the chat (institutional memory) adds keys to the
# context the assistant gets for a chat turn. Each source answers a dict merged into the
# context; a failing source is logged and skipped, so the chat never fails because of it.
PromptContextSource = Callable[[Any, dict[str, Any]], dict[str, Any]]
_prompt_sources: list[PromptContextSource] = []


def register_prompt_context_source(source: PromptContextSource) -> None:
    if source not in _prompt_sources:
        _prompt_sources.append(source)


def extra_prompt_context(session: Any, context: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for source in _prompt_sources:
        try:
            extra.update(source(session, context))
        except Exception:
            logger.exception("Prompt context source %r failed for session %s", source, session.pk)
    return extra


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


class TicketLinks(Protocol):
    """Extra ticket actions on a session page (e.g. "New ticket from this session"): a list of
    ``{"key", "label", "url"}``. Called only for people who can act on the session; must not
    query the database on every page view (cache what it needs)."""

    def __call__(self, *, session: Any, user: User) -> list[dict[str, str]]: ...


_ticket_links: list[TicketLinks] = []


def register_ticket_links(source: TicketLinks) -> None:
    _ticket_links[:] = [source]


def ticket_links(*, session: Any, user: User) -> list[dict[str, str]]:
    return _ticket_links[0](session=session, user=user) if _ticket_links else []
