"""Pushes to accounts' open sockets (the fan-out a worker runs after a bulk sign-out)."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from flowpilot.realtime import user_group

logger = logging.getLogger(__name__)
PUSH_CONCURRENCY = 50


def push_session_revoked(user_ids: list[int], login_session_ids: list[int] | None = None) -> None:
    """
    Tell each user's open sockets to close; all sends go out concurrently. With
    ``login_session_ids`` (a device signed out, or every device but the current one) only the
    sockets of those sign-ins close.
    """
    layer = get_channel_layer()
    if layer is None or not user_ids:
        return
    payload = {} if login_session_ids is None else {"login_session_ids": list(login_session_ids)}
    message = {"type": "push.event", "event": "session.revoked", "payload": payload}

    async def send_all() -> None:
        # Bounded: the Redis layer's connection pool refuses more than ~100 at once.
        gate = asyncio.Semaphore(PUSH_CONCURRENCY)

        async def send(uid: int) -> None:
            async with gate:
                await layer.group_send(user_group(uid), message)

        results = await asyncio.gather(*(send(uid) for uid in user_ids), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            logger.warning(
                "session.revoked push failed for %d users: %r", len(failures), failures[0]
            )

    try:
        async_to_sync(send_all)()
    except Exception:
        logger.exception("Could not push session.revoked")
