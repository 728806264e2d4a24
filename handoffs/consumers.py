"""Websocket consumers: the user's own notification channel (the bell)."""

from __future__ import annotations

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.session_guard import SessionGuardMixin
from flowpilot.realtime import user_group


class NotificationsConsumer(SessionGuardMixin, AsyncWebsocketConsumer):  # type: ignore[misc]
    """``/ws/notifications/``: pushes for the signed-in user only; anonymous sockets are refused."""

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        # A revoked or expired page login must not keep (or open) a live channel.
        if not await self.session_is_live():
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
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

    async def push_event(self, message: dict[str, Any]) -> None:
        if message["event"] == "session.revoked":
            await self.send(text_data=json.dumps({"type": "session_revoked", "payload": {}}))
            await self.close(code=4401)
            return
        body: dict[str, Any] = {"type": message["event"], "payload": message["payload"]}
        await self.send(text_data=json.dumps(body))
