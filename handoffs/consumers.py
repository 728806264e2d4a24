"""
Websocket consumers: the account's escalation events (``/ws/escalations/``) and the user's own
notification channel (``/ws/notifications/``, the bell).

Both authorize before joining a group, build group names from server-side ids only, and re-check
the page login behind the socket (``SessionGuardMixin``) so a revoked login's socket closes.
``?format=html`` asks for the rendered fragments (pages, through the htmx websocket extension);
otherwise every event is JSON ``{"type", "payload"}``. Publishing goes through the channel
layer, so an event committed on one daphne process reaches sockets on every other one; the
layer's per-channel capacity drops messages for a client that stops reading instead of
blocking the publisher.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.session_guard import SessionGuardMixin, revoked_here
from flowpilot.realtime import user_group
from handoffs.events import HANDOFF_CREATED, escalations_group

FORBIDDEN = 4403
UNAUTHENTICATED = 4401


class _EventConsumer(SessionGuardMixin, AsyncWebsocketConsumer):  # type: ignore[misc]
    group: str | None = None
    html: bool = False
    user_id: int | None = None

    def group_for(self, user: Any) -> str | None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def forbid(self) -> None:
        """
        A signed-in user without access (a viewer on a hand-off page): accepted, then closed at
        once with 4403, so the page stops and says why (``static/js/escalations.js``) instead of
        the htmx extension retrying a bare handshake failure (1006). Nothing is sent in between.
        Strangers and ended logins are still refused at the handshake (403).
        """
        await self.accept()
        await self.close(code=FORBIDDEN)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=UNAUTHENTICATED)
            return
        # A revoked or expired page login must not keep (or open) a live channel.
        if not await self.session_is_live():
            await self.close(code=UNAUTHENTICATED)
            return
        group = self.group_for(user)
        if group is None:
            await self.forbid()
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.html = query.get("format", [""])[0] == "html"
        self.user_id = user.pk
        self.group = group
        await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self.start_session_guard()

    async def disconnect(self, code: int) -> None:
        await self.stop_session_guard()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Clients only listen; a ping keeps intermediaries from closing an idle socket.
        if text_data and text_data.strip() == '{"type":"ping"}':
            await self.send(text_data=json.dumps({"type": "pong", "payload": {}}))

    def skip(self, message: dict[str, Any]) -> bool:
        return False

    async def push_event(self, message: dict[str, Any]) -> None:
        if message["event"] == "session.revoked":
            if not revoked_here(self.scope, message["payload"]):
                return
            if not self.html:
                await self.send(text_data=json.dumps({"type": "session_revoked", "payload": {}}))
            await self.close(code=UNAUTHENTICATED)
            return
        if self.skip(message):
            return
        payload = dict(message["payload"])
        html = payload.pop("html", None)
        if self.html:
            if html:
                await self.send(text_data=html)
            return
        await self.send(text_data=json.dumps({"type": message["event"], "payload": payload}))


class EscalationsConsumer(_EventConsumer):
    """``/ws/escalations/``: the account's hand-off events, for engineers and up only."""

    def group_for(self, user: Any) -> str | None:
        return escalations_group(user.account_id) if user.can_act else None

    def skip(self, message: dict[str, Any]) -> bool:
        # An escalator's own queue never shows their own escalation.
        return bool(
            message["event"] == HANDOFF_CREATED
            and message["payload"].get("from_user_id") == self.user_id
        )


class NotificationsConsumer(_EventConsumer):
    """``/ws/notifications/``: pushes for the signed-in user only; anonymous sockets are refused."""

    def group_for(self, user: Any) -> str | None:
        return user_group(user.pk)
