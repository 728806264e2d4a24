"""Browser: toasts stack below the top bar, newest first, at most three."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_toasts_stack_below_the_top_bar_newest_first_at_most_three(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    login_as(page, engineer)
    page.goto(live_server_url + "/")
    page.wait_for_function("window.FlowPilot && window.FlowPilot.toast")
    for index in range(1, 5):
        page.evaluate(f"window.FlowPilot.toast('Toast {index}', {{sticky: true}})")
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(3)
    expect(toasts.first).to_contain_text("Toast 4")
    expect(toasts.last).to_contain_text("Toast 2")
    bar = page.locator(".topbar").bounding_box()
    first = toasts.first.bounding_box()
    assert bar is not None and first is not None
    assert first["y"] >= bar["y"] + bar["height"]
