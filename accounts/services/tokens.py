"""
Minting and spending API tokens. ``issue_token_pair`` is the one place a pair is made, for every
kind of login and for rotation.

Every refresh token carries the policy it was born under, in seconds: ``auth_time`` (the original
login, never reset by rotation), ``idle_max`` and ``abs_max``. Its ``exp`` is
``min(now + idle_max, auth_time + abs_max)`` and it has a ``RefreshToken`` row by ``jti``;
spending it is one conditional UPDATE on that row, so a token is spent at most once even when
ten clients race with it.

Families (RFC 9700 §4.14.2): an API login starts a ``LoginSession`` of channel ``api`` whose id
every token of the family carries as ``sid``; rotation keeps it. A spent token presented again
revokes the family — every live token and the sign-in itself — and writes ``auth.refresh_reuse``.
The strict rule has one cost: two requests of one client racing with the same token lose the
family too, and the client signs in again. Lock order, shared with device and bulk sign-out:
the sign-in row first, then its tokens.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
from datetime import UTC, datetime
from typing import Any

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken as JWTRefreshToken

from accounts.models import LoginSession, RefreshToken, RevokeReason, SignInChannel, User
from accounts.services.audit import record_event
from accounts.services.session_policy import resolve_session_policy
from flowpilot.errors import DomainError

USER_ID_CLAIM = "user_id"
FAMILY_CLAIM = "sid"
logger = logging.getLogger(__name__)


class RefreshRefused(DomainError):
    """A refresh or logout with a token that cannot be used: always 401."""

    status = 401
    code = "invalid_refresh_token"


INVALID = "This refresh token is not valid. Sign in again."
EXPIRED_IDLE = "The session ended after a period of inactivity. Sign in again."
EXPIRED_ABSOLUTE = "The session reached its maximum length. Sign in again."


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix, to the second (JWT times are whole seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _from_ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def user_payload(user: User) -> dict[str, Any]:
    return {"id": user.pk, "email": user.email, "name": user.display_name, "role": user.role}


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def issue_token_pair(
    user: User,
    *,
    auth_time: int | None = None,
    idle_max: int | None = None,
    abs_max: int | None = None,
    family_id: int | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> dict[str, Any]:
    """
    Mint an access/refresh pair and record the refresh token. A login passes only the user (the
    account's current policy is snapshotted and a new family starts); rotation passes the
    claims and the family to carry forward (the caller has already moved the family's clock).
    """
    refresh = JWTRefreshToken.for_user(user)
    now_ts = int(refresh.current_time.timestamp())
    if idle_max is None or abs_max is None:
        idle, absolute = resolve_session_policy(user.account)
        idle_max, abs_max = idle * 60, absolute * 60
    auth_ts = now_ts if auth_time is None else auth_time
    absolute_deadline = auth_ts + abs_max
    exp = min(now_ts + idle_max, absolute_deadline)
    if family_id is None:
        family_id = LoginSession.objects.create(
            account_id=user.account_id,
            user=user,
            channel=SignInChannel.API,
            auth_time=_from_ts(auth_ts),
            last_activity_at=_from_ts(now_ts),
            idle_seconds=idle_max,
            absolute_seconds=abs_max,
            idle_expires_at=_from_ts(exp),
            absolute_expires_at=_from_ts(absolute_deadline),
            ip_address=_valid_ip(ip),
            user_agent=user_agent[:200],
        ).pk
    refresh.payload.update(
        {
            "iat": now_ts,
            "exp": exp,
            "auth_time": auth_ts,
            "idle_max": idle_max,
            "abs_max": abs_max,
            FAMILY_CLAIM: family_id,
        }
    )
    access = refresh.access_token
    access["exp"] = min(int(access["exp"]), absolute_deadline)
    RefreshToken.objects.create(
        jti=refresh["jti"],
        user=user,
        account_id=user.account_id,
        login_session_id=family_id,
        auth_time=_from_ts(auth_ts),
        issued_at=_from_ts(now_ts),
        expires_at=_from_ts(exp),
    )
    return {
        "access": str(access),
        "refresh": str(refresh),
        "idle_expires_at": iso_utc(_from_ts(exp)),
        "absolute_expires_at": iso_utc(_from_ts(absolute_deadline)),
        "user": user_payload(user),
    }


def family_of(token: Any) -> int | None:
    """The sign-in a token descends from (its ``sid`` claim), or None for a pre-family token."""
    value = token.get(FAMILY_CLAIM)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _touch_family(
    *, family_id: int, now_ts: int, idle_max: int, abs_max: int, auth_ts: int
) -> bool:
    """Move a live family's clock for a rotation; False when the family was signed out."""
    exp = min(now_ts + idle_max, auth_ts + abs_max)
    moved = LoginSession.objects.filter(pk=family_id, revoked_at__isnull=True).update(
        last_activity_at=_from_ts(now_ts), idle_expires_at=_from_ts(exp)
    )
    return moved == 1


def revoke_family(*, family_id: int, reason: str, now: datetime | None = None) -> int:
    """Revoke a sign-in and every live token of it (sign-in first: the shared lock order)."""
    now = now or timezone.now()
    LoginSession.objects.filter(pk=family_id, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )
    tokens = RefreshToken.objects.filter(login_session_id=family_id, revoked_at__isnull=True)
    # Its access tokens stop with the sign-in row (accounts.authentication reads it).
    return tokens.update(revoked_at=now, revoked_reason=reason)


def _expired_refusal(raw: str) -> RefreshRefused:
    """
    A validly signed refresh token past its ``exp`` ended by idle or absolute expiry; anything
    else that fails to decode is simply invalid.
    """
    try:
        payload = jwt.decode(
            raw,
            str(settings.SIMPLE_JWT["SIGNING_KEY"]),
            algorithms=[str(settings.SIMPLE_JWT["ALGORITHM"])],
            options={"verify_exp": False},
        )
    except jwt.PyJWTError:
        return RefreshRefused(INVALID)
    if payload.get("token_type") != "refresh":
        return RefreshRefused(INVALID)
    exp = payload.get("exp")
    if not isinstance(exp, int) or exp > int(timezone.now().timestamp()):
        return RefreshRefused(INVALID)
    auth_time, abs_max = payload.get("auth_time"), payload.get("abs_max")
    if isinstance(auth_time, int) and isinstance(abs_max, int) and exp >= auth_time + abs_max:
        return RefreshRefused(EXPIRED_ABSOLUTE, code="session_expired_absolute")
    return RefreshRefused(EXPIRED_IDLE, code="session_expired_idle")


def decode_refresh(raw: str) -> JWTRefreshToken:
    try:
        return JWTRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError:
        raise _expired_refusal(raw) from None


def _policy_claims(token: JWTRefreshToken, user: User) -> tuple[int, int, int, bool]:
    """``(auth_time, idle_max, abs_max, legacy)``; a token without them takes today's policy."""
    values = (token.get("auth_time"), token.get("idle_max"), token.get("abs_max"))
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        auth_time, idle_max, abs_max = (int(str(v)) for v in values)
        return auth_time, idle_max, abs_max, False
    idle, absolute = resolve_session_policy(user.account)
    return int(token.get("iat") or timezone.now().timestamp()), idle * 60, absolute * 60, True


class _Outcome(enum.Enum):
    REPLAY = "replay"
    ABSOLUTE = "absolute"


def _spend(
    *, jti: str, user: User, auth_time: int, legacy: bool, reason: str, now: datetime
) -> bool:
    """Mark the token spent; False when it already was (a replay or a lost race)."""
    if not legacy:
        spent = RefreshToken.objects.filter(jti=jti, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason
        )
        return spent == 1
    # A token minted before rows existed is grandfathered once: inserting its row already spent
    # is the atomic "first use" (the jti is unique).
    try:
        with transaction.atomic():
            RefreshToken.objects.create(
                jti=jti,
                user=user,
                account_id=user.account_id,
                auth_time=_from_ts(auth_time),
                issued_at=_from_ts(auth_time),
                expires_at=now,
                revoked_at=now,
                revoked_reason=reason,
            )
    except IntegrityError:
        return False
    return True


def rotate_refresh_token(*, raw: str) -> dict[str, Any]:
    """
    ``POST /auth/refresh``, following SPEC §2 step by step: decode; load the user; resolve the
    claims; spend the jti whatever the outcome; replay → ``invalid_refresh_token`` (and a
    rotated token presented again revokes its family); absolute deadline reached (equal
    included) → ``session_expired_absolute`` with the spend committed; otherwise a new pair with
    the same claims in the same family.
    """
    token = decode_refresh(raw)
    # No join: the account is read only for a legacy token or an audit event (rare paths).
    user = User.objects.filter(pk=token.get(USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise RefreshRefused(INVALID)
    auth_time, idle_max, abs_max, legacy = _policy_claims(token, user)
    family_id = family_of(token)
    jti = str(token["jti"])
    now = timezone.now()
    expired = int(now.timestamp()) >= auth_time + abs_max
    reason = RevokeReason.ABSOLUTE if expired else RevokeReason.ROTATED
    result: dict[str, Any] | _Outcome
    reused = False
    with transaction.atomic():
        # The family row is locked first (device and bulk sign-out take the same order).
        family_live = family_id is None or _touch_family(
            family_id=family_id,
            now_ts=int(now.timestamp()),
            idle_max=idle_max,
            abs_max=abs_max,
            auth_ts=auth_time,
        )
        if not _spend(
            jti=jti, user=user, auth_time=auth_time, legacy=legacy, reason=reason, now=now
        ):
            result = _Outcome.REPLAY
            reused = family_live and _was_rotated(jti)
            if reused and family_id is not None:
                revoke_family(family_id=family_id, reason=RevokeReason.REUSE, now=now)
        elif expired:
            if family_id is not None:
                revoke_family(family_id=family_id, reason=RevokeReason.ABSOLUTE, now=now)
            result = _Outcome.ABSOLUTE
        elif not family_live:
            result = _Outcome.REPLAY
        else:
            result = issue_token_pair(
                user, auth_time=auth_time, idle_max=idle_max, abs_max=abs_max, family_id=family_id
            )
    if result is _Outcome.REPLAY:
        if reused:
            record_event(
                account=user.account,
                actor=user,
                type="auth.refresh_reuse",
                payload={"jti_prefix": jti[:8], "family": family_id},
            )
        raise RefreshRefused(INVALID)
    if result is _Outcome.ABSOLUTE:
        record_event(
            account=user.account,
            actor=user,
            type="auth.session_expired",
            payload={"kind": "absolute", "channel": "api"},
        )
        raise RefreshRefused(EXPIRED_ABSOLUTE, code="session_expired_absolute")
    assert isinstance(result, dict)
    return result


def _was_rotated(jti: str) -> bool:
    """A token spent by rotation and presented again may be a stolen copy."""
    reason = RefreshToken.objects.filter(jti=jti).values_list("revoked_reason", flat=True).first()
    return reason == RevokeReason.ROTATED


@transaction.atomic
def revoke_refresh_token(*, raw: str, ip: str | None = None) -> bool:
    """
    ``POST /auth/logout``: spend the caller's refresh token. Holding the token is the proof; an
    already spent or expired one is fine (logging out twice is not an error). Returns whether a
    live token was revoked now.
    """
    try:
        token = JWTRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError:
        refusal = _expired_refusal(raw)
        if refusal.code == RefreshRefused.code:
            raise refusal from None
        return False
    live_token = RefreshToken.objects.filter(jti=str(token["jti"]), revoked_at__isnull=True)
    family_id = family_of(token)
    if family_id is not None and live_token.exists():
        # Signing out ends the device: the sign-in and its tokens.
        revoked = revoke_family(family_id=family_id, reason=RevokeReason.LOGOUT) > 0
    else:
        revoked = (
            live_token.update(revoked_at=timezone.now(), revoked_reason=RevokeReason.LOGOUT) == 1
        )
    if revoked:
        user = User.objects.select_related("account").filter(pk=token.get(USER_ID_CLAIM)).first()
        if user is not None:
            record_event(
                account=user.account,
                actor=user,
                type="auth.logout",
                payload={"method": "api"},
                ip_address=ip,
            )
    return revoked
