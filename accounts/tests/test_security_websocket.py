"""Websockets under the session policy, with a real client against daphne: a revoked or expired
page session has its open sockets closed by the server within seconds."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from accounts.models import LoginSession, User
from accounts.services.revocation import revoke_account_sessions
from conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a lighthouse keeps the harbour"


@pytest.fixture
def fast_recheck(settings: Any) -> None:
    """Set before the live server forks, so its sockets re-check every half second."""
    settings.SESSION_WS_RECHECK_SECONDS = 0.5


def session_cookie(user: User) -> str:
    client = Client()
    response = client.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def open_socket(live_server_url: str) -> Iterator[Any]:
    stack = contextlib.ExitStack()

    def open_for(cookie: str) -> ClientConnection:
        client = connect(
            live_server_url.replace("http://", "ws://") + "/ws/notifications/",
            additional_headers={
                "Origin": live_server_url,
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
            },
            open_timeout=10,
        )
        return stack.enter_context(client)

    with stack:
        yield open_for


def wait_for_close(ws: ClientConnection, timeout: float = 5.0) -> tuple[int | None, list[Any]]:
    received: list[Any] = []
    try:
        while True:
            received.append(json.loads(ws.recv(timeout=timeout)))
    except ConnectionClosed as closed:
        return (closed.rcvd.code if closed.rcvd else None), received
    except TimeoutError:
        return None, received


def ping(ws: ClientConnection) -> dict[str, Any]:
    ws.send('{"type":"ping"}')
    return json.loads(ws.recv(timeout=5))


@pytest.mark.services
def test_sign_out_everyone_closes_the_members_socket(
    owner: User, engineer: User, open_socket: Any
) -> None:
    """The session.revoked push reaches the other daphne process through Redis and closes it."""
    member = open_socket(session_cookie(engineer))
    mine = open_socket(session_cookie(owner))
    assert ping(member)["type"] == "pong"
    revoke_account_sessions(account=owner.account, actor=owner, scope="others")
    code, received = wait_for_close(member)
    assert code == 4401
    assert {"type": "session_revoked", "payload": {}} in received
    assert ping(mine)["type"] == "pong"


@pytest.mark.services
def test_changing_the_password_closes_the_other_devices_sockets_at_once(
    engineer: User, open_socket: Any
) -> None:
    """Every other sign-in ends with the password change and its sockets are told to close now
    (not at their next re-check, 30 s away); the device the password was changed on keeps its."""
    here = Client()
    assert here.post("/login", {"email": engineer.email, "password": PASSWORD}).status_code == 302
    mine = open_socket(here.cookies[settings.SESSION_COOKIE_NAME].value)
    other = open_socket(session_cookie(engineer))
    third = open_socket(session_cookie(engineer))
    assert ping(mine)["type"] == ping(other)["type"] == ping(third)["type"] == "pong"
    changed = here.post(
        "/account/password",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    for ws in (other, third):
        code, received = wait_for_close(ws)
        assert code == 4401
        assert {"type": "session_revoked", "payload": {}} in received
    assert ping(mine)["type"] == "pong"


def test_expired_session_socket_is_closed_by_the_periodic_recheck(
    fast_recheck: None, engineer: User, open_socket: Any
) -> None:
    """No event at all: the socket's own re-check notices the session ran out and closes it."""
    ws = open_socket(session_cookie(engineer))
    assert ping(ws)["type"] == "pong"
    LoginSession.objects.filter(user=engineer).update(idle_expires_at=timezone.now())
    code, _ = wait_for_close(ws)
    assert code == 4401


def test_revoked_session_cannot_open_a_socket(engineer: User, open_socket: Any) -> None:
    cookie = session_cookie(engineer)
    LoginSession.objects.filter(user=engineer).update(revoked_at=timezone.now())
    with pytest.raises(InvalidStatus) as refused:
        open_socket(cookie)
    assert refused.value.response.status_code == 403
