"""
Websockets under the session policy. A socket authenticates once, at the handshake; these helpers
let a consumer re-check the page login behind it (revoked, idle or absolute expiry) on a timer
and close the socket when it has ended. Socket traffic never counts as activity.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from accounts.models import LoginSession
from accounts.services.web_sessions import SESSION_MARKER

CLOSE_CODE = 4401


def _login_session_id(scope: dict[str, Any]) -> Any:
    session = scope.get("session")
    return session.get(SESSION_MARKER) if session is not None else None


def revoked_here(scope: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Whether a ``session.revoked`` push concerns this socket: every socket of the person, or
    only those of the sign-ins it names (a device signed out; every device but the one a
    password was changed on)."""
    targets = payload.get("login_session_ids")
    if targets is None:
        return True
    mine = _login_session_id(scope)
    return mine is not None and str(mine) in {str(target) for target in targets}


def web_session_is_live(scope: dict[str, Any]) -> bool:
    """
    Whether the page login of this socket still stands. A session without a LoginSession (one
    from before the policy existed) is judged at its next page request instead.
    """
    user = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    login_session_id = _login_session_id(scope)
    if login_session_id is None:
        return True
    now = timezone.now()
    return LoginSession.objects.live(now).filter(pk=login_session_id, user_id=user.pk).exists()


class SessionGuardMixin:
    """
    For ``AsyncWebsocketConsumer``s: call ``await self.session_is_live()`` before accepting,
    ``self.start_session_guard()`` after, and ``await self.stop_session_guard()`` on disconnect.
    """

    scope: dict[str, Any]
    _session_guard: asyncio.Task[None] | None = None

    async def session_is_live(self) -> bool:
        return bool(await database_sync_to_async(web_session_is_live)(self.scope))

    def start_session_guard(self) -> None:
        self._session_guard = asyncio.ensure_future(self._watch_session())

    async def stop_session_guard(self) -> None:
        task, self._session_guard = self._session_guard, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch_session(self) -> None:
        interval = float(settings.SESSION_WS_RECHECK_SECONDS)
        while True:
            await asyncio.sleep(interval)
            if not await self.session_is_live():
                await self.close(code=CLOSE_CODE)  # type: ignore[attr-defined]
                return
