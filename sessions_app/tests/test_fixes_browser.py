"""Browser: apply a fix, wait to verify, reload, confirm it worked, then preview, edit and post."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from sessions_app import selectors
from sessions_app.models import AISession, SessionStatus
from sessions_app.services import fixes
from sessions_app.tests.test_fixes import make_fix, make_session
from sessions_app.tests.test_previews import add_fact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The session page (AI-sessions issue) includes the panel; the standalone fix page is the
# panel's own page (the no-JavaScript fallback). The flow must work on both.
PAGES = {"session page": "", "fix page": "/fix"}


@pytest.mark.parametrize("suffix", PAGES.values(), ids=PAGES.keys())
def test_pending_survives_reload_then_worked_then_preview_edit_and_post(
    page: Any,
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    suffix: str,
) -> None:
    """The engineer applies the fix, waits on a reboot (the banner survives a reload), marks
    it worked, opens the resolve-note preview, edits it and posts: the session is resolved."""
    session = make_session(engineer, "Print jobs stuck in the queue on FLOOR2-PRN")
    add_fact(session, "The spooler service is running but jobs do not clear")
    fix = make_fix(session)
    login_as(page, engineer)
    url = f"{live_server_url}/sessions/{session.pk}{suffix}"
    page.goto(url)

    card = page.get_by_test_id("fix-card")
    expect(card).to_contain_text("Restart the print spooler")
    expect(page.get_by_test_id("fix-confidence")).to_have_text("80% confidence")
    page.get_by_test_id("fix-apply").click()
    expect(page.get_by_test_id("fix-banner-verifying")).to_be_visible()

    page.get_by_test_id("fix-more").click()
    page.get_by_test_id("fix-waiting").click()
    dialog = page.get_by_test_id("fix-dialog-pending")
    expect(dialog).to_be_visible()
    page.get_by_test_id("fix-dialog-pending-submit").click()
    expect(page.get_by_test_id("fix-dialog-error")).to_contain_text("Say what you are waiting on")
    page.get_by_test_id("fix-dialog-pending-input").fill("Reboot of FLOOR2-PRN tonight")
    page.get_by_test_id("fix-dialog-pending-submit").click()
    banner = page.get_by_test_id("fix-banner-pending")
    expect(banner).to_contain_text("Awaiting verification")
    expect(banner).to_contain_text("Reboot of FLOOR2-PRN tonight")

    page.reload()
    banner = page.get_by_test_id("fix-banner-pending")
    expect(banner).to_contain_text("Awaiting verification")
    expect(banner).to_contain_text("Reboot of FLOOR2-PRN tonight")
    fix.refresh_from_db()
    assert fix.status == "applied_pending" and fix.verified_at is None

    page.get_by_test_id("fix-worked").click()
    expect(page.get_by_test_id("fix-banner-success")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Marked as worked.")

    page.get_by_test_id("preview-resolve").click()
    popover = page.get_by_test_id("preview-popover")
    expect(popover).to_be_visible()
    expect(page.get_by_test_id("preview-cache")).to_have_text("Fresh")
    text = page.get_by_test_id("preview-markdown")
    expect(text).to_have_value(lambda_contains("verified it worked"))

    # A fact written elsewhere (a chat turn) fires session-changed: the open preview refreshes.
    add_fact(session, "The queue cleared after the reboot")
    page.evaluate("document.body.dispatchEvent(new CustomEvent('session-changed'))")
    expect(text).to_have_value(lambda_contains("The queue cleared after the reboot"))

    edited = text.input_value() + "\nCustomer confirmed printing from Word and Excel.\n"
    text.fill(edited)
    expect(page.get_by_test_id("session-status-pill")).to_have_text("Active")
    page.get_by_test_id("preview-post").click()
    resolved = page.get_by_test_id("session-resolved-banner")
    expect(resolved).to_contain_text("Session resolved")
    expect(resolved).to_contain_text("Customer confirmed printing from Word and Excel.")
    expect(page.locator("#toasts")).to_contain_text("Session resolved")
    # The header pill follows the post without a reload.
    expect(page.get_by_test_id("session-status-pill")).to_have_text("Resolved")

    session.refresh_from_db()
    assert session.status == SessionStatus.RESOLVED
    assert "Customer confirmed printing" in session.resolution_note
    assert selectors.active_fix(session).status == "applied_success"  # type: ignore[union-attr]


def lambda_contains(fragment: str) -> Any:
    import re

    return re.compile(".*" + re.escape(fragment) + ".*", re.DOTALL)


def test_ai_proposal_not_yet_and_escalate_instead(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    """'Not yet' removes the assistant's proposal for good; 'Escalate instead' escalates."""
    session: AISession = make_session(engineer)
    make_fix(session)
    fixes.record_ai_outcome_proposal(
        session=session, outcome="applied_success", reason="The user said it prints now"
    )
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}/fix")
    expect(page.get_by_test_id("fix-proposal")).to_contain_text(
        "The assistant thinks this worked — confirm?"
    )
    page.get_by_test_id("fix-proposal-not-yet").click()
    expect(page.get_by_test_id("fix-proposal")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("fix-proposal")).to_have_count(0)

    page.get_by_test_id("preview-escalate").click()
    expect(page.get_by_test_id("preview-markdown")).to_have_value(
        lambda_contains("## Suggested next steps")
    )
    page.fill("#escalation-reason", "Needs a domain admin")
    page.get_by_test_id("preview-post").click()
    expect(page.get_by_test_id("session-escalated-banner")).to_contain_text("Needs a domain admin")
    expect(page.get_by_test_id("session-status-pill")).to_have_text("Escalated")
    # Posted: the preview is closed for good (the panel still offers "Preview resolve note").
    expect(page.get_by_test_id("preview-resolve")).to_be_visible()
    page.wait_for_timeout(700)
    expect(page.get_by_test_id("preview-popover")).to_have_count(0)
    session.refresh_from_db()
    assert session.status == SessionStatus.ESCALATED
    assert "## What we've tried" in session.escalation_package["markdown"]


def test_open_preview_survives_a_lane_refresh_and_shows_the_new_fact(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    """On the session page a new note re-renders the task lane; the open preview stays open
    and refreshes (~500 ms later) to include the new fact."""
    session = make_session(engineer, "Mapped drive H: is missing after login")
    make_fix(session, title="Re-map the home drive")
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    page.get_by_test_id("preview-resolve").click()
    text = page.get_by_test_id("preview-markdown")
    expect(text).to_have_value(lambda_contains("## What we confirmed"))
    page.get_by_test_id("note-input").fill("The drive maps fine when run by hand")
    page.get_by_test_id("add-note").click()
    expect(page.get_by_test_id("facts")).to_contain_text("The drive maps fine when run by hand")
    expect(page.get_by_test_id("preview-popover")).to_be_visible()
    expect(text).to_have_value(lambda_contains("- The drive maps fine when run by hand"))


def test_a_refused_post_keeps_the_edited_note_and_says_why(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    """A colleague resolves the session while the engineer edits the note: posting answers
    409, the popover stays with the engineer's text and the error, and the header pill turns
    Resolved."""
    from sessions_app.services import resolution

    session = make_session(engineer, "Outlook prompts for a password")
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    page.get_by_test_id("preview-resolve").click()
    text = page.get_by_test_id("preview-markdown")
    expect(text).to_have_value(lambda_contains("## Problem"))
    edited = text.input_value() + "\nHand-written closing words for the customer.\n"
    text.fill(edited)
    resolution.post_resolution_note(
        session=session, actor=engineer, markdown="Closed by a colleague"
    )

    page.get_by_test_id("preview-post").click()

    expect(page.get_by_test_id("preview-post-error")).to_contain_text(
        "This session is already resolved."
    )
    expect(page.get_by_test_id("preview-popover")).to_be_visible()
    expect(page.get_by_test_id("preview-markdown")).to_have_value(
        lambda_contains("Hand-written closing words for the customer.")
    )
    expect(page.get_by_test_id("session-status-pill")).to_have_text("Resolved")
    session.refresh_from_db()
    assert session.resolution_note == "Closed by a colleague"
