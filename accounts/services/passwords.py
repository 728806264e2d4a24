"""
Passwords: change (current password required; every other sign-in ends), reset by e-mail and
the invitation's first password (every sign-in ends: whoever knew the old one is out).
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from accounts.models import RevokeReason, User
from accounts.services.audit import record_event
from accounts.services.revocation import sign_out_user_everywhere

logger = logging.getLogger(__name__)


@transaction.atomic
def change_password(
    *, user: User, new_password: str, keep_login_session_id: int | None, ip: str | None = None
) -> int:
    """Set the new password and sign out every other device; returns how many were signed out."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    ended = sign_out_user_everywhere(
        user=user, reason=RevokeReason.PASSWORD, keep_login_session_id=keep_login_session_id
    )
    record_event(
        account=user.account,
        actor=user,
        type="user.password_changed",
        payload={"signed_out": ended},
        ip_address=ip,
    )
    return ended


@transaction.atomic
def complete_password_link(*, user: User, invitation: bool, ip: str | None = None) -> None:
    """After a link set the password (the form saved it): end every sign-in and audit."""
    sign_out_user_everywhere(user=user, reason=RevokeReason.PASSWORD)
    record_event(
        account=user.account,
        actor=user,
        type="user.invitation_accepted" if invitation else "user.password_reset",
        payload={"user_id": user.pk, "user": user.display_name},
        ip_address=ip,
    )


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"password-resets:{kind}:{digest}"


def _bump(key: str) -> int:
    window = settings.PASSWORD_RESET_WINDOW_SECONDS
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:
        cache.set(key, 1, timeout=window)
        return 1


def reset_request_allowed(*, email: str, ip: str) -> tuple[bool, bool]:
    """
    Count one forgot-password request; ``(ip_ok, email_ok)``. Over the per-address limit the
    request is answered as usual but sends nothing (the answer never tells whether the address
    exists); over the per-IP limit the form says to wait.
    """
    try:
        ip_ok = _bump(_key("ip", ip)) <= settings.PASSWORD_RESETS_PER_IP
        email_ok = _bump(_key("email", email)) <= settings.PASSWORD_RESETS_PER_EMAIL
    except Exception:
        # The cache (Redis) is down: resets go on unthrottled rather than failing.
        logger.warning("Password-reset throttle unavailable", exc_info=True)
        return True, True
    return ip_ok, email_ok
