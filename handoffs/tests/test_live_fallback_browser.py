"""
Browser: without the live channel the queue, the bell and the hand-off screen poll instead.
The server refuses a socket with 4503 "try again later" while the channel layer is down
(``flowpilot/tests/test_redis_down.py`` checks that against a real app process); here the
browser's sockets get exactly that close, and what a colleague does must still show up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from playwright.sync_api import expect

from accounts.models import User
from handoffs.assessment import write_assessment
from handoffs.models import AssessmentStatus, SessionHandoff
from handoffs.tests.support import escalate, make_session

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

POLL_MS = 300  # the pages poll every 15 s; the test does not wait that long


def _in_thread(func: Callable[[], Any]) -> Any:
    """Run service code off Playwright's thread (its event loop there blocks a publish)."""

    def run() -> Any:
        try:
            return func()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result(timeout=30)


def refuse_sockets(page: Any) -> list[str]:
    """Every socket of the page is closed by the "server" with 4503, as when Redis is down."""
    refused: list[str] = []

    def handler(ws: Any) -> None:
        refused.append(ws.url)
        ws.close(code=4503, reason="try again later")

    page.route_web_socket(re.compile(r".*/ws/.*"), handler)
    page.add_init_script(f"window.FlowPilotPollMs = {POLL_MS};")
    return refused


def test_dashboard_panels_refresh_with_the_bell_poll(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    teammate: User,
) -> None:
    senior = new_page()
    refuse_sockets(senior)
    login_as(senior, teammate)
    senior.goto(f"{live_server_url}/")
    expect(senior.get_by_test_id("bell-socket")).to_have_attribute("data-live", "polling")
    panel = senior.get_by_test_id("waiting-escalations")
    expect(panel).not_to_contain_text("Printer queue stuck")
    session = make_session(engineer, "Printer queue stuck")
    _in_thread(lambda: escalate(engineer, session=session))
    expect(panel).to_contain_text("Printer queue stuck")
    expect(senior.get_by_test_id("bell-count")).to_have_text("1")


def test_queue_bell_and_hand_off_screen_poll_when_the_socket_is_refused(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    teammate: User,
) -> None:
    senior = new_page()
    refused = refuse_sockets(senior)
    login_as(senior, teammate)
    senior.goto(f"{live_server_url}/escalations")
    expect(senior.get_by_test_id("queue-live")).to_have_attribute("data-state", "polling")
    expect(senior.get_by_test_id("queue-live")).to_have_text("Updates every 15 s")
    expect(senior.get_by_test_id("queue")).to_have_attribute("data-live", "polling")
    expect(senior.get_by_test_id("bell-socket")).to_have_attribute("data-live", "polling")
    assert any("/ws/escalations/" in url for url in refused)
    assert any("/ws/notifications/" in url for url in refused)
    expect(senior.get_by_test_id("handoff-card")).to_have_count(0)

    # A colleague escalates: the card, the count and the bell arrive with the next poll.
    session = make_session(engineer, "Outlook is failing to sync email", psa_ticket_id="12345")
    handoff = _in_thread(lambda: escalate(engineer, session=session))
    SessionHandoff.objects.filter(pk=handoff.pk).update(
        assessment_status=AssessmentStatus.PENDING, ai_assessment={}
    )
    card = senior.get_by_test_id("handoff-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Outlook is failing to sync email")
    expect(senior.get_by_test_id("queue-count")).to_have_text("1")
    expect(senior.get_by_test_id("bell-count")).to_have_text("1")

    # The polled card still works (htmx processed it): pick-up opens the hand-off screen,
    # where the assessment fills in by polling too.
    senior.get_by_test_id("pick-up").click()
    senior.wait_for_url(f"**/escalations/{handoff.pk}")
    expect(senior.get_by_test_id("handoff-screen")).to_have_attribute("data-live", "polling")
    expect(senior.get_by_test_id("assessment")).to_have_attribute("data-status", "pending")
    senior.get_by_test_id("handoff-composer").fill("Typed while polling")
    assert _in_thread(lambda: write_assessment(handoff_id=handoff.pk)) == AssessmentStatus.READY
    expect(senior.get_by_test_id("assessment")).to_have_attribute("data-status", "ready")
    expect(senior.get_by_test_id("chip").first).to_be_visible()
    # The poll replaced the regions, never the composer the senior is typing in.
    expect(senior.get_by_test_id("handoff-composer")).to_have_value("Typed while polling")
