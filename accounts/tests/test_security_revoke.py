"""Signing everyone out: scopes, tenancy, idempotency, audit, web sessions; active users."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import AuditEvent, LoginSession, RefreshToken, User
from accounts.services.revocation import revoke_account_sessions
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/me/security/revoke-sessions"


def api_login(user: User) -> tuple[APIClient, str]:
    body = (
        APIClient()
        .post("/api/v1/auth/login/json", {"email": user.email, "password": PASSWORD}, format="json")
        .json()
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    return client, body["refresh"]


def refresh_code(raw: str) -> tuple[int, str]:
    response = APIClient().post("/api/v1/auth/refresh", {"refresh": raw}, format="json")
    return response.status_code, response.json().get("code", "")


class TestRevokeApi:
    def test_scope_all_kills_the_callers_refresh(self, owner: User) -> None:
        client, raw = api_login(owner)
        response = client.post(URL, {"scope": "all"}, format="json")
        assert response.status_code == 200
        assert response.json()["revoked_count"] == 1
        assert refresh_code(raw) == (401, "invalid_refresh_token")

    def test_scope_defaults_to_all(self, owner: User, engineer: User) -> None:
        client, raw = api_login(owner)
        _, member_raw = api_login(engineer)
        assert client.post(URL, {}, format="json").json()["revoked_count"] == 2
        assert refresh_code(raw)[0] == 401 and refresh_code(member_raw)[0] == 401

    def test_scope_others_keeps_the_callers_and_kills_a_members(
        self, owner: User, engineer: User
    ) -> None:
        client, raw = api_login(owner)
        _, member_raw = api_login(engineer)
        response = client.post(URL, {"scope": "others"}, format="json")
        assert response.json() == {"scope": "others", "revoked_count": 1}
        assert refresh_code(member_raw) == (401, "invalid_refresh_token")
        assert refresh_code(raw)[0] == 200

    def test_other_accounts_are_untouched(
        self, owner: User, engineer: User, stranger: User
    ) -> None:
        client, _ = api_login(owner)
        _, member_raw = api_login(engineer)
        _, stranger_raw = api_login(stranger)
        Client().post("/login", {"email": stranger.email, "password": PASSWORD})
        response = client.post(URL, {"scope": "all"}, format="json")
        assert response.json()["revoked_count"] == 2
        assert refresh_code(stranger_raw)[0] == 200
        assert LoginSession.objects.get(user=stranger, channel="web").revoked_at is None
        stranger.refresh_from_db()
        assert stranger.sessions_valid_after is None

    @pytest.mark.parametrize("role", ["engineer", "admin_user", "viewer"])
    def test_non_owners_get_403(
        self, role: str, request: pytest.FixtureRequest, owner: User
    ) -> None:
        _, owner_raw = api_login(owner)
        client, _ = api_login(request.getfixturevalue(role))
        response = client.post(URL, {"scope": "all"}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Account owner access required"
        assert refresh_code(owner_raw)[0] == 200
        assert not AuditEvent.objects.filter(type="account.sessions_revoked_bulk").exists()

    def test_exactly_one_audit_row_and_idempotent_second_call(
        self, owner: User, engineer: User
    ) -> None:
        client, _ = api_login(owner)
        api_login(engineer)
        first = client.post(URL, {"scope": "others"}, format="json").json()
        assert first["revoked_count"] == 1
        event = AuditEvent.objects.get(type="account.sessions_revoked_bulk")
        assert event.actor == owner
        assert event.payload == {"scope": "others", "revoked_count": 1}
        second = client.post(URL, {"scope": "others"}, format="json").json()
        assert second["revoked_count"] == 0
        assert AuditEvent.objects.filter(type="account.sessions_revoked_bulk").count() == 2

    def test_unknown_scope_is_422(self, owner: User) -> None:
        client, raw = api_login(owner)
        response = client.post(URL, {"scope": "everyone"}, format="json")
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_scope"
        assert refresh_code(raw)[0] == 200

    def test_web_sessions_are_revoked_too(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        """The member's next page load goes to login; the owner's page keeps working."""
        owner_page = client_for(owner)
        member_page = client_for(engineer)
        assert member_page.get("/").status_code == 200
        client, _ = api_login(owner)
        assert client.post(URL, {"scope": "others"}, format="json").json()["revoked_count"] == 1
        response = member_page.get("/account")
        assert response.status_code == 302
        assert response["Location"].startswith("/login")
        assert "session_expired" not in response["Location"]
        assert member_page.get("/account")["Location"].startswith("/login")
        assert owner_page.get("/account").status_code == 200
        assert LoginSession.objects.get(user=engineer, channel="web").revoked_reason == "bulk"

    def test_one_update_per_table(
        self, owner: User, engineer: User, django_assert_max_num_queries: Callable[..., object]
    ) -> None:
        """However many sessions: UPDATE sessions, UPDATE tokens, UPDATE users, users, audit."""
        for _ in range(5):
            api_login(engineer)
        with django_assert_max_num_queries(7) as captured:  # type: ignore[attr-defined]
            count = revoke_account_sessions(account=owner.account, actor=owner, scope="all")
        assert count == 5
        updates = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("UPDATE")]
        assert len(updates) == 3
        assert RefreshToken.objects.filter(revoked_at__isnull=True).count() == 0


class TestRevokePage:
    def test_scope_all_from_the_page_signs_the_caller_out(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        member = client_for(engineer)
        response = page.post(
            "/account/security/revoke-sessions", {"scope": "all"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 204
        assert '"signedOutAll"' in response["HX-Trigger"]
        assert "Signed out 2 sessions." in response["HX-Trigger"]
        assert page.get("/account")["Location"].startswith("/login")
        assert member.get("/account")["Location"].startswith("/login")
        login_page = page.get("/login")
        assert login_page.status_code == 200
        assert b"session-expired-banner" not in login_page.content

    def test_scope_others_from_the_page_rerenders_the_sessions_card(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        client_for(engineer)
        response = page.post(
            "/account/security/revoke-sessions", {"scope": "others"}, HTTP_HX_REQUEST="true"
        )
        html = response.content.decode()
        assert 'id="sessions-card"' in html
        assert "Only you are signed in." in html
        assert "revoke-others-btn" not in html
        assert page.get("/account").status_code == 200

    def test_engineer_gets_403_on_the_page_action(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        response = client_for(engineer).post("/account/security/revoke-sessions", {"scope": "all"})
        assert response.status_code == 403
        assert LoginSession.objects.get(user=engineer, channel="web").revoked_at is None


class TestActiveUsers:
    def test_active_users_after_login_with_you_tag(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        client_for(engineer)
        api_login(engineer)
        body = page.get("/api/v1/accounts/me/security").json()
        users = body["active_users"]
        assert [u["user_id"] for u in users].count(engineer.pk) == 1
        assert {u["user_id"] for u in users} == {owner.pk, engineer.pk}
        assert users[0]["user_id"] == engineer.pk  # newest login first
        assert set(users[0]) == {"user_id", "name", "email", "last_login_at"}
        html = page.get("/account/security").content.decode()
        assert 'Olivia Grant <span class="muted you-tag">(you)</span>' in html
        assert "Jane Cooper" in html
        assert "2 people are signed in" in html
        assert "revoke-others-btn" in html

    def test_revoked_and_other_account_users_are_not_listed(
        self, owner: User, engineer: User, stranger: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        client_for(stranger)
        _, raw = api_login(engineer)
        APIClient().post("/api/v1/auth/logout", {"refresh": raw}, format="json")
        ids = {
            u["user_id"] for u in page.get("/api/v1/accounts/me/security").json()["active_users"]
        }
        assert ids == {owner.pk}

    def test_sessions_card_pins_its_query_count(
        self,
        owner: User,
        engineer: User,
        teammate: User,
        client_for: Callable[[User], Client],
        django_assert_max_num_queries: Callable[..., object],
    ) -> None:
        page = client_for(owner)
        for user in (engineer, teammate):
            client_for(user)
        with django_assert_max_num_queries(10):  # type: ignore[attr-defined]
            response = page.get("/account/security")
        assert response.status_code == 200
