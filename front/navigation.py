"""The app shell's navigation: every section of the product, wherever its app lives."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject

from front.selectors import ShellCounts, shell_counts

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


# Every URL the shell links to on every page, besides NAVIGATION and PALETTE.
SHELL_URL_NAMES = (
    "dashboard",
    "logout",
    "notifications",
    "palette-sessions",
    "session-new",
    "account-session-status",
    "account-session-extend",
    "account-session-dismiss",
)
_URLS: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]]] = {}


def _reverse(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _shell_urls() -> tuple[dict[str, str], dict[str, str]]:
    """
    The shell's URLs by url name ("" for a page not installed), and the same keyed for
    templates (``{{ shell_urls.session_new }}``): reversed once per script prefix and URLconf
    rather than on every page.
    """
    key = (get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF))
    cached = _URLS.get(key)
    if cached is None:
        names = {name for *_, name in NAVIGATION} | {name for _, name, _ in PALETTE}
        urls = {name: _reverse(name) for name in sorted(names | set(SHELL_URL_NAMES))}
        cached = urls, {name.replace("-", "_"): url for name, url in urls.items()}
        _URLS[key] = cached
    return cached


def _url(name: str) -> str:
    urls = _shell_urls()[0]
    return urls[name] if name in urls else _reverse(name)


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


class _Badges:
    """The shell's counts for one request: read with one query when a template first shows one
    of them, never when none renders; a failure leaves the badges out, never the page."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self._counts: ShellCounts | None = None

    def _read(self) -> ShellCounts:
        if self._counts is None:
            try:
                self._counts = shell_counts(self.user)
            except Exception:
                logger.exception("Badge counts failed for the app shell")
                self._counts = ShellCounts(0, 0)
        return self._counts

    def pending_drafts(self) -> int | str:
        return (self._read().pending_drafts or "") if self.user.can_act else ""

    def unread(self) -> int:
        return self._read().unread_notifications


def nav_items(
    request: HttpRequest | None = None, *, counts: _Badges | None = None
) -> list[dict[str, Any]]:
    badges: dict[str, Callable[[], int | str]] = {}
    if request is not None:
        badges["scripts"] = (counts or _Badges(request.user)).pending_drafts
    user = getattr(request, "user", None)
    return [
        {"key": key, "label": label, "url": _url(name), "badge": badges.get(key, "")}
        for key, label, name in NAVIGATION
        if user is None or _allowed(name, user)
    ]


def app_shell(request: HttpRequest) -> dict[str, Any]:
    """Context processor: what every page template's shell needs."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"DEBUG": settings.DEBUG, "shell_urls": _shell_urls()[1]}
    counts = _Badges(request.user)  # shared by the Scripts badge and the bell
    return {
        "DEBUG": settings.DEBUG,
        "shell_urls": _shell_urls()[1],
        "nav_items": nav_items(request, counts=counts),
        "palette_commands": palette_commands(request.user),
        "llm_provider": settings.LLM_PROVIDER,
        "bell_unread": SimpleLazyObject(counts.unread),
    }
