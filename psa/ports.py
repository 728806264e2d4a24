"""
Actions other apps offer on a ticket (e.g. "Start session"), registered from the composition
app's ``AppConfig.ready`` so psa names no downstream app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.models import User
from psa.providers.base import Ticket


@dataclass(frozen=True)
class TicketAction:
    key: str
    label: str
    url: str
    method: str = "get"  # "get": a link; "post": a form with ``fields`` (+ a ``choices`` select)
    fields: dict[str, str] = field(default_factory=dict)
    choice_name: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    primary: bool = False


ActionSource = Callable[[Ticket, User], list[TicketAction]]
_sources: dict[str, ActionSource] = {}


def register_ticket_actions(key: str, source: ActionSource) -> None:
    _sources[key] = source


def ticket_actions(ticket: Ticket, user: User) -> list[TicketAction]:
    actions: list[TicketAction] = []
    for source in _sources.values():
        actions.extend(source(ticket, user))
    return actions


# After "New ticket" with a ``session`` reference (a ticket spun off a session), the hooks may
# link it and return where to go next (the first URL wins).
CreatedHook = Callable[[Ticket, User, str], str | None]
_created_hooks: dict[str, CreatedHook] = {}


def register_ticket_created(key: str, hook: CreatedHook) -> None:
    _created_hooks[key] = hook


def ticket_created(ticket: Ticket, user: User, origin: str) -> str | None:
    next_url = None
    for hook in _created_hooks.values():
        next_url = hook(ticket, user, origin) or next_url
    return next_url
