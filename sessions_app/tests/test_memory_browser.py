"""Browser: a new session shows "Solved before"; the engineer opens a past session and uses its
fix; the history page finds past sessions by words with typos, highlighted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from sessions_app.memory.corpus import SESSIONS
from sessions_app.memory.history import record_past_session
from sessions_app.memory.indexing import index_session
from sessions_app.models import AISession, SuggestedFix

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BY_KEY = {past.key: past for past in SESSIONS}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


OUTLOOK_PROBLEM = "Outlook keeps asking for the password after the password change"


def start_session(page: Any, live_server_url: str, problem: str) -> None:
    page.goto(f"{live_server_url}/sessions/new")
    page.get_by_label("What's the problem?").fill(problem)
    page.get_by_role("button", name="Start session").click()


def _history(user: User, *keys: str) -> dict[str, AISession]:
    made = {}
    for key in keys:
        session = record_past_session(user=user, past=BY_KEY[key])
        index_session(session_id=session.pk)
        made[key] = session
    return made


def test_new_session_shows_solved_before_and_uses_the_fix(
    page: Any,
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    teammate: User,
) -> None:
    past = _history(teammate, "outlook-password", "outlook-ost", "vpn-dpd")
    source = past["outlook-password"]
    login_as(page, engineer)
    start_session(page, live_server_url, OUTLOOK_PROBLEM)

    panel = page.get_by_test_id("solved-before")
    expect(panel).to_be_visible()
    first = panel.get_by_test_id("solved-before-item").first
    expect(first).to_have_attribute("data-session-id", str(source.pk))
    expect(first).to_contain_text("Clear cached Office credentials")
    expect(first).to_contain_text("Tried before, didn't work")
    expect(first).to_contain_text("Sam Patel")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "memory-solved-before.png"), full_page=True)

    # The first reply finishing refreshes the panel too: wait for it before opening an entry.
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=30_000)
    # A turn that adds a fact refreshes the panel (session-changed → hx-get).
    with page.expect_response(lambda r: r.url.endswith("/solved-before") and r.ok):
        page.get_by_test_id("note-input").fill(
            "Credential Manager holds old MicrosoftOffice16 entries"
        )
        page.get_by_test_id("add-note").click()
    expect(page.get_by_test_id("solved-before-item").first).to_have_attribute(
        "data-session-id", str(source.pk)
    )

    page.wait_for_load_state("networkidle")  # the note's own refreshes have landed
    page.get_by_test_id("solved-before-item").first.locator("a.memory-link").click()
    detail = page.get_by_test_id("past-session")
    expect(detail).to_be_visible()
    # A later turn's refresh of the panel waits while a past session is open in it.
    page.evaluate("htmx.trigger(document.body, 'session-changed')")
    expect(page.get_by_test_id("solved-before")).to_have_attribute("data-refresh-skipped", "true")
    expect(detail).to_be_visible()
    expect(page.get_by_test_id("past-note")).to_contain_text("Stale cached credentials")
    expect(page.get_by_test_id("past-script")).to_contain_text("cmdkey")
    page.screenshot(path=str(ARTIFACTS / "memory-past-session.png"), full_page=True)
    page.get_by_test_id("use-this-fix").click()

    expect(page.get_by_test_id("fix-card")).to_contain_text("Clear cached Office credentials")
    expect(page.locator("body")).to_contain_text(f"from session #{source.pk}")
    session = AISession.objects.exclude(pk__in=[s.pk for s in past.values()]).get(user=engineer)
    fix = SuggestedFix.objects.get(session=session, superseded_at__isnull=True)
    assert fix.reused_from_id == source.pk
    page.screenshot(path=str(ARTIFACTS / "memory-used-fix.png"), full_page=True)


def test_history_search_with_typos_highlights_and_filters(
    page: Any,
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    viewer: User,
) -> None:
    past = _history(engineer, "vpn-dpd", "vpn-dns", "outlook-ost", "print-spooler")
    login_as(page, viewer)
    page.goto(f"{live_server_url}/sessions/history")
    page.get_by_test_id("history-q").fill("fortigte dpd")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_test_id("history-result")
    expect(results.first).to_have_attribute("data-session-id", str(past["vpn-dpd"].pk))
    expect(results.first.locator("mark").first).to_be_visible()
    expect(page.get_by_test_id("history-corrections")).to_contain_text("fortigate")
    page.screenshot(path=str(ARTIFACTS / "memory-history.png"), full_page=True)
    page.locator("select[name=outcome]").select_option("applied_failed")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("history-empty")).to_be_visible()


def test_solved_before_folds_away_and_stays_folded(
    page: Any,
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    teammate: User,
) -> None:
    """Hide leaves the chat log the whole column; the choice survives the panel's refresh and a
    reload of the page; Show brings the list back."""
    _history(teammate, "outlook-password")
    login_as(page, engineer)
    start_session(page, live_server_url, OUTLOOK_PROBLEM)
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=30_000)
    page.wait_for_load_state("networkidle")
    items = page.get_by_test_id("solved-before-item")
    expect(items.first).to_be_visible()
    fold = page.get_by_test_id("solved-before-fold")
    expect(fold).to_have_text("Hide")
    fold.click()
    expect(items.first).to_be_hidden()
    expect(fold).to_have_attribute("aria-expanded", "false")
    # The panel's own refresh (a turn that adds facts) keeps it folded.
    with page.expect_response(lambda r: r.url.endswith("/solved-before") and r.ok):
        page.evaluate("htmx.trigger(document.body, 'session-changed')")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("solved-before-fold")).to_have_text("Show")
    expect(page.get_by_test_id("solved-before-item").first).to_be_hidden()
    page.reload()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("solved-before-fold")).to_have_text("Show")
    expect(page.get_by_test_id("solved-before-item").first).to_be_hidden()
    page.get_by_test_id("solved-before-fold").click()
    expect(page.get_by_test_id("solved-before-item").first).to_be_visible()
    expect(page.get_by_test_id("solved-before-fold")).to_have_text("Hide")
