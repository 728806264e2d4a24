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


PANELS: list[Callable[[User], Panel]] = [recent_sessions_panel]


def dashboard_context(user: User) -> dict[str, Any]:
    """The panels, plus each panel's context merged for the page header (New session button)."""
    panels = [build(user) for build in PANELS]
    context: dict[str, Any] = {"dashboard_panels": panels}
    for panel in panels:
        context.update(panel.context)
    return context
