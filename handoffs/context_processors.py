"""The bell's unread count on every page, counted only when a template shows it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        from handoffs.selectors import unread_count

        return unread_count(user)

    return {"bell_unread": SimpleLazyObject(count)}
