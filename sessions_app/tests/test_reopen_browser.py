"""Browser: a session reopened in one tab shows as reopened in the engineer's other tab, live."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from sessions_app.models import AISession, SessionStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reopen_reaches_the_other_tab(
    live_server_url: str,
    new_page: Callable[[], Any],
    login_as: Callable[[Any, User], None],
    engineer: User,
) -> None:
    session = AISession.objects.create(
        account=engineer.account,
        user=engineer,
        problem_summary="Printer queue is stuck",
        status=SessionStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note="Restarted the spooler.",
    )
    watching = new_page()
    login_as(watching, engineer)
    watching.goto(f"{live_server_url}/sessions/{session.pk}")
    expect(watching.get_by_test_id("session-status-pill")).to_have_text("Resolved")
    expect(watching.get_by_test_id("bell-socket")).to_have_attribute("data-live", "open")

    acting = new_page()
    login_as(acting, engineer)
    acting.goto(f"{live_server_url}/sessions/{session.pk}")
    acting.get_by_test_id("reopen-reason").fill("The printer jams again")
    acting.get_by_test_id("reopen").click()
    expect(acting.get_by_test_id("session-status-pill")).to_have_text("Active")

    # The first tab did nothing: the pill and a notice arrive over its socket.
    expect(watching.get_by_test_id("session-status-pill")).to_have_text("Active")
    notice = watching.get_by_test_id("session-live-notice")
    expect(notice).to_contain_text("Jane Cooper reopened this session: The printer jams again")
    notice.get_by_role("link", name="Reload the session").click()
    expect(watching.get_by_test_id("composer")).to_be_visible()
