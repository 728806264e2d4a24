"""Signing everyone out: the owner's bulk revoke of an account's web sessions and API tokens."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, LoginSession, RefreshToken, RevokeReason, User
from accounts.services.audit import record_event
from flowpilot.errors import Unprocessable
from flowpilot.outbox.services import dispatch_on_commit
from flowpilot.realtime import user_group

logger = logging.getLogger(__name__)
SCOPES = ("all", "others")
PUSH_CONCURRENCY = 50


@transaction.atomic
def revoke_account_sessions(
    *, account: Account, actor: User, scope: Any = "all", ip: str | None = None
) -> int:
    """
    Revoke every live web session and refresh token of the account — one UPDATE per table, gated
    on ``revoked_at IS NULL`` so a second call revokes nothing. ``others`` spares the caller's
    own. Access tokens issued before now stop working through the users'
    ``sessions_valid_after`` stamp, and open sockets are told to close once this commits.
    Returns how many sessions and tokens were revoked.
    """
    if scope not in SCOPES:
        raise Unprocessable('scope must be "all" or "others".', code="invalid_scope")
    now = timezone.now()
    web = LoginSession.objects.filter(
        account=account,
        revoked_at__isnull=True,
        idle_expires_at__gt=now,
        absolute_expires_at__gt=now,
    )
    api = RefreshToken.objects.filter(account=account, revoked_at__isnull=True, expires_at__gt=now)
    users = User.objects.filter(account=account)
    if scope == "others":
        web, api, users = (
            web.exclude(user=actor),
            api.exclude(user=actor),
            users.exclude(pk=actor.pk),
        )
    revoked = web.update(revoked_at=now, revoked_reason=RevokeReason.BULK)
    revoked += api.update(revoked_at=now, revoked_reason=RevokeReason.BULK)
    users.update(sessions_valid_after=now)
    if scope == "all":
        actor.sessions_valid_after = now
    user_ids = list(users.values_list("pk", flat=True))
    record_event(
        account=account,
        actor=actor,
        type="account.sessions_revoked_bulk",
        payload={"scope": scope, "revoked_count": revoked},
        ip_address=ip,
    )
    # Telling 500 users' sockets takes a while: a worker does it after commit (inline in eager
    # mode). Sockets that miss it still close at their next periodic session re-check.
    # A broker that is down never turns this committed revoke into an error: the call waits in
    # the outbox for the sweep (flowpilot.outbox).
    dispatch_on_commit(_push_task(), user_ids)
    return revoked


def _push_task() -> Any:
    from accounts.tasks import push_session_revoked_task

    return push_session_revoked_task


def push_session_revoked(user_ids: list[int]) -> None:
    """Tell each user's open sockets to close; all sends go out concurrently."""
    layer = get_channel_layer()
    if layer is None or not user_ids:
        return
    message = {"type": "push.event", "event": "session.revoked", "payload": {}}

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
