"""
Redis unreachable: a real app process whose REDIS_URL points at a closed port. Sign-in (page
and API, right and wrong passwords), the previews, "Sign out everyone" and the websocket
handshake degrade instead of answering 500; /readyz says "degraded".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.models import LoginSession, User
from conftest import PASSWORD
from flowpilot.outbox.models import PendingTask
from flowpilot.testing.live import AppProcess, free_port, start_app_process
from sessions_app.services.sessions import create_session

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


@pytest.fixture(autouse=True)
def _app_hasher(settings: Any) -> None:
    """The app process hashes with the production hashers, not the suite's MD5."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def users(*people: User) -> None:
    for person in people:
        person.set_password(PASSWORD)
        person.save(update_fields=["password"])


@pytest.fixture(scope="module")
def _app(closed_port: int, django_db_setup: None) -> Iterator[AppProcess]:
    """One process for the module (the database is emptied between tests, the process stays)."""
    app = start_app_process(
        {
            "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "REDIS_BREAKER_SECONDS": "30",
        }
    )
    try:
        yield app
    finally:
        app.stop()
    assert "Traceback" not in app.log(), app.log()[-4000:]


@pytest.fixture
def app_without_redis(_app: AppProcess, transactional_db: None) -> AppProcess:
    return _app


def page_login(app: AppProcess, email: str, password: str) -> requests.Response:
    browser = requests.Session()
    form = browser.get(f"{app.url}/login", timeout=15)
    assert form.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    response = browser.post(
        f"{app.url}/login",
        data={"email": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{app.url}/login"},
        allow_redirects=False,
        timeout=15,
    )
    response.session = browser  # type: ignore[attr-defined]
    return response


def api_login(app: AppProcess, email: str, password: str) -> requests.Response:
    return requests.post(
        f"{app.url}/api/v1/auth/login/json",
        json={"email": email, "password": password},
        timeout=15,
    )


def test_page_and_api_sign_in_work_without_redis(
    app_without_redis: AppProcess, engineer: User
) -> None:
    """Right password signs in, wrong password is the generic refusal: never a 500."""
    users(engineer)
    ok = page_login(app_without_redis, engineer.email, PASSWORD)
    assert ok.status_code == 302, ok.text[:500]
    wrong = page_login(app_without_redis, engineer.email, "wrong password")
    assert wrong.status_code == 200
    assert "do not match" in wrong.text
    api_ok = api_login(app_without_redis, engineer.email, PASSWORD)
    assert api_ok.status_code == 200, api_ok.text
    assert api_ok.json()["access"]
    api_wrong = api_login(app_without_redis, engineer.email, "nope")
    assert api_wrong.status_code == 401
    assert api_wrong.json()["code"] == "invalid_credentials"
    assert "unreachable" in app_without_redis.log()  # the fallback was logged as a warning


def test_lock_out_still_applies_without_redis(
    app_without_redis: AppProcess, teammate: User
) -> None:
    """The fallback counter never fails open: five failures lock this address from this IP."""
    users(teammate)
    for _ in range(5):
        assert api_login(app_without_redis, teammate.email, "nope").status_code == 401
    locked = api_login(app_without_redis, teammate.email, PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"


def test_previews_are_generated_without_the_cache(
    app_without_redis: AppProcess, engineer: User
) -> None:
    users(engineer)
    session, _ = create_session(user=engineer, problem="Outlook keeps asking for the password")
    token = api_login(app_without_redis, engineer.email, PASSWORD).json()["access"]
    headers = {"Authorization": f"Bearer {token}"}
    for kind in ("resolution-note", "escalation-package"):
        response = requests.post(
            f"{app_without_redis.url}/api/v1/ai-sessions/{session.pk}/{kind}/preview",
            headers=headers,
            json={},
            timeout=60,
        )
        assert response.status_code == 200, response.text[:500]
        assert response.json()["markdown"].startswith("## Problem")


def test_sign_out_everyone_reports_its_committed_success(
    app_without_redis: AppProcess, owner: User, engineer: User
) -> None:
    """The revoke commits and says so; the socket push the broker refused waits in the outbox."""
    users(owner, engineer)
    assert page_login(app_without_redis, engineer.email, PASSWORD).status_code == 302
    token = api_login(app_without_redis, owner.email, PASSWORD).json()["access"]
    response = requests.post(
        f"{app_without_redis.url}/api/v1/accounts/me/security/revoke-sessions",
        headers={"Authorization": f"Bearer {token}"},
        json={"scope": "others"},
        timeout=15,
    )
    assert response.status_code == 200, response.text[:500]
    assert response.json()["revoked_count"] >= 1
    assert not LoginSession.objects.filter(user=engineer, revoked_at__isnull=True).exists()
    stored = PendingTask.objects.get()
    assert stored.task_name == "accounts.tasks.push_session_revoked"
    assert stored.args == [[engineer.pk]]


@pytest.mark.parametrize("path", ["/ws/notifications/", "/ws/escalations/?format=html"])
def test_websocket_is_refused_with_a_close_code(
    app_without_redis: AppProcess, engineer: User, path: str
) -> None:
    """The bell's and the queue's sockets are accepted and closed with 4503: pages then poll."""
    users(engineer)
    login = page_login(app_without_redis, engineer.email, PASSWORD)
    cookie = login.session.cookies.get("sessionid")  # type: ignore[attr-defined]
    with (
        connect(
            f"{app_without_redis.ws_url}{path}",
            additional_headers={"Origin": app_without_redis.url, "Cookie": f"sessionid={cookie}"},
            open_timeout=15,
        ) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=15)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4503


def test_readyz_reports_degraded_and_healthz_answers(
    app_without_redis: AppProcess, db: None
) -> None:
    assert requests.get(f"{app_without_redis.url}/healthz", timeout=15).json() == {"status": "ok"}
    ready = requests.get(f"{app_without_redis.url}/readyz", timeout=15)
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False
    assert json.dumps(body)  # plain JSON for load balancers
