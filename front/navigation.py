"""The app shell's navigation: every section of the product, wherever its app lives."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from scripts.selectors import pending_draft_count

logger = logging.getLogger(__name__)

# (key, label, url name). Sections whose pages are not installed show as unavailable.
NAVIGATION = [
    ("sessions", "Sessions", "sessions-list"),
    ("history", "History", "memory-search"),
    ("escalations", "Escalations", "escalation-queue"),
    ("scripts", "Scripts", "scripts-library"),
    ("tickets", "Tickets", "tickets-list"),
    ("analytics", "Analytics", "analytics-escalations"),
    ("account", "Account", "account-settings"),
]


# The command palette of the session pages: (label, url name, key). Missing pages are left out.
PALETTE = [
    ("New session", "session-new", "N"),
    ("Go to escalations", "escalation-queue", "E"),
    ("All sessions", "sessions-list", "S"),
    ("Search history", "memory-search", "H"),
    ("Open script generator", "scripts-generate", "G"),
    ("Dashboard", "dashboard", "D"),
]


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


# Pages only engineers and up may open: a viewer is never offered a link that answers 403.
ACTING_ONLY = frozenset({"session-new", "escalation-queue", "analytics-escalations"})


def _allowed(name: str, user: Any) -> bool:
    return name not in ACTING_ONLY or bool(getattr(user, "can_act", False))


def palette_commands(user: Any = None) -> list[dict[str, str]]:
    return [
        {"label": label, "url": url, "key": key}
        for label, name, key in PALETTE
        if (user is None or _allowed(name, user)) and (url := _url(name))
    ]


def _pending_drafts_badge(request: HttpRequest) -> Callable[[], int | str]:
    """The Scripts item's count of draft templates awaiting review, read only if the sidebar
    renders it; a failure leaves the badge out, never the page."""

    def badge() -> int | str:
        user: Any = request.user
        if not user.can_act:
            return ""
        try:
            return pending_draft_count(user.account_id) or ""
        except Exception:
            logger.exception("Pending-draft count failed for the navigation")
            return ""

    return badge


def nav_items(request: HttpRequest | None = None) -> list[dict[str, Any]]:
    badges: dict[str, Callable[[], int | str]] = {}
    if request is not None:
        badges["scripts"] = _pending_drafts_badge(request)
    user = getattr(request, "user", None)
    return [
        {"key": key, "label": label, "url": _url(name), "badge": badges.get(key, "")}
        for key, label, name in NAVIGATION
        if user is None or _allowed(name, user)
    ]


def app_shell(request: HttpRequest) -> dict[str, Any]:
    """Context processor: what every page template's shell needs."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"DEBUG": settings.DEBUG}
    return {
        "DEBUG": settings.DEBUG,
        "nav_items": nav_items(request),
        "palette_commands": palette_commands(request.user),
        "llm_provider": settings.LLM_PROVIDER,
    }
