"""
HTMX answers shared by every app, built on ``django_htmx.http``: the toast event that
``static/js`` shows, and the ``session-changed``-style events pages listen for.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import HttpResponse
from django_htmx.http import trigger_client_event

R = TypeVar("R", bound=HttpResponse)


def toast(response: R, message: str, tone: str = "neutral") -> R:
    """Add a ``toast`` client event (merged with any other ``HX-Trigger`` event)."""
    return trigger_client_event(response, "toast", {"message": message, "tone": tone})


def events(response: R, **named: Any) -> R:
    """Add client events by name (``session_changed=...`` becomes ``session-changed``)."""
    for name, params in named.items():
        response = trigger_client_event(response, name.replace("_", "-"), params)
    return response
