"""
Dashboard panels. Each panel is a template plus the context it reads, built by a function of
the signed-in user; the dashboard shows them in this order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from accounts.models import User
from handoffs import selectors as handoff_selectors
from sessions_app import selectors as session_selectors

RECENT_SESSIONS = 6


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def recent_sessions_panel(user: User) -> Panel:
    return Panel(
        template="front/_recent_sessions_panel.html",
        context={
            "recent_sessions": session_selectors.sidebar_sessions(user, limit=RECENT_SESSIONS),
            "new_session_url": reverse("session-new"),
        },
    )


WAITING_ON_DASHBOARD = 5


def waiting_escalations_panel(user: User) -> Panel | None:
    """Seniors: escalations of colleagues waiting for pick-up (not their own)."""
    if not user.can_act:
        return None
    page = handoff_selectors.escalation_queue(user, limit=WAITING_ON_DASHBOARD)
    return Panel(
        template="front/_waiting_escalations_panel.html",
        context={"waiting_handoffs": page.items},
    )


def my_escalations_panel(user: User) -> Panel | None:
    """Whoever escalated: what became of their escalations (who picked them up)."""
    mine = handoff_selectors.my_open_escalations(user)
    if not mine:
        return None
    return Panel(template="front/_my_escalations_panel.html", context={"my_handoffs": mine})


PANELS: list[Callable[[User], Panel | None]] = [
    recent_sessions_panel,
    waiting_escalations_panel,
    my_escalations_panel,
]


def dashboard_context(user: User) -> dict[str, Any]:
    """The panels, plus each panel's context merged for the page header (New session button)."""
    panels = [panel for build in PANELS if (panel := build(user)) is not None]
    context: dict[str, Any] = {"dashboard_panels": panels}
    for panel in panels:
        context.update(panel.context)
    return context
