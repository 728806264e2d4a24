"""Signing everyone out: the owner's bulk revoke of an account's web sessions and API tokens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, LoginSession, RefreshToken, RevokeReason, User
from accounts.services.audit import record_event
from accounts.tasks import push_session_revoked_task
from flowpilot.errors import Unprocessable
from flowpilot.tasks import dispatch_on_commit

SCOPES = ("all", "others")


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
    dispatch_on_commit(push_session_revoked_task, user_ids)
    return revoked
