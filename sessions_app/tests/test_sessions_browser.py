"""Browser: start a session, watch the streamed reply, tick a check, promote it, edit a note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from sessions_app.models import AISession, Fact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_session_flow_stream_tick_promote_and_edit_note(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    """The engineer starts a session with the offline assistant, sees the reply stream in,
    ticks a diagnostic check, promotes it to What we know, then adds and edits a note."""
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/new")
    page.fill(
        "textarea[name=problem]", "Outlook keeps asking for a password and mail is not syncing"
    )
    page.fill("input[name=psa_ticket_id]", "48213")
    page.get_by_test_id("start-session").click()
    page.wait_for_url(lambda url: "/sessions/new" not in url)
    expect(page.get_by_test_id("assistant-label")).to_have_text("Offline runbook assistant")
    expect(page.get_by_test_id("ticket-badge")).to_have_text("#48213")

    # The reply streams into a placeholder, then the server-rendered message replaces it.
    reply = page.locator(".step-assistant").last
    expect(reply).to_contain_text("Outlook", timeout=15_000)
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=15_000)
    expect(reply.locator("strong").first).to_be_visible()
    expect(reply).not_to_contain_text("[TASKS]")
    expect(page.get_by_test_id("sessions-sidebar")).to_contain_text("Outlook keeps asking")

    check = page.get_by_test_id("lane-check").first
    expect(check).to_be_visible()
    label = check.locator(".lane-item-text").inner_text()
    check.get_by_test_id("tick").check()
    expect(page.get_by_test_id("lane-check").first).to_have_class(
        "lane-item lane-item-check is-done"
    )

    page.get_by_test_id("lane-check").first.get_by_test_id("promote").click()
    facts = page.get_by_test_id("facts")
    expect(facts.get_by_test_id("fact")).to_have_count(1)
    session = AISession.objects.get(user=engineer)
    fact = Fact.objects.get(session=session)
    assert fact.source == "check" and fact.task_item is not None and fact.task_item.text == label
    expect(facts).to_contain_text(fact.text)

    page.get_by_test_id("note-input").fill("User is working from a hotel this week")
    page.get_by_test_id("add-note").click()
    note = facts.get_by_test_id("fact").filter(has_text="hotel")
    expect(note).to_be_visible()
    note.get_by_test_id("fact-edit").click()
    editor = page.get_by_test_id("fact-edit-input")
    editor.fill("User is working from home this week")
    page.locator(".fact-edit button[type=submit]").click()
    expect(facts).to_contain_text("User is working from home this week")
    expect(facts).not_to_contain_text("hotel")
    assert (
        Fact.objects.get(session=session, source="note").text
        == "User is working from home this week"
    )

    # Chat: Enter sends, the next reply streams in as well.
    composer = page.get_by_test_id("composer-input")
    composer.fill("Only this user. Webmail works fine in the browser.")
    composer.press("Enter")
    expect(page.locator(".step-user").last).to_contain_text("Webmail works fine")
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=15_000)
    expect(page.locator(".step-assistant").last).to_contain_text("Outlook on the web works")
    expect(facts.get_by_test_id("fact")).to_have_count(4)

    # Ctrl+K opens the palette with the session commands.
    page.keyboard.press("Control+k")
    palette = page.get_by_test_id("palette")
    expect(palette).to_be_visible()
    expect(palette).to_contain_text("New session")
    page.keyboard.press("Escape")


def test_lane_collapses_at_laptop_width(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
) -> None:
    """At 1024 px the lane is hidden behind a toggle that opens it."""
    from sessions_app.services import sessions

    session, _ = sessions.create_session(user=engineer, problem="Printer offline")
    page = new_page()
    page.set_viewport_size({"width": 1024, "height": 800})
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    lane = page.locator("#task-lane")
    expect(lane).to_be_hidden()
    # The first reply streams on arrival and re-renders the lane when it ends: let it settle.
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=30_000)
    page.locator("[data-lane-toggle]").click()
    expect(lane).to_be_visible()
