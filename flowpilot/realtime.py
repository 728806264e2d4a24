"""
Live pushes over Channels. Groups are named from server-side ids only, never from client input.
Publishing is fire-and-forget: a slow or vanished client never blocks the publisher, and pushes
are sent only after the surrounding transaction commits.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def account_group(account_id: int, topic: str) -> str:
    return f"account.{account_id}.{topic}"


Payload = dict[str, Any] | Callable[[], dict[str, Any]]


def publish(group: str, event_type: str, payload: Payload) -> None:
    """
    Send one event to a group. On Redis the event is handed to this process's publisher thread
    and the caller returns at once (a request never waits on Redis; events leave in order);
    the in-process layer (tests, a single dev process) is sent to directly. A payload given as
    a function is built where it is sent (on Redis: on the publisher thread, so a request does
    not render the pushed fragments). Failures are logged, never raised to the caller.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "push.event", "event": event_type, "payload": payload}
    try:
        if _uses_redis():
            _publisher.submit(layer, group, message)
        else:
            async_to_sync(layer.group_send)(group, _built(message))
    except Exception:
        logger.exception("Could not publish %s to %s", event_type, group)


def _built(message: dict[str, Any]) -> dict[str, Any]:
    payload = message["payload"]
    return {**message, "payload": payload()} if callable(payload) else message


class _Publisher:
    """
    One daemon thread per process with its own event loop (and so one lasting Redis connection
    of the layer): ``submit`` queues an event without waiting, a single sender coroutine sends
    them in order. The Redis circuit breaker skips events while Redis is known to be down
    (pages poll then). A forked child starts its own thread on first use.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[Any, str, dict[str, Any]]] | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._pending = 0

    def submit(self, layer: Any, group: str, message: dict[str, Any]) -> None:
        loop, queue = self._running()
        with self._lock:
            self._pending += 1
        loop.call_soon_threadsafe(queue.put_nowait, (layer, group, message))

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until every submitted event was sent (or skipped); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._pending == 0 or self._pid != os.getpid():
                    return True
            time.sleep(0.005)
        return False

    def _running(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]:
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if self._loop is None or self._queue is None or self._pid != os.getpid() or not alive:
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue[Any] = asyncio.Queue()
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._serve, args=(loop, queue, ready), name="realtime-publisher"
                )
                thread.daemon = True
                thread.start()
                ready.wait(5)
                self._loop, self._queue, self._thread = loop, queue, thread
                self._pid, self._pending = os.getpid(), 0
            return self._loop, self._queue

    def _serve(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any], ready: threading.Event
    ) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_until_complete(self._send_all(queue))

    async def _send_all(self, queue: asyncio.Queue[Any]) -> None:
        from flowpilot.resilience import OUTAGE_ERRORS, redis_breaker

        while True:
            layer, group, message = await queue.get()
            try:
                if not redis_breaker.allows():
                    # Sockets are closed while Redis is down (ChannelLayerOutageGuard).
                    logger.warning(
                        "Channel layer unreachable: %s to %s not pushed", message["event"], group
                    )
                    continue
                await layer.group_send(group, _built(message))
                redis_breaker.record_success()
            except OUTAGE_ERRORS as exc:
                redis_breaker.record_failure(exc)
                logger.warning(
                    "Channel layer unreachable: %s to %s not pushed", message["event"], group
                )
            except Exception:
                logger.exception("Could not publish %s to %s", message["event"], group)
            finally:
                with self._lock:
                    self._pending = max(0, self._pending - 1)


_publisher = _Publisher()
# A short-lived process (a management command) sends what it published before it exits.
atexit.register(_publisher.flush)


def flush_published(timeout: float = 2.0) -> bool:
    """Block until this process's queued events are sent (commands, tests, benchmarks)."""
    return _publisher.flush(timeout)


# --- websocket refusals -------------------------------------------------------------------

# "Service unavailable, try again later" in the application range (daphne refuses the
# registered 1013): the live channel is down, the page keeps polling.
CLOSE_TRY_AGAIN_LATER = 4503
CLOSE_UNKNOWN_PATH = 4404


class RefuseUnknownPath:
    """The last websocket route: an unknown path is refused at the handshake, quietly."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        if message.get("type") == "websocket.connect":
            await send({"type": "websocket.close", "code": CLOSE_UNKNOWN_PATH})


class ChannelLayerOutageGuard:
    """
    ASGI middleware for websockets: while the channel layer (Redis) is unreachable a socket is
    accepted and closed at once with 4503 "try again later", instead of the handshake failing
    with a 500 and a traceback. The Redis circuit breaker makes later handshakes skip the dead
    server. Pages treat the close as a cue to poll (``static/js/app.js``).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from flowpilot.resilience import OUTAGE_ERRORS, redis_breaker

        if scope.get("type") != "websocket" or not _uses_redis():
            await self.app(scope, receive, send)
            return
        state = {"accepted": False, "closed": False}

        async def tracked_send(message: dict[str, Any]) -> None:
            if message.get("type") == "websocket.accept":
                state["accepted"] = True
            elif message.get("type") == "websocket.close":
                state["closed"] = True
            await send(message)

        if not redis_breaker.allows():
            await _refuse(receive, tracked_send, state)
            return
        try:
            await self.app(scope, receive, tracked_send)
        except OUTAGE_ERRORS as exc:
            redis_breaker.record_failure(exc)
            logger.warning("Websocket %s refused: channel layer unreachable", scope.get("path"))
            if not state["closed"]:
                await _refuse(None, tracked_send, state)


def _uses_redis() -> bool:
    from django.conf import settings

    return "redis" in str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")).lower()


async def _refuse(receive: Any, send: Any, state: dict[str, bool]) -> None:
    if receive is not None:
        message = await receive()
        if message.get("type") != "websocket.connect":
            return
    if not state["accepted"]:
        await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
