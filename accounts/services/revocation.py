"""
Signing people out: the owner's bulk revoke of an account's web sessions and API tokens, one
device (a web login or an API token family), and one person everywhere (deactivation, a password
change). Lock order everywhere: sign-in rows (``LoginSession``) first, then refresh tokens.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.devices import describe_user_agent
from accounts.models import (
    Account,
    LoginSession,
    RefreshToken,
    RevokeReason,
    SignInChannel,
    User,
)
from accounts.services.audit import record_event
from accounts.tasks import push_session_revoked_task
from flowpilot.errors import Forbidden, NotFound, Unprocessable
from flowpilot.tasks import dispatch_on_commit

SCOPES = ("all", "others")


@transaction.atomic
def revoke_account_sessions(
    *, account: Account, actor: User, scope: Any = "all", ip: str | None = None
) -> int:
    """
    Revoke every live sign-in (web session or API token family) and refresh token of the
    account — one UPDATE per table, gated on ``revoked_at IS NULL`` so a second call revokes
    nothing. ``others`` spares the caller's
    own. Access tokens issued before now stop working through the users'
    ``sessions_valid_after`` stamp, and open sockets are told to close once this commits.
    Returns how many sign-ins were revoked.
    """
    if scope not in SCOPES:
        raise Unprocessable('scope must be "all" or "others".', code="invalid_scope")
    now = timezone.now()
    web = LoginSession.objects.live(now).filter(account=account)
    api = RefreshToken.objects.filter(account=account, revoked_at__isnull=True, expires_at__gt=now)
    users = User.objects.filter(account=account)
    if scope == "others":
        web, api, users = (
            web.exclude(user=actor),
            api.exclude(user=actor),
            users.exclude(pk=actor.pk),
        )
    # The count is of sign-ins (devices): web logins and API token families. Tokens minted
    # before families existed are revoked too but not counted.
    revoked = web.update(revoked_at=now, revoked_reason=RevokeReason.BULK)
    api.update(revoked_at=now, revoked_reason=RevokeReason.BULK)
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
    dispatch_on_commit(push_session_revoked_task, user_ids)
    return revoked


def parse_device_id(value: Any) -> int | None:
    """Device ids are the sign-in row's id; anything else (or out of range) is not found."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


@transaction.atomic
def revoke_device(*, actor: User, device_id: Any, ip: str | None = None) -> LoginSession:
    """
    Sign out exactly one device: a web login or an API token family. Owners may sign out any
    device of their account, everyone else only their own; a device of another account (or a
    finished one) is not found. Writes ``auth.device_signed_out``.
    """
    pk = parse_device_id(device_id)
    device = (
        LoginSession.objects.live()
        .filter(account=actor.account, pk=pk)
        .select_related("user")
        .first()
        if pk
        else None
    )
    if device is None:
        raise NotFound("That device is not signed in.", code="not_found")
    own = device.user_id == actor.pk
    if not own and not actor.is_owner:
        raise Forbidden("Account owner access required")
    reason = RevokeReason.DEVICE_SELF if own else RevokeReason.DEVICE
    now = timezone.now()
    LoginSession.objects.filter(pk=device.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )
    RefreshToken.objects.filter(login_session_id=device.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )
    record_event(
        account=actor.account,
        actor=actor,
        type="auth.device_signed_out",
        payload={
            "user_id": device.user_id,
            "user": device.user.display_name,
            "channel": device.channel,
            "device": describe_user_agent(device.user_agent),
        },
        ip_address=ip,
    )
    if device.channel != SignInChannel.API:
        # That browser's open pages learn it at once (their sockets close and they ask); an
        # API sign-in's access tokens stop with its row (accounts.authentication).
        dispatch_on_commit(push_session_revoked_task, [device.user_id], [device.pk])
    return device


def sign_out_user_everywhere(
    *, user: User, reason: str, keep_login_session_id: int | None = None
) -> int:
    """
    End every live sign-in and refresh token of one person (optionally sparing the current
    page login), stop their access tokens and close their sockets after commit: all of them, or
    — sparing the current login — those of the web sign-ins that ended, as a device sign-out
    does. Runs inside the caller's transaction. Returns how many sign-ins ended.
    """
    now = timezone.now()
    sign_ins = LoginSession.objects.filter(user=user, revoked_at__isnull=True)
    tokens = RefreshToken.objects.filter(user=user, revoked_at__isnull=True)
    if keep_login_session_id is not None:
        sign_ins = sign_ins.exclude(pk=keep_login_session_id)
    # The API sign-ins' access tokens stop with their rows (accounts.authentication).
    web = list(sign_ins.exclude(channel=SignInChannel.API).values_list("pk", flat=True))
    ended = sign_ins.update(revoked_at=now, revoked_reason=reason)
    tokens.update(revoked_at=now, revoked_reason=reason)
    if keep_login_session_id is None:
        User.objects.filter(pk=user.pk).update(sessions_valid_after=now)
        user.sessions_valid_after = now
        dispatch_on_commit(push_session_revoked_task, [user.pk])
    elif web:
        dispatch_on_commit(push_session_revoked_task, [user.pk], web)
    return ended
