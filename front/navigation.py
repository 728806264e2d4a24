"""The app shell's navigation: every section of the product, wherever its app lives."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

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


def palette_commands() -> list[dict[str, str]]:
    return [
        {"label": label, "url": url, "key": key}
        for label, name, key in PALETTE
        if (url := _url(name))
    ]


def nav_items() -> list[dict[str, Any]]:
    return [{"key": key, "label": label, "url": _url(name)} for key, label, name in NAVIGATION]


def app_shell(request: HttpRequest) -> dict[str, Any]:
    """Context processor: what every page template's shell needs."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"DEBUG": settings.DEBUG}
    return {
        "DEBUG": settings.DEBUG,
        "nav_items": nav_items(),
        "palette_commands": palette_commands(),
        "llm_provider": settings.LLM_PROVIDER,
    }
