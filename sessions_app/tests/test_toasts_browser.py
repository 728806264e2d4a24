"""
Browser: on the session page toasts never cover the task lane's header — at 1280×800 (the lane
is the right-hand column) and at 1024×768 (the lane opens as a drawer over the page). The
screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from sessions_app.tests.test_fixes import make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1024, 768)])
def test_toasts_keep_clear_of_the_task_lane_header(
    width: int,
    height: int,
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
) -> None:
    session = make_session(engineer, "Outlook prompts for a password")
    page = new_page()
    page.set_viewport_size({"width": width, "height": height})
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    toggle = page.locator("[data-lane-toggle]")
    if toggle.is_visible():  # narrow: the lane is a drawer, opened by its button
        toggle.click()
    header = page.locator("#what-we-know .lane-section-head")
    expect(header).to_be_in_viewport()
    page.wait_for_timeout(300)  # the drawer's slide-in
    # The most toasts that ever show at once (three), the longest kind: a titled, wrapped one.
    page.evaluate(
        """() => { for (let i = 0; i < 3; i++) window.FlowPilot.toast(
            "The session was escalated to the senior on call; they were told by e-mail.",
            { title: "Escalated", sticky: true }); }"""
    )
    toasts = page.locator("#toasts .toast")
    expect(toasts).to_have_count(3)
    page.wait_for_timeout(300)  # their slide-in, for the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"session-toasts-{width}x{height}.png"))
    lane = page.locator(".task-lane").bounding_box()
    head = header.bounding_box()
    assert lane is not None and head is not None
    for index in range(3):
        box = toasts.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert not _overlap(box, head), (index, box, head)
        assert not _overlap(box, lane), (index, box, lane)
