"""
Browser: how pages treat their sockets being closed by the server (the escalation queue's and
the bell's on any other page, one mechanism in static/js/app.js). 4401 (the
login behind the page ended) stops for good and says "Signed out — sign in again" with the way
back; 4503 (the live channel is down) is tried again after a pause.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

QUEUE_SOCKET = re.compile(r".*/ws/escalations/.*")
BELL_SOCKET = re.compile(r".*/ws/notifications/.*")


def signed_out_by_server(attempts: list[int]) -> Callable[[Any], None]:
    """A server that closes every connection as signed out (4401), counting the attempts."""

    def handle(ws: Any) -> None:
        attempts.append(1)
        ws.close(code=4401, reason="session ended")

    return handle


def down_then_up(attempts: list[int]) -> Callable[[Any], None]:
    """A server whose live channel is down (4503) for the first connection, then up."""

    def handle(ws: Any) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            ws.close(code=4503, reason="try again later")
        else:
            ws.connect_to_server()

    return handle


def expect_signed_out_for_good(page: Any, attempts: list[int], back_to: str) -> None:
    notice = page.get_by_test_id("signed-out")
    expect(notice).to_have_text("Signed out — sign in again")
    expect(notice).to_have_attribute("href", f"/login?next={back_to}")
    page.wait_for_timeout(2500)  # longer than the first reconnect delay would be
    assert len(attempts) == 1


def test_a_socket_closed_for_auth_stops_and_says_signed_out(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    teammate: User,
) -> None:
    page = new_page()
    login_as(page, teammate)
    attempts: list[int] = []
    page.route_web_socket(QUEUE_SOCKET, signed_out_by_server(attempts))
    page.goto(f"{live_server_url}/escalations")
    expect_signed_out_for_good(page, attempts, "%2Fescalations")


def test_a_socket_closed_for_an_outage_is_tried_again(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    teammate: User,
) -> None:
    page = new_page()
    login_as(page, teammate)
    attempts: list[int] = []
    page.route_web_socket(QUEUE_SOCKET, down_then_up(attempts))
    page.goto(f"{live_server_url}/escalations")
    live = page.get_by_test_id("queue-live")
    expect(live).to_have_attribute("data-state", "open", timeout=15000)
    assert len(attempts) == 2


def test_the_bell_socket_closed_for_auth_stops_and_says_signed_out_on_any_page(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    teammate: User,
) -> None:
    """The dashboard has only the bell's socket: the same close gives the same notice there."""
    page = new_page()
    login_as(page, teammate)
    attempts: list[int] = []
    page.route_web_socket(BELL_SOCKET, signed_out_by_server(attempts))
    page.goto(f"{live_server_url}/")
    expect(page.get_by_test_id("bell-socket")).to_have_attribute("data-live", "signed-out")
    expect_signed_out_for_good(page, attempts, "%2F")
    expect(page.get_by_test_id("signed-out")).to_have_count(1)


def test_the_bell_socket_closed_for_an_outage_polls_then_reconnects_on_any_page(
    new_page: Callable[[], Any],
    live_server_url: str,
    login_as: Callable[[Any, User], None],
    teammate: User,
) -> None:
    """A 4503 on the dashboard's bell: the bell polls meanwhile, then its socket opens again."""
    page = new_page()
    login_as(page, teammate)
    attempts: list[int] = []
    page.add_init_script(
        "window.__live = [];"
        "document.addEventListener('fp:polling', (e) => window.__live.push('polling'));"
        "document.addEventListener('htmx:wsOpen', (e) => window.__live.push('open'));"
    )
    page.route_web_socket(BELL_SOCKET, down_then_up(attempts))
    page.goto(f"{live_server_url}/")
    bell = page.get_by_test_id("bell-socket")
    expect(bell).to_have_attribute("data-live", "open", timeout=15000)
    assert len(attempts) == 2
    assert page.evaluate("window.__live") == ["polling", "open"]
    expect(page.get_by_test_id("signed-out")).to_have_count(0)
