"""
Browser: the task lane and the fix panel beside it. A lane re-render (a reply, a fact) leaves
the panel alone: a preview still loading lands and stays open, and text typed into a lane
answer but not saved survives an assistant reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from sessions_app.tests.test_fixes import make_fix, make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def contains(fragment: str) -> re.Pattern[str]:
    return re.compile(".*" + re.escape(fragment) + ".*", re.DOTALL)


def mark_lane(page: Any) -> None:
    """Tag the lane's current content, to see later that it was re-rendered."""
    page.evaluate("document.querySelector('#task-lane .lane-inner').dataset.old = '1'")


def test_a_preview_still_loading_survives_a_lane_refresh(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    """The engineer asks for the resolve note; before it answers, the lane is re-rendered (a
    note here, the first reply in CI's flaky run). The note still opens, in the live panel."""
    session = make_session(engineer, "Mapped drive H: is missing after login")
    make_fix(session, title="Re-map the home drive")
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    held: list[Any] = []
    page.route("**/preview/resolution", lambda route: held.append(route))
    page.get_by_test_id("preview-resolve").click()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the preview request never left"

    mark_lane(page)
    page.get_by_test_id("note-input").fill("The drive maps fine when run by hand")
    page.get_by_test_id("add-note").click()
    expect(page.get_by_test_id("facts")).to_contain_text("The drive maps fine when run by hand")
    expect(page.locator("#task-lane .lane-inner[data-old]")).to_have_count(0)

    held[0].continue_()
    text = page.get_by_test_id("preview-markdown")
    expect(text).to_have_value(contains("## Problem"))
    # The refresh the note asked for (~500 ms) shows it, and the preview stays open.
    expect(text).to_have_value(contains("The drive maps fine when run by hand"))
    expect(page.get_by_test_id("preview-popover")).to_be_visible()


def test_text_typed_into_a_lane_answer_survives_an_assistant_reply(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/new")
    page.fill(
        "textarea[name=problem]", "Outlook keeps asking for a password and mail is not syncing"
    )
    page.get_by_test_id("start-session").click()
    page.wait_for_url(lambda url: "/sessions/new" not in url)
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=15_000)
    # Type into every open answer (the next reply may drop an item it no longer lists).
    uids = page.locator("[data-item-uid]:has([data-testid=answer])").evaluate_all(
        "items => items.map(item => item.dataset.itemUid)"
    )
    assert uids
    for uid in uids:
        page.locator(f"#answer-{uid}").fill(f"Half-typed for {uid[:8]}")

    mark_lane(page)
    composer = page.get_by_test_id("composer-input")
    composer.fill("Only this user. Webmail works fine in the browser.")
    composer.press("Enter")
    expect(page.locator(".step-user").last).to_contain_text("Webmail works fine")
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=15_000)
    expect(page.locator("#task-lane .lane-inner[data-old]")).to_have_count(0)
    kept = [uid for uid in uids if page.locator(f"#answer-{uid}").count()]
    assert kept, "the reply kept none of the items"
    for uid in kept:
        expect(page.locator(f"#answer-{uid}")).to_have_value(f"Half-typed for {uid[:8]}")

    # A lane action elsewhere (a note) re-renders the lane too: the text stays.
    mark_lane(page)
    page.get_by_test_id("note-input").fill("User is on hotel Wi-Fi")
    page.get_by_test_id("add-note").click()
    expect(page.get_by_test_id("facts")).to_contain_text("User is on hotel Wi-Fi")
    expect(page.locator("#task-lane .lane-inner[data-old]")).to_have_count(0)
    for uid in kept:
        expect(page.locator(f"#answer-{uid}")).to_have_value(f"Half-typed for {uid[:8]}")
