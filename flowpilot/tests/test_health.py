"""/healthz, /readyz and the owners' status page."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from flowpilot import health
from flowpilot.outbox.models import PendingTask
from flowpilot.outbox.tasks import HEARTBEAT_KEY, worker_heartbeat

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_without_touching_anything(
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_with_database_redis_and_a_fresh_heartbeat(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    worker_heartbeat()
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok", body
    assert set(body["checks"]) == {"database", "redis", "worker"}


def test_readyz_is_degraded_without_a_worker_heartbeat(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.set(HEARTBEAT_KEY, time.time() - 1000)
    body = Client().get("/readyz").json()
    assert body["status"] == "degraded"
    assert body["checks"]["worker"]["ok"] is False
    assert "ago" in body["checks"]["worker"]["detail"]


def test_readyz_is_503_when_the_database_fails() -> None:
    with mock.patch.object(
        health, "_database", autospec=True, side_effect=RuntimeError("connection refused")
    ):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_status_page_is_for_owners(
    owner: User, engineer: User, viewer: User, client_for: Any
) -> None:
    PendingTask.objects.create(task_name="accounts.tasks.push_session_revoked", args=[[1]])
    page = client_for(owner).get("/account/status")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-check="database" data-ok="true"' in text
    assert "1 waiting" in text
    assert b"System status" in client_for(owner).get("/account").content
    for person in (engineer, viewer):
        refused = client_for(person).get("/account/status")
        assert refused.status_code == 403
        assert b"Account owner access required" in refused.content
    assert Client().get("/account/status").status_code == 302


@pytest.mark.parametrize("key", ["short", "x" * 60])
def test_a_weak_secret_key_is_refused_when_debug_is_off(key: str) -> None:
    """Fewer than 50 characters (or fewer than 5 distinct ones) stop start-up with DEBUG off."""
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "flowpilot.settings",
            "DEBUG": "false",
            "SECRET_KEY": key,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_a_strong_secret_key_starts() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "flowpilot.settings",
            "DEBUG": "false",
            "SECRET_KEY": "k3y-" + "abcdefghij" * 5,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
