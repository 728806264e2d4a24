"""Context every page template receives: the app shell's navigation."""

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


def _nav_items() -> list[dict[str, Any]]:
    items = []
    for key, label, url_name in NAVIGATION:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            url = ""
        items.append({"key": key, "label": label, "url": url})
    return items


def app_shell(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"DEBUG": settings.DEBUG}
    return {
        "DEBUG": settings.DEBUG,
        "nav_items": _nav_items(),
        "llm_provider": settings.LLM_PROVIDER,
    }
