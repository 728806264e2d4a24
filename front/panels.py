"""
Dashboard panels. Each panel is one fragment (a template plus the context it reads), built by a
function of the signed-in user; the dashboard shows them in this order, and
``GET /dashboard/panels/<key>`` renders one alone, which is how a panel refreshes itself when the
user's notification socket pushes something.
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
WAITING_ON_DASHBOARD = 5
PICKED_UP_ON_DASHBOARD = 5
NOTIFICATIONS_ON_DASHBOARD = 5


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def sessions_panel(user: User) -> Panel:
    """Engineers and up: their open sessions and where each stands. Viewers, who start none:
    the account's newest sessions, read-only."""
    if not user.can_act:
        return Panel(
            key="sessions",
            template="front/_recent_sessions_panel.html",
            context={
                "recent_sessions": session_selectors.sidebar_sessions(user, limit=RECENT_SESSIONS)
            },
        )
    return Panel(
        key="sessions",
        template="front/_open_sessions_panel.html",
        context={
            "open_sessions": session_selectors.my_open_sessions(user),
            "new_session_url": reverse("session-new"),
        },
    )


def waiting_escalations_panel(user: User) -> Panel | None:
    """Seniors: escalations of colleagues waiting for pick-up (not their own)."""
    if not user.can_act:
        return None
    page = handoff_selectors.escalation_queue(
        user, limit=WAITING_ON_DASHBOARD, columns=handoff_selectors.QUEUE_SUMMARY_COLUMNS
    )
    return Panel(
        key="waiting",
        template="front/_waiting_escalations_panel.html",
        context={"waiting_handoffs": page.items},
    )


def picked_up_panel(user: User) -> Panel | None:
    """Whoever escalated: who picked their sessions up, and when."""
    if not user.can_act:
        return None
    picked = handoff_selectors.picked_up_from_me(user, limit=PICKED_UP_ON_DASHBOARD)
    return Panel(
        key="picked-up",
        template="front/_picked_up_panel.html",
        context={"picked_up": picked},
    )


def notifications_panel(user: User) -> Panel:
    return Panel(
        key="notifications",
        template="front/_notifications_panel.html",
        context={
            "dashboard_notifications": handoff_selectors.recent_notifications(
                user, limit=NOTIFICATIONS_ON_DASHBOARD
            )
        },
    )


PANELS: dict[str, Callable[[User], Panel | None]] = {
    "sessions": sessions_panel,
    "waiting": waiting_escalations_panel,
    "picked-up": picked_up_panel,
    "notifications": notifications_panel,
}


def dashboard_context(user: User) -> dict[str, Any]:
    """The panels, plus each panel's context merged for the page header (New session button)."""
    panels = [panel for build in PANELS.values() if (panel := build(user)) is not None]
    context: dict[str, Any] = {"dashboard_panels": panels}
    for panel in panels:
        context.update(panel.context)
    return context


def dashboard_panel(user: User, key: str) -> Panel | None:
    """One panel by key; None for an unknown key or a panel this user does not get."""
    build = PANELS.get(key)
    return build(user) if build is not None else None
