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
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("Could not publish %s to %s", event_type, group)


def publish_on_commit(group: str, event_type: str, payload: dict[str, Any]) -> None:
    """Publish once the current transaction commits; nothing is sent for a rolled-back one."""
    transaction.on_commit(lambda: publish(group, event_type, payload))
