"""
A circuit breaker for Redis (cache, channel layer and Celery broker share one server).

When a call to Redis fails, the breaker opens for ``REDIS_BREAKER_SECONDS``: callers skip Redis
and take their fallback at once instead of waiting on a dead server for every request. After
the pause a probe runs: with a ``probe`` function (Redis: a PING) in a background thread while
callers keep taking their fallback, so no request waits on a server that hangs; without one,
the next call goes through as the probe. The probe closes the breaker when it succeeds and opens
it again when it fails. The state is per process: each process finds out on its own, with one
failed call, and every opening is logged as a warning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
# What a missing or refusing Redis raises through redis-py, kombu and channels-redis.
try:
    from kombu.exceptions import OperationalError as _KombuOperationalError
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
        _RedisConnectionError,
        _RedisTimeoutError,
        _KombuOperationalError,
        ConnectionError,
        TimeoutError,
        OSError,
    )
except ImportError:  # pragma: no cover - both ship with the stack
    OUTAGE_ERRORS = (ConnectionError, TimeoutError, OSError)


class CircuitBreaker:
    def __init__(self, name: str, probe: Callable[[], object] | None = None) -> None:
        self.name = name
        self.probe = probe
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._probing = False
        self.last_error = ""

    @property
    def pause(self) -> float:
        return float(getattr(settings, "REDIS_BREAKER_SECONDS", 15.0))

    def allows(self) -> bool:
        """Whether a call may go to the service now (closed, or the one half-open probe)."""
        with self._lock:
            if self._open_until == 0.0:
                return True
            if time.monotonic() < self._open_until or self._probing:
                return False
            self._probing = True
        if self.probe is None:
            return True
        threading.Thread(target=self._run_probe, name=f"{self.name} probe", daemon=True).start()
        return False

    def _run_probe(self) -> None:
        assert self.probe is not None
        try:
            self.probe()
        except Exception as exc:  # noqa: BLE001 - any failure keeps the breaker open
            self.record_failure(exc)
        else:
            self.record_success()

    def is_open(self) -> bool:
        return self._open_until != 0.0

    def record_success(self) -> None:
        with self._lock:
            if self._open_until:
                logger.warning("%s is reachable again: circuit closed", self.name)
            self._open_until = 0.0
            self._probing = False

    def record_failure(self, exc: BaseException) -> None:
        with self._lock:
            first = self._open_until == 0.0
            self._open_until = time.monotonic() + self.pause
            self._probing = False
            self.last_error = f"{type(exc).__name__}: {exc}"
        if first:
            logger.warning(
                "%s unreachable (%s): circuit open, falling back for %.0f s at a time",
                self.name,
                self.last_error,
                self.pause,
            )

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0
            self._probing = False
            self.last_error = ""

    def call(self, func: Callable[[], T], fallback: Callable[[], T]) -> T:
        """``func()`` while the service answers; ``fallback()`` when it fails or is known down."""
        if not self.allows():
            return fallback()
        try:
            result = func()
        except OUTAGE_ERRORS as exc:
            self.record_failure(exc)
            return fallback()
        self.record_success()
        return result


def ping_redis() -> None:
    """The Redis probe: one PING on a connection of its own, within the usual timeouts."""
    url = str(getattr(settings, "REDIS_URL", "") or "")
    if not url:
        return
    import redis

    client = redis.Redis.from_url(
        url,
        socket_connect_timeout=float(getattr(settings, "REDIS_CONNECT_TIMEOUT", 0.5)),
        socket_timeout=float(getattr(settings, "REDIS_SOCKET_TIMEOUT", 3.0)),
    )
    try:
        client.ping()
    finally:
        client.close()


redis_breaker = CircuitBreaker("Redis", probe=ping_redis)
