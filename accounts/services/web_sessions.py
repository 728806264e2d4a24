"""
Page logins under the account's session policy. Each Django session that belongs to a signed-in
user has a ``LoginSession`` row (its id is kept in the session) with the auth time, the last
activity and the policy snapshot taken at login.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone

from accounts.models import LoginSession, RevokeReason, User
from accounts.services.audit import record_event
from accounts.services.session_policy import resolve_session_policy
from accounts.services.tokens import iso_utc

SESSION_MARKER = "_fp_login_session"
DISMISSED_MARKER = "_fp_expiry_dismissed"
# Activity is written at most once a minute per session, so a busy page reads the row with its
# session (accounts.session_store) and writes one UPDATE per minute. Idle expiry is therefore
# exact to within a minute.
ACTIVITY_WRITE_INTERVAL = timedelta(seconds=60)
WARNING_SECONDS = 300


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def start_web_session(
    *, user: User, session: SessionBase, ip: str | None = None, user_agent: str = ""
) -> LoginSession:
    """Record a page login with the account's current policy and mark the Django session."""
    now = timezone.now()
    idle, absolute = resolve_session_policy(user.account)
    if session.session_key is None:
        session.save()
    login_session = LoginSession.objects.create(
        account_id=user.account_id,
        user=user,
        session_key=session.session_key or "",
        auth_time=now,
        last_activity_at=now,
        idle_seconds=idle * 60,
        absolute_seconds=absolute * 60,
        idle_expires_at=now + timedelta(minutes=idle),
        absolute_expires_at=now + timedelta(minutes=absolute),
        ip_address=_valid_ip(ip),
        user_agent=user_agent[:200],
    )
    session[SESSION_MARKER] = login_session.pk
    return login_session


def end_web_session(*, login_session_id: Any, reason: str = RevokeReason.LOGOUT) -> bool:
    if not isinstance(login_session_id, int):
        return False
    ended = LoginSession.objects.filter(pk=login_session_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
    return ended == 1


def touch_web_session(
    login_session: LoginSession, *, now: datetime | None = None, force: bool = False
) -> bool:
    """
    Count real activity: move the idle deadline. Without ``force`` it writes only when the last
    write is a minute old, with the age re-checked in the UPDATE (parallel requests of one
    session write once).
    """
    now = now or timezone.now()
    if not force and now - login_session.last_activity_at < ACTIVITY_WRITE_INTERVAL:
        return False
    rows = LoginSession.objects.filter(pk=login_session.pk, revoked_at__isnull=True)
    if not force:
        rows = rows.filter(last_activity_at__lt=now - ACTIVITY_WRITE_INTERVAL)
    idle_expires_at = now + timedelta(seconds=login_session.idle_seconds)
    if rows.update(last_activity_at=now, idle_expires_at=idle_expires_at) != 1:
        return False
    login_session.last_activity_at = now
    login_session.idle_expires_at = idle_expires_at
    return True


@transaction.atomic
def expire_web_session(*, login_session: LoginSession, kind: str, ip: str | None = None) -> bool:
    """End a session that ran out and write one ``auth.session_expired`` event (idle|absolute)."""
    ended = LoginSession.objects.filter(pk=login_session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=kind
    )
    if ended != 1:
        return False
    record_event(
        account=login_session.user.account,
        actor=login_session.user,
        type="auth.session_expired",
        payload={"kind": kind, "channel": "web"},
        ip_address=_valid_ip(ip),
    )
    return True


def session_status(
    login_session: LoginSession, *, dismissed: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """
    What the expiry warning needs: both deadlines, seconds left (from the server's clock, so a
    wrong client clock does not matter), which one comes first and whether its warning was
    dismissed.
    """
    now = now or timezone.now()
    idle_left = int((login_session.idle_expires_at - now).total_seconds())
    absolute_left = int((login_session.absolute_expires_at - now).total_seconds())
    kind = "absolute" if absolute_left <= idle_left else "idle"
    deadline = (
        login_session.absolute_expires_at if kind == "absolute" else login_session.idle_expires_at
    )
    deadline_key = f"{kind}:{iso_utc(deadline)}"
    return {
        "idle_expires_at": iso_utc(login_session.idle_expires_at),
        "absolute_expires_at": iso_utc(login_session.absolute_expires_at),
        "idle_remaining_seconds": max(idle_left, 0),
        "absolute_remaining_seconds": max(absolute_left, 0),
        "kind": kind,
        "remaining_seconds": max(min(idle_left, absolute_left), 0),
        "warning_seconds": WARNING_SECONDS,
        "deadline_key": deadline_key,
        "dismissed": dismissed == deadline_key,
    }
