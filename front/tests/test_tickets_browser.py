"""
Browser: an engineer filters the ConnectWise queue by status across boards, assigns a member,
starts a session from the ticket, resolves it, and finds the resolution note on the ticket in
the simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from psa.simulator.server import Simulator
from sessions_app.models import AISession, SessionStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_assign_start_a_session_resolve_and_see_the_note(
    page: Any,
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    simulator: Simulator,
    connect_account: Callable[..., Any],
) -> None:
    state = simulator.state
    connect_account(engineer.account, simulator)
    resolved = next(
        s["id"]
        for s in state.statuses.values()
        if s["board"]["id"] == 1 and s["name"] == "Resolved"
    )
    engineer.account.preferences = {"cw_resolved_status_id": resolved}
    engineer.account.save(update_fields=["preferences"])
    escalated = [
        t
        for t in state.tickets.values()
        if t["status"]["name"] == "Escalated" and not t["closedFlag"]
    ]
    assert {t["board"]["name"] for t in escalated} == {"Service Desk", "Projects"}

    login_as(page, engineer)
    page.goto(f"{live_server_url}/tickets")
    expect(page.get_by_test_id("simulator-badge")).to_be_visible()
    page.select_option("#filter-status", "Escalated")
    rows = page.locator("#ticket-table tbody tr")
    expect(rows).to_have_count(min(len(escalated), 25))
    expect(page.locator("#ticket-table [data-status]").filter(has_text="Escalated")).to_have_count(
        min(len(escalated), 25)
    )
    expect(page.locator("#ticket-table")).to_contain_text("Projects")
    assert "status=Escalated" in page.url

    ticket = max(escalated, key=lambda t: t["id"])
    page.click(f'#ticket-table tr[data-ticket="{ticket["id"]}"] a.ticket-badge')
    expect(page.locator("h1")).to_contain_text(ticket["summary"])
    page.fill("#assign-member", "mtorres")
    page.click("#assign-submit")
    expect(page.locator('#ticket-resources [data-member="mtorres"]')).to_contain_text("Maya Torres")
    assert "mtorres" in state.tickets[ticket["id"]]["resources"]

    page.click('[data-action="start-session"]')
    expect(page.locator("textarea[name=problem]")).to_have_value(
        f"{ticket['summary']} ({ticket['company']['name']})"
    )
    expect(page.locator("input[name=psa_ticket_id]")).to_have_value(str(ticket["id"]))
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(lambda url: "/sessions/" in url and "/new" not in url)
    session = AISession.objects.get(account=engineer.account, psa_ticket_id=str(ticket["id"]))

    page.get_by_test_id("preview-resolve").click()
    text = page.get_by_test_id("preview-markdown")
    expect(text).to_have_value(lambda_contains("## Problem"))
    text.fill(text.input_value() + "\nConfirmed with the user: fixed.\n")
    page.get_by_test_id("preview-post").click()
    expect(page.get_by_test_id("session-status-pill")).to_have_text("Resolved")
    session.refresh_from_db()
    assert session.status == SessionStatus.RESOLVED

    notes = state.notes[ticket["id"]]
    assert notes[-1]["resolutionFlag"] is True
    assert "Confirmed with the user: fixed." in notes[-1]["text"]
    assert state.tickets[ticket["id"]]["status"]["id"] == resolved
    page.goto(f"{live_server_url}/tickets/{ticket['id']}")
    expect(page.locator('#ticket-notes [data-kind="resolution"]')).to_contain_text(
        "Confirmed with the user: fixed."
    )
    expect(page.locator("#ticket-status")).to_have_text("Resolved")


def lambda_contains(fragment: str) -> Any:
    import re

    return re.compile(".*" + re.escape(fragment) + ".*", re.DOTALL)
