"""Signing in and out: credential checks, failure throttling and the audit trail."""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import DomainError

logger = logging.getLogger(__name__)
THROTTLED_MESSAGE = "Too many failed sign-in attempts. Wait a few minutes and try again."
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


def _key(kind: str, *values: str) -> str:
    digest = hashlib.sha256("\x1f".join(v.lower() for v in values).encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _keys(email: str, ip: str) -> dict[str, str]:
    return {
        "pair": _key("pair", email, ip),
        "email": _key("email", email),
        "ip": _key("ip", ip),
        "cooldown": _key("cooldown", email),
    }


def _throttle(email: str, ip: str) -> None:
    """
    Refuse a sign-in attempt before the password is checked, when:

    - this address failed ``LOGIN_FAILURES_PER_PAIR`` times from this client IP (the lock-out);
    - this client IP failed ``LOGIN_FAILURES_PER_IP`` times across addresses (spraying);
    - this address is cooling down after ``LOGIN_FAILURES_PER_EMAIL`` failures across all IPs
      and this IP is one of those that failed on it.

    A client IP that never failed for an address is never refused, so failures from elsewhere
    cannot lock the owner of the address out: they only slow down the IPs that made them.
    """
    keys = _keys(email, ip)
    counts = cache.get_many(list(keys.values()))
    pair = int(counts.get(keys["pair"], 0))
    by_ip = int(counts.get(keys["ip"], 0))
    window = int(settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if pair >= settings.LOGIN_FAILURES_PER_PAIR or by_ip >= settings.LOGIN_FAILURES_PER_IP:
        raise LoginThrottled(THROTTLED_MESSAGE, extra={"retry_after": window})
    cooldown_until = float(counts.get(keys["cooldown"], 0) or 0)
    wait = cooldown_until - time.time()
    if pair and wait > 0:
        raise LoginThrottled(THROTTLED_MESSAGE, extra={"retry_after": math.ceil(wait)})


def _incr(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def _count_failure(email: str, ip: str) -> None:
    """
    Count one failure per (address, IP), per address and per IP. Past the per-address threshold
    every further failure doubles the address's cool-down (1 s, 2 s, 4 s … up to the window):
    a distributed guesser slows down exponentially while the address's owner, from an IP that
    has not failed, still signs in.
    """
    window = int(settings.LOGIN_FAILURE_WINDOW_SECONDS)
    keys = _keys(email, ip)
    _incr(keys["pair"], window)
    _incr(keys["ip"], window)
    by_email = _incr(keys["email"], window)
    over = by_email - int(settings.LOGIN_FAILURES_PER_EMAIL)
    if over >= 0:
        delay = min(2 ** min(over, 20), window)
        cache.set(keys["cooldown"], time.time() + delay, timeout=delay)
        logger.warning(
            "Sign-in failures for one address across IPs reached %d: %d s cool-down",
            by_email,
            delay,
        )


def authenticate_credentials(*, email: str, password: str, ip: str) -> User:
    """
    Check an e-mail and password. Unknown e-mail, wrong password and inactive user give the same
    generic error, so the answer never tells which accounts exist. Repeated failures are refused
    for a while with ``LoginThrottled`` (see ``_throttle``). The counters live in the shared
    cache, which falls back to a per-process counter while Redis is down (``flowpilot.cache``).
    """
    email = (email or "").strip().lower()
    _throttle(email, ip)
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
    # Only this client's own failures are forgiven: a success does not reset the cool-down that
    # failures from other IPs built up.
    cache.delete(_keys(email, ip)["pair"])
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
