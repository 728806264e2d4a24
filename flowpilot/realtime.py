"""
Live pushes over Channels. Groups are named from server-side ids only, never from client input.
Publishing is fire-and-forget: a slow or vanished client never blocks the publisher, and pushes
are sent only after the surrounding transaction commits.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def account_group(account_id: int, topic: str) -> str:
    return f"account.{account_id}.{topic}"


def publish(group: str, event_type: str, payload: dict[str, Any]) -> None:
    """Send one event to a group now. Failures are logged, never raised to the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "push.event", "event": event_type, "payload": payload}

    def send() -> None:
        async_to_sync(layer.group_send)(group, message)

    def skipped() -> None:
        # Sockets are closed while Redis is down (ChannelLayerOutageGuard): pages poll instead.
        logger.warning("Channel layer unreachable: %s to %s not pushed", event_type, group)

    try:
        if _uses_redis():
            from flowpilot.resilience import redis_breaker

            redis_breaker.call(send, skipped)
        else:
            send()
    except Exception:
        logger.exception("Could not publish %s to %s", event_type, group)


def publish_on_commit(group: str, event_type: str, payload: dict[str, Any]) -> None:
    """Publish once the current transaction commits; nothing is sent for a rolled-back one."""
    transaction.on_commit(lambda: publish(group, event_type, payload))


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
