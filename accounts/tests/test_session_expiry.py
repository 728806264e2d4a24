"""Page sessions under the policy: idle/absolute expiry, background requests, the expiry-warning
endpoints, the middleware's query budget and the clean-up task."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuditEvent, LoginSession, RefreshToken, User
from accounts.services.tokens import issue_token_pair
from accounts.services.web_sessions import SESSION_MARKER
from accounts.session_store import SessionStore
from accounts.tasks import purge_expired_sessions

pytestmark = pytest.mark.django_db

BACKGROUND = {"HTTP_X_FLOWPILOT_BACKGROUND": "1"}


def web_session(user: User) -> LoginSession:
    return LoginSession.objects.filter(user=user, channel="web").latest("pk")


def age(login_session: LoginSession, **delta: float) -> None:
    """Move the session's clock back, as if the time had passed."""
    shift = timedelta(**delta)
    LoginSession.objects.filter(pk=login_session.pk).update(
        auth_time=login_session.auth_time - shift,
        last_activity_at=login_session.last_activity_at - shift,
        idle_expires_at=login_session.idle_expires_at - shift,
        absolute_expires_at=login_session.absolute_expires_at - shift,
    )


class TestLoginRecordsTheSession:
    def test_page_login_snapshots_the_account_policy(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        engineer.account.idle_minutes, engineer.account.absolute_minutes = 30, 720
        engineer.account.save()
        client = client_for(engineer)
        login_session = web_session(engineer)
        assert (login_session.idle_seconds, login_session.absolute_seconds) == (1800, 43200)
        assert login_session.session_key == client.session.session_key
        assert client.session[SESSION_MARKER] == login_session.pk
        assert login_session.absolute_expires_at - login_session.auth_time == timedelta(hours=12)

    def test_logout_ends_the_session_row(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        client.post("/logout")
        login_session = web_session(engineer)
        assert login_session.revoked_at is not None
        assert login_session.revoked_reason == "logout"

    def test_a_session_without_a_row_is_adopted(self, engineer: User) -> None:
        """Sessions from before the policy existed start their clock at the next request."""
        client = Client()
        client.force_login(engineer)
        LoginSession.objects.all().delete()
        session = client.session
        del session[SESSION_MARKER]
        session.save()
        assert client.get("/").status_code == 200
        assert LoginSession.objects.filter(user=engineer, revoked_at__isnull=True).count() == 1
        assert client.get("/").status_code == 200


class TestExpiry:
    def test_idle_expiry_redirects_with_reason_and_audits(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        login_session = web_session(engineer)
        age(login_session, seconds=login_session.idle_seconds)
        response = client.get("/account")
        assert response.status_code == 302
        assert response["Location"] == "/login?reason=session_expired"
        event = AuditEvent.objects.get(type="auth.session_expired")
        assert event.actor == engineer
        assert event.payload["kind"] == "idle"
        assert web_session(engineer).revoked_reason == "idle"
        # Signed out for good: the next request is anonymous, with no second audit event.
        assert client.get("/account")["Location"].startswith("/login?next=")
        assert AuditEvent.objects.filter(type="auth.session_expired").count() == 1
        login_page = client.get("/login?reason=session_expired")
        assert b'id="session-expired-banner"' in login_page.content

    def test_absolute_expiry_wins_even_with_recent_activity(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        login_session = web_session(engineer)
        LoginSession.objects.filter(pk=login_session.pk).update(
            absolute_expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert client.get("/")["Location"] == "/login?reason=session_expired"
        event = AuditEvent.objects.get(type="auth.session_expired")
        assert event.payload["kind"] == "absolute"

    def test_htmx_request_gets_hx_redirect(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        age(web_session(engineer), days=4)
        response = client.get("/account", HTTP_HX_REQUEST="true")
        assert response["HX-Redirect"] == "/login?reason=session_expired"

    def test_api_request_with_the_cookie_gets_a_json_401(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        age(web_session(engineer), days=4)
        response = client.get("/api/v1/accounts/me/preferences")
        assert response.status_code == 401
        assert response.json()["code"] == "session_expired_idle"

    def test_revoked_htmx_request_goes_to_login_without_banner(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        LoginSession.objects.update(revoked_at=timezone.now())
        response = client.get("/account", HTTP_HX_REQUEST="true")
        assert response["HX-Redirect"] == "/login"


class TestActivity:
    def test_background_requests_do_not_count_as_activity(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        login_session = web_session(engineer)
        age(login_session, minutes=10)
        before = web_session(engineer).last_activity_at
        assert client.get("/", **BACKGROUND).status_code == 200
        assert client.get("/account/session-status").status_code == 200
        assert web_session(engineer).last_activity_at == before
        client.get("/")
        assert web_session(engineer).last_activity_at > before
        assert web_session(engineer).idle_expires_at > login_session.idle_expires_at

    def test_activity_is_written_at_most_once_a_minute(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        age(web_session(engineer), minutes=2)
        with CaptureQueriesContext(connection) as first:
            client.get("/account")
        with CaptureQueriesContext(connection) as second:
            client.get("/account")
        writes = [q["sql"] for q in first.captured_queries if q["sql"].startswith("UPDATE")]
        assert len([sql for sql in writes if "accounts_loginsession" in sql]) == 1
        assert not [
            q for q in second.captured_queries if 'UPDATE "accounts_loginsession"' in q["sql"]
        ]

    def test_middleware_adds_no_query_but_the_activity_write(
        self,
        engineer: User,
        client_for: Callable[[User], Client],
        settings: object,
        django_assert_max_num_queries: Callable[..., object],
    ) -> None:
        """The policy check costs no query over the same page without it (its sign-in row, user and
        account come with the session's data), and at most one when the activity is written."""
        client = client_for(engineer)
        client.get("/")
        with CaptureQueriesContext(connection) as with_policy:
            client.get("/")
        middleware = list(settings.MIDDLEWARE)  # type: ignore[attr-defined]
        settings.MIDDLEWARE = [  # type: ignore[attr-defined]
            m for m in middleware if m != "accounts.middleware.SessionPolicyMiddleware"
        ]
        bare = Client()  # a client builds its middleware chain once: a new one for the change
        bare.cookies = client.cookies
        with CaptureQueriesContext(connection) as without_policy:
            bare.get("/")
        settings.MIDDLEWARE = middleware  # type: ignore[attr-defined]
        baseline = len(without_policy.captured_queries)
        assert len(with_policy.captured_queries) <= baseline
        sign_in_reads = [
            q for q in with_policy.captured_queries if "accounts_loginsession" in q["sql"]
        ]
        assert len(sign_in_reads) == 1 and "django_session" in sign_in_reads[0]["sql"]
        # Even the once-a-minute activity write stays inside the budget.
        age(web_session(engineer), minutes=2)
        with django_assert_max_num_queries(baseline + 1):  # type: ignore[attr-defined]
            client.get("/")


class TestSessionStore:
    def test_a_session_reads_back_what_was_saved(self, db: None) -> None:
        store = SessionStore()
        store["answer"] = 42
        store.save()
        with CaptureQueriesContext(connection) as captured:
            assert SessionStore(store.session_key)["answer"] == 42
        assert len(captured.captured_queries) == 1

    def test_the_sign_in_row_comes_with_the_session_data(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        key = client.session.session_key
        with CaptureQueriesContext(connection) as captured:
            store = SessionStore(key)
            marker = store[SESSION_MARKER]
            sign_in = store.sign_in
            assert sign_in is not None and sign_in.pk == marker == web_session(engineer).pk
            assert sign_in.user == engineer and sign_in.user.account == engineer.account
            assert sign_in.user.account.preferences == engineer.account.preferences
        # The session, its sign-in, user and account: one statement (web_session() is the other).
        assert len(captured.captured_queries) == 2
        store.cycle_key()
        assert store.sign_in is None  # read for the old key only

    def test_a_session_without_its_sign_in_row_reads_it_by_the_marker(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        LoginSession.objects.filter(user=engineer).update(session_key="")
        store = SessionStore(client.session.session_key)
        assert store[SESSION_MARKER] == web_session(engineer).pk and store.sign_in is None
        assert client.get("/").status_code == 200  # the middleware reads the row by its id

    def test_a_missing_or_expired_session_is_empty_and_keyless(self, db: None) -> None:
        store = SessionStore()
        store["answer"] = 42
        store.save()
        Session.objects.filter(session_key=store.session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
        expired = SessionStore(store.session_key)
        assert dict(expired.items()) == {} and expired.session_key is None
        missing = SessionStore("x" * 32)
        assert missing.get("answer") is None and missing.session_key is None

    def test_an_expired_session_signs_the_browser_out(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        Session.objects.filter(session_key=client.session.session_key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login")


class TestExpiryWarningEndpoints:
    def test_status_reports_both_deadlines(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        body = client.get("/account/session-status", **BACKGROUND).json()
        assert body["kind"] == "idle"
        assert 259100 < body["idle_remaining_seconds"] <= 259200
        assert 1209500 < body["absolute_remaining_seconds"] <= 1209600
        assert body["warning_seconds"] == 300
        assert body["idle_expires_at"].endswith("Z")
        assert body["dismissed"] is False

    def test_absolute_is_the_kind_when_it_comes_first(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        LoginSession.objects.update(absolute_expires_at=timezone.now() + timedelta(minutes=4))
        body = client.get("/account/session-status").json()
        assert body["kind"] == "absolute"
        assert body["remaining_seconds"] <= 240

    def test_extend_moves_the_idle_deadline(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        login_session = web_session(engineer)
        LoginSession.objects.filter(pk=login_session.pk).update(
            last_activity_at=timezone.now() - timedelta(seconds=20),
            idle_expires_at=timezone.now() + timedelta(minutes=3),
        )
        body = client.post("/account/session-status/extend").json()
        assert body["idle_remaining_seconds"] > 259000
        assert web_session(engineer).idle_expires_at > timezone.now() + timedelta(days=2)

    def test_dismiss_is_remembered_for_that_deadline(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        key = client.get("/account/session-status").json()["deadline_key"]
        response = client.post(
            "/account/session-status/dismiss", {"deadline_key": key}, **BACKGROUND
        )
        assert response.status_code == 204
        assert client.get("/account/session-status").json()["dismissed"] is True

    def test_status_for_an_expired_session_is_a_json_401(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(engineer)
        age(web_session(engineer), days=4)
        response = client.get("/account/session-status", **BACKGROUND)
        assert response.status_code == 401
        assert response.json()["redirect"] == "/login?reason=session_expired"

    def test_anonymous_status_is_401(self, db: None) -> None:
        assert Client().get("/account/session-status").status_code == 401

    def test_every_app_page_carries_the_warning(
        self, viewer: User, client_for: Callable[[User], Client]
    ) -> None:
        html = client_for(viewer).get("/").content.decode()
        assert 'id="session-expiry"' in html
        assert "js/expiry.js" in html


class TestCleanup:
    def test_purge_deletes_rows_long_past_expiry_and_keeps_audit(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        client_for(engineer)
        issue_token_pair(engineer)
        old = issue_token_pair(engineer)
        from rest_framework_simplejwt.tokens import RefreshToken as JWTRefreshToken

        old_jti = JWTRefreshToken(old["refresh"])["jti"]
        RefreshToken.objects.filter(jti=old_jti).update(
            expires_at=timezone.now() - timedelta(days=40)
        )
        stale = web_session(engineer)
        age(stale, days=60)
        client_for(engineer)
        Session.objects.create(
            session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1)
        )
        audit_count = AuditEvent.objects.count()
        result = purge_expired_sessions()
        assert result["refresh_tokens"] == 1
        assert result["login_sessions"] == 1
        assert result["django_sessions"] >= 1
        assert not RefreshToken.objects.filter(jti=old_jti).exists()
        assert RefreshToken.objects.filter(user=engineer).count() == 1
        assert LoginSession.objects.filter(user=engineer, channel="web").count() == 1
        assert AuditEvent.objects.count() == audit_count

    def test_beat_schedule_runs_the_purge(self, settings: object) -> None:
        tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}  # type: ignore[attr-defined]
        assert "accounts.tasks.purge_expired_sessions" in tasks


class TestAdmin:
    def test_owner_sees_only_this_accounts_session_records(
        self, owner: User, stranger: User, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(owner)
        client_for(stranger)
        issue_token_pair(stranger)
        for path in ("/admin/accounts/loginsession/", "/admin/accounts/refreshtoken/"):
            response = client.get(path)
            assert response.status_code == 200
            assert "Carla Diaz" not in response.content.decode()
        assert "Olivia Grant" in client.get("/admin/accounts/loginsession/").content.decode()
        assert client.get("/admin/accounts/refreshtoken/add/").status_code == 403
