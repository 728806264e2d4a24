from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from django.test import Client
from websockets.exceptions import InvalidStatus

from accounts.models import User
from conftest import PASSWORD
from flowpilot.realtime import publish, user_group

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _session_cookie(base_url: str, user: User) -> str:
    client = Client()
    response = client.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return f"sessionid={client.cookies['sessionid'].value}"


async def _receive(ws: Any, timeout: float = 5) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def test_signed_in_user_receives_own_pushes_only(
    live_server_url: str, engineer: User, teammate: User, stranger: User
) -> None:
    """Over a real socket (daphne + Redis layer) a user gets their own events, nobody else's."""
    ws_url = live_server_url.replace("http", "ws") + "/ws/notifications/"
    headers = {"Origin": live_server_url}
    my_cookie = _session_cookie(live_server_url, engineer)
    their_cookie = _session_cookie(live_server_url, stranger)

    async def scenario() -> None:
        async with (
            websockets.connect(ws_url, additional_headers={**headers, "Cookie": my_cookie}) as mine,
            websockets.connect(
                ws_url, additional_headers={**headers, "Cookie": their_cookie}
            ) as theirs,
        ):
            for ws in (mine, theirs):  # joined and reading: a ping answered, no guessed sleep
                await ws.send('{"type":"ping"}')
                assert (await _receive(ws))["type"] == "pong"
            await asyncio.to_thread(
                publish, user_group(engineer.pk), "notification", {"title": "Hi"}
            )
            assert await _receive(mine) == {"type": "notification", "payload": {"title": "Hi"}}
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(theirs.recv(), 0.5)
            await mine.send('{"type":"ping"}')
            assert (await _receive(mine))["type"] == "pong"

    asyncio.run(scenario())


def test_anonymous_socket_is_refused(live_server_url: str) -> None:
    ws_url = live_server_url.replace("http", "ws") + "/ws/notifications/"

    async def scenario() -> None:
        with pytest.raises(InvalidStatus):
            async with websockets.connect(
                ws_url, additional_headers={"Origin": live_server_url}
            ) as ws:
                await ws.recv()

    asyncio.run(scenario())


def test_foreign_origin_is_refused(live_server_url: str, engineer: User) -> None:
    """Cookies ride along cross-site: a socket from another origin is refused at the handshake."""
    ws_url = live_server_url.replace("http", "ws") + "/ws/notifications/"
    cookie = _session_cookie(live_server_url, engineer)

    async def scenario() -> None:
        with pytest.raises(InvalidStatus):
            async with websockets.connect(
                ws_url,
                additional_headers={
                    "Origin": "https://evil.example",
                    "Cookie": cookie,
                },
            ) as ws:
                await ws.recv()

    asyncio.run(scenario())


def test_the_escalator_hears_who_picked_it_up(
    live_server_url: str, engineer: User, teammate: User
) -> None:
    """The junior's pages (the bell's socket, on every page) get the session page's "Picked up
    by" line as an out-of-band fragment; JSON clients get handoff_picked_up."""
    from handoffs import services
    from handoffs.tests.support import escalate

    ws_url = live_server_url.replace("http", "ws") + "/ws/notifications/"
    cookie = _session_cookie(live_server_url, engineer)
    headers = {"Origin": live_server_url, "Cookie": cookie}
    handoff = escalate(engineer)

    async def scenario() -> None:
        async with (
            websockets.connect(ws_url + "?format=html", additional_headers=headers) as page,
            websockets.connect(ws_url, additional_headers=headers) as api,
        ):
            await api.send('{"type":"ping"}')
            assert (await _receive(api))["type"] == "pong"
            await page.send('{"type":"ping"}')
            assert (await _receive(page))["type"] == "pong"
            await asyncio.to_thread(
                services.claim_handoff,
                actor=teammate,
                session_id=handoff.session_id,
                handoff_id=handoff.pk,
            )
            body = await _receive(api, timeout=30)
            assert body["type"] == "handoff_picked_up"
            assert body["payload"]["claimed_by"] == {"id": teammate.pk, "name": "Sam Patel"}
            html = await asyncio.wait_for(page.recv(), 30)
            assert f'id="session-pickup-{handoff.session_id}"' in html
            assert (
                'hx-swap-oob="true"' in html and "Picked up by <strong>Sam Patel</strong>" in html
            )

    asyncio.run(scenario())
