"""
A session resolved or escalated — by its page, another tab or the API — pushes its new status to
the open sockets of the people on it (their bell's socket), with the out-of-band swaps of the
status pill in the session page's header and the sidebar entry; other people's sockets hear
nothing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient
from websockets.sync.client import ClientConnection, connect

from accounts.models import User
from sessions_app.models import AISession
from sessions_app.tests.test_fixes import make_session

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_socket(live_server_url: str) -> Iterator[Callable[[Client, str], ClientConnection]]:
    stack = contextlib.ExitStack()

    def open_for(client: Client, query: str = "") -> ClientConnection:
        ws = connect(
            live_server_url.replace("http://", "ws://") + "/ws/notifications/" + query,
            additional_headers={
                "Origin": live_server_url,
                "Cookie": f"{settings.SESSION_COOKIE_NAME}="
                f"{client.cookies[settings.SESSION_COOKIE_NAME].value}",
            },
            open_timeout=10,
        )
        stack.enter_context(ws)
        # Joined and reading: a ping answered (the html format answers pings in JSON too).
        ws.send('{"type":"ping"}')
        assert json.loads(ws.recv(timeout=5))["type"] == "pong"
        return ws

    with stack:
        yield open_for


def next_status(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] == "session_status":
            return dict(message["payload"])


def post(api: APIClient, session: AISession, kind: str, body: dict[str, Any]) -> None:
    response = api.post(f"/api/v1/ai-sessions/{session.pk}/{kind}/post", body, format="json")
    assert response.status_code == 200, response.content


def test_resolving_through_the_api_reaches_the_engineers_socket_and_nobody_elses(
    engineer: User,
    teammate: User,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
    open_socket: Callable[..., ClientConnection],
) -> None:
    session = make_session(engineer)
    mine = open_socket(client_for(engineer))
    theirs = open_socket(client_for(teammate))
    post(api_client_for(engineer), session, "resolution-note", {"markdown": "Restarted it."})
    assert next_status(mine) == {"session_id": session.pk, "status": "resolved"}
    with pytest.raises(TimeoutError):
        next_status(theirs, timeout=0.5)


def test_escalating_pushes_the_pill_swaps_to_the_engineers_page_socket(
    engineer: User,
    client_for: Callable[[User], Client],
    api_client_for: Callable[[User], APIClient],
    open_socket: Callable[..., ClientConnection],
) -> None:
    session = make_session(engineer)
    page = open_socket(client_for(engineer), "?format=html")
    post(api_client_for(engineer), session, "escalation-package", {"markdown": "Package."})
    html = ""
    while f'id="session-{session.pk}-pill-head"' not in html:
        html = str(page.recv(timeout=5))  # the bell's own pushes may come first
    assert f'id="session-{session.pk}-pill-head" hx-swap-oob="innerHTML"' in html
    assert f'id="session-{session.pk}-pill-row" hx-swap-oob="innerHTML"' in html
    assert ">Escalated</span>" in html
    assert "session-live-notice" not in html
