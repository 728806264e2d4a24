"""
Health endpoints for load balancers and the owners' status page.

- ``/healthz``: liveness — the process answers; touches nothing else.
- ``/readyz``: readiness — the database (required), Redis and the Celery worker heartbeat
  (optional: FlowPilot degrades without them, SPEC §8). 200 ``ok`` or ``degraded`` while the
  database answers, 503 ``unavailable`` when it does not.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.permissions import owner_required
from flowpilot.outbox.services import pending_count
from flowpilot.outbox.tasks import HEARTBEAT_KEY
from flowpilot.resilience import redis_breaker

# Beat stamps every 30 s: three missed stamps mean no worker is consuming.
HEARTBEAT_STALE_SECONDS = 100


@dataclass
class Check:
    name: str
    ok: bool
    required: bool
    detail: str
    ms: float = 0.0


def _timed(name: str, required: bool, probe: Any) -> Check:
    started = time.perf_counter()
    try:
        ok, detail = probe()
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {str(exc)[:200]}"
    return Check(name, ok, required, detail, round((time.perf_counter() - started) * 1000, 1))


def _database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, connection.vendor


def _redis() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "not configured (in-memory layers)"
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()
    return True, "answers PING"


def _worker() -> tuple[bool, str]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True, "eager mode (tasks run in the web process)"
    stamp = cache.get(HEARTBEAT_KEY)
    if stamp is None:
        return False, "no heartbeat (is a worker and beat running?)"
    age = time.time() - float(stamp)
    if age > HEARTBEAT_STALE_SECONDS:
        return False, f"last heartbeat {age:.0f} s ago"
    return True, f"heartbeat {age:.0f} s ago"


def run_checks() -> list[Check]:
    return [
        _timed("database", True, _database),
        _timed("redis", False, _redis),
        _timed("worker", False, _worker),
    ]


def readiness() -> tuple[str, list[Check]]:
    checks = run_checks()
    if not all(check.ok for check in checks if check.required):
        return "unavailable", checks
    return ("ok" if all(check.ok for check in checks) else "degraded"), checks


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    status, checks = readiness()
    body = {"status": status, "checks": {check.name: asdict(check) for check in checks}}
    return JsonResponse(body, status=503 if status == "unavailable" else 200)


@owner_required
@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    status, checks = readiness()
    context = {
        "nav": "account",
        "status": status,
        "checks": checks,
        "breaker_open": redis_breaker.is_open(),
        "breaker_error": redis_breaker.last_error,
        "outbox_pending": pending_count(),
    }
    return render(request, "system/status.html", context)
