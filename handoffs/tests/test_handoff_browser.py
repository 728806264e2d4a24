"""
Browser, three people: the junior escalates from the session page; the senior's open queue
shows the card without a reload; the senior picks it up and lands on the hand-off screen where
the assessment fills in live and a chip fills the composer; a third colleague racing for the
same pick-up is told who won.
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
from handoffs.tests.support import make_session

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _write_and_close(handoff_id: Any) -> str:
    try:
        return write_assessment(handoff_id=handoff_id)
    finally:
        connections.close_all()


def test_escalate_live_queue_pick_up_race_assessment_and_chips(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    engineer: User,
    teammate: User,
    admin_user: User,
) -> None:
    session = make_session(engineer, "Outlook is failing to sync email", psa_ticket_id="12345")
    junior, senior, racer = new_page(), new_page(), new_page()
    login_as(junior, engineer)
    login_as(senior, teammate)
    login_as(racer, admin_user)
    # The racer's queue socket never connects: their card stays until they click, so the
    # click really arrives after the senior's claim (what a slower colleague experiences).
    racer.route_web_socket(re.compile(r".*/ws/escalations/.*"), lambda ws: None)

    senior.goto(f"{live_server_url}/escalations")
    expect(senior.get_by_test_id("queue-live")).to_have_attribute("data-state", "open")
    expect(senior.get_by_test_id("handoff-card")).to_have_count(0)

    junior.goto(f"{live_server_url}/sessions/{session.pk}/fix")
    junior.get_by_test_id("preview-escalate").click()
    expect(junior.get_by_test_id("preview-markdown")).not_to_have_value("")
    junior.fill("#escalation-reason", "Needs an Exchange admin")
    junior.get_by_test_id("preview-post").click()
    expect(junior.get_by_test_id("session-escalated-banner")).to_contain_text(
        "Needs an Exchange admin"
    )

    # No reload: the card slides into the senior's open queue.
    card = senior.get_by_test_id("handoff-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Outlook is failing to sync email")
    expect(card).to_contain_text("#12345")
    expect(senior.get_by_test_id("queue-count")).to_have_text("1")
    expect(senior.get_by_test_id("bell-count")).to_have_text("1")

    handoff = SessionHandoff.objects.get(session=session)
    # Start the senior's screen from a pending assessment so its live fill-in is what is seen.
    SessionHandoff.objects.filter(pk=handoff.pk).update(
        assessment_status=AssessmentStatus.PENDING, ai_assessment={}
    )
    racer.goto(f"{live_server_url}/escalations")
    expect(racer.get_by_test_id("handoff-card")).to_have_count(1)

    senior.get_by_test_id("pick-up").click()
    senior.wait_for_url(f"**/escalations/{handoff.pk}")
    expect(senior.get_by_test_id("claimed-by")).to_have_text("Picked up by Sam Patel")
    expect(senior.get_by_test_id("assessment")).to_have_attribute("data-status", "pending")

    racer.get_by_test_id("pick-up").click()
    expect(racer.locator(".toast")).to_contain_text("Already claimed by Sam Patel")
    expect(racer.get_by_test_id("handoff-card")).to_have_count(0)

    # The worker finishes: the assessment and its chips fill in on the open screen. (Run in
    # another thread: Playwright keeps an event loop in this one, where a publish cannot run.)
    with ThreadPoolExecutor(1) as pool:
        written = pool.submit(_write_and_close, handoff.pk).result(timeout=30)
    assert written == AssessmentStatus.READY
    # The push travels worker → Redis → the senior's daphne socket: allow a loaded machine.
    expect(senior.get_by_test_id("assessment")).to_have_attribute(
        "data-status", "ready", timeout=15_000
    )
    expect(senior.get_by_test_id("assessment-summary")).not_to_be_empty()
    chip = senior.get_by_test_id("chip").first
    expect(chip).to_be_visible()
    step = chip.inner_text()
    chip.click()
    composer = senior.get_by_test_id("handoff-composer")
    expect(composer).to_have_value(step)
    expect(composer).to_be_focused()

    # The junior sees who picked it up.
    junior.goto(f"{live_server_url}/")
    expect(junior.get_by_test_id("my-escalations")).to_contain_text("Picked up by Sam Patel")

    senior.get_by_test_id("handoff-send").click()
    senior.wait_for_url(f"**/sessions/{session.pk}")
