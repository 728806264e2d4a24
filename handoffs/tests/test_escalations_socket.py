"""
/ws/escalations/ with real websocket clients against real daphne processes on the Redis layer:
events committed in this process reach sockets on two separate app processes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.models import User
from conftest import PASSWORD
from flowpilot.realtime import publish, user_group
from flowpilot.testing.live import LiveServer, start_live_server
from handoffs import services
from handoffs.tests.support import escalate, make_session

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def cookie_for(user: User) -> str:
    client = Client()
    response = client.post("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def layer_in_parent(transactional_db: None) -> None:
    """Use the channel layer in this process before any server is forked (as earlier tests on
    the same worker do): the forked servers must still each build their own layer."""
    publish(user_group(0), "warm_up", {})


@pytest.fixture
def second_server(live_server_url: str) -> Iterator[LiveServer]:
    """Another daphne process on the same database and Redis (the scale-out shape)."""
    server = start_live_server()
    try:
        yield server
    finally:
        server.stop()


def connect(base_url: str, cookie: str | None, query: str = "") -> Any:
    headers = {"Origin": base_url}
    if cookie is not None:
        headers["Cookie"] = cookie
    url = base_url.replace("http", "ws") + "/ws/escalations/" + query
    # A loaded CI machine may take seconds to answer the handshake of a fresh process.
    return websockets.connect(url, additional_headers=headers, open_timeout=60)


async def ready(*sockets: Any) -> None:
    """Each socket answered a ping: its consumer joined the group (group_add precedes accept)
    and is reading, so an event published from now on reaches it. No sleeping on a guess."""
    for ws in sockets:
        await ws.send('{"type":"ping"}')
        await until(ws, "pong")


async def until(ws: Any, event_type: str, timeout: float = 30) -> dict[str, Any]:
    """The next event of ``event_type`` (other events on the way are skipped)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - loop.time()))
        body = json.loads(raw)
        if body["type"] == event_type:
            return body


async def nothing_of(ws: Any, event_type: str, wait: float = 1.0) -> None:
    try:
        while True:
            body = json.loads(await asyncio.wait_for(ws.recv(), wait))
            assert body["type"] != event_type, body
    except TimeoutError:
        return


def test_events_reach_sockets_on_both_processes(
    layer_in_parent: None,
    live_server_url: str,
    second_server: LiveServer,
    engineer: User,
    teammate: User,
    admin_user: User,
    stranger: User,
) -> None:
    """handoff_created and handoff_claimed arrive on both daphne processes; the escalator's
    own socket gets no card for their own escalation; another account hears nothing."""
    session = make_session(engineer, psa_ticket_id="12345")
    senior, admin, junior, foreigner = (
        cookie_for(user) for user in (teammate, admin_user, engineer, stranger)
    )

    async def scenario() -> None:
        async with (
            connect(live_server_url, senior) as on_first,
            connect(second_server.url, admin) as on_second,
            connect(second_server.url, junior) as escalator,
            connect(live_server_url, foreigner) as foreign,
        ):
            await ready(on_first, on_second, escalator, foreign)
            result = await asyncio.to_thread(
                services.create_handoff,
                session=session,
                actor=engineer,
                intent="escalate",
                reason="Needs Exchange admin",
                markdown="## Problem\n\nSync",
            )
            handoff_id = str(result.handoff.pk)
            first = await until(on_first, "handoff_created")
            second = await until(on_second, "handoff_created")
            for body in (first, second):
                assert body["payload"]["handoff_id"] == handoff_id
                assert body["payload"]["psa_ticket_id"] == "12345"
                assert body["payload"]["from_user"] == {"id": engineer.pk, "name": "Jane Cooper"}
                assert "html" not in body["payload"]
            await asyncio.to_thread(
                services.claim_handoff,
                actor=teammate,
                session_id=session.pk,
                handoff_id=result.handoff.pk,
            )
            claimed = await until(on_second, "handoff_claimed")
            assert claimed["payload"]["claimed_by"] == {"id": teammate.pk, "name": "Sam Patel"}
            assert (await until(escalator, "handoff_claimed"))["payload"][
                "handoff_id"
            ] == handoff_id
            await nothing_of(foreign, "handoff_created", wait=0.5)

    asyncio.run(scenario())
    # The escalator's socket skipped the created event (checked apart: it did get the claim).

    async def escalator_sees_no_own_card() -> None:
        other = await asyncio.to_thread(make_session, engineer)
        async with connect(second_server.url, junior) as escalator:
            await ready(escalator)
            await asyncio.to_thread(escalate, engineer, session=other)
            await nothing_of(escalator, "handoff_created", wait=1.0)

    asyncio.run(escalator_sees_no_own_card())


def test_page_sockets_get_the_card_fragment(
    live_server_url: str, engineer: User, teammate: User
) -> None:
    """?format=html: the same card partial the page renders, wrapped for an out-of-band swap."""

    cookie = cookie_for(teammate)

    async def scenario() -> None:
        async with connect(live_server_url, cookie, "?format=html") as page:
            await page.send('{"type":"ping"}')
            assert json.loads(await asyncio.wait_for(page.recv(), 30))["type"] == "pong"
            handoff = await asyncio.to_thread(escalate, engineer)
            html = await asyncio.wait_for(page.recv(), 30)
            assert '<div id="queue-list" hx-swap-oob="afterbegin">' in html
            assert f'id="handoff-card-{handoff.pk}"' in html
            assert "Outlook is failing to sync email" in html

    asyncio.run(scenario())


@pytest.mark.parametrize("who", ["viewer", "anonymous"])
def test_viewer_and_anonymous_sockets_are_refused(
    live_server_url: str, request: pytest.FixtureRequest, who: str
) -> None:
    """A stranger is refused at the handshake; a signed-in viewer (reading a hand-off page) is
    closed at once with 4403, which the page's socket extension does not retry."""
    cookie = cookie_for(request.getfixturevalue("viewer")) if who == "viewer" else None

    async def scenario() -> None:
        try:
            async with connect(live_server_url, cookie) as ws:
                await asyncio.wait_for(ws.recv(), 10)
        except InvalidStatus:
            assert who == "anonymous"
            return
        except ConnectionClosed as closed:
            assert who == "viewer"
            assert closed.rcvd is not None and closed.rcvd.code == 4403
            return
        pytest.fail("the socket was accepted")

    asyncio.run(scenario())


def test_an_idle_socket_still_receives_after_the_redis_read_timeout(
    live_server_url: str, engineer: User, teammate: User
) -> None:
    """A socket idle for longer than redis-py's default 5 s read timeout stays open and still
    gets the next event (the layer's blocking pop must not time out the consumer)."""
    cookie = cookie_for(teammate)

    async def scenario() -> None:
        async with connect(live_server_url, cookie) as ws:
            await ready(ws)
            await asyncio.sleep(7)  # the point of the test: idle past redis-py's 5 s timeout
            handoff = await asyncio.to_thread(escalate, engineer)
            body = await until(ws, "handoff_created")
            assert body["payload"]["handoff_id"] == str(handoff.pk)

    asyncio.run(scenario())
