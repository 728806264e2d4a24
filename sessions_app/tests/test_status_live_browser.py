"""Browser: a session escalated, then resolved, in one tab shows its new status in the engineer's
other tab at once — the header pill and the sidebar entry — without a reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from sessions_app.tests.test_fixes import make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_escalate_and_resolve_reach_the_other_tabs_pills(
    live_server_url: str,
    new_page: Callable[[], Any],
    login_as: Callable[[Any, User], None],
    engineer: User,
) -> None:
    session = make_session(engineer, "Outlook prompts for a password")
    watching = new_page()
    login_as(watching, engineer)
    watching.goto(f"{live_server_url}/sessions/{session.pk}")
    head = watching.get_by_test_id("session-status-pill")
    row = watching.locator(f"#session-{session.pk}-pill-row")
    expect(head).to_have_text("Active")
    expect(row).to_have_text("Active")
    expect(watching.get_by_test_id("bell-socket")).to_have_attribute("data-live", "open")
    watching.evaluate("window.__notReloaded = true")

    acting = new_page()
    login_as(acting, engineer)
    acting.goto(f"{live_server_url}/sessions/{session.pk}")
    acting.get_by_test_id("preview-escalate").click()
    expect(acting.get_by_test_id("preview-markdown")).to_have_value(re.compile(r".*## .*", re.S))
    acting.fill("#escalation-reason", "Needs a domain admin")
    acting.get_by_test_id("preview-post").click()
    expect(acting.get_by_test_id("session-status-pill")).to_have_text("Escalated")

    expect(head).to_have_text("Escalated")
    expect(row).to_have_text("Escalated")

    acting.get_by_test_id("preview-resolve").click()
    expect(acting.get_by_test_id("preview-markdown")).to_have_value(
        re.compile(r".*## Problem.*", re.S)
    )
    acting.get_by_test_id("preview-post").click()
    expect(acting.get_by_test_id("session-status-pill")).to_have_text("Resolved")

    expect(head).to_have_text("Resolved")
    expect(row).to_have_text("Resolved")
    assert watching.evaluate("window.__notReloaded") is True
