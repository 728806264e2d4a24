"""Signing in and out: credential checks, failure throttling and the audit trail."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import DomainError

GENERIC_LOGIN_ERROR = "That e-mail and password do not match an active account."


class LoginFailed(DomainError):
    status = 401
    code = "invalid_credentials"


class LoginThrottled(DomainError):
    status = 429
    code = "too_many_attempts"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with ``TRUSTED_PROXY_HOPS`` proxies in front, the
    X-Forwarded-For entry that the outermost trusted proxy saw (entries further left are the
    client's own claims and can be forged)."""
    hops = int(getattr(settings, "TRUSTED_PROXY_HOPS", 0))
    forwarded = str(request.headers.get("x-forwarded-for") or "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _throttled(email: str, ip: str) -> bool:
    by_email = cache.get(_key("email", email), 0)
    by_ip = cache.get(_key("ip", ip), 0)
    return bool(
        by_email >= settings.LOGIN_FAILURES_PER_EMAIL or by_ip >= settings.LOGIN_FAILURES_PER_IP
    )


def _count_failure(email: str, ip: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in (_key("email", email), _key("ip", ip)):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)


def authenticate_credentials(*, email: str, password: str, ip: str) -> User:
    """
    Check an e-mail and password. Unknown e-mail, wrong password and inactive user give the same
    generic error, so the answer never tells which accounts exist. Repeated failures per e-mail or
    per address are refused for a while with ``LoginThrottled``.
    """
    email = (email or "").strip().lower()
    if _throttled(email, ip):
        raise LoginThrottled("Too many failed sign-in attempts. Wait a few minutes and try again.")
    user = authenticate(username=email, password=password or "") if email else None
    if not isinstance(user, User) or not user.is_active:
        _count_failure(email, ip)
        known = User.objects.filter(email=email).select_related("account").first()
        if known is not None:
            record_event(
                account=known.account,
                actor=known,
                type="auth.login_failed",
                payload={"email": email},
                ip_address=ip,
            )
        raise LoginFailed(GENERIC_LOGIN_ERROR)
    cache.delete(_key("email", email))
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    record_event(
        account=user.account,
        actor=user,
        type="auth.login",
        payload={"method": "password"},
        ip_address=ip,
    )
    return user


def record_logout(*, user: User, ip: str | None = None) -> None:
    record_event(account=user.account, actor=user, type="auth.logout", ip_address=ip)
