"""Sign-ins as devices: refresh-token families, reuse detection, the device list, one sign-out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import RefreshToken as JWTRefreshToken

from accounts.devices import describe_user_agent
from accounts.models import AuditEvent, LoginSession, RefreshToken, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:133.0) Gecko/20100101 Firefox/133.0"
SECURITY = "/api/v1/accounts/me/security"


def api_login(user: User, agent: str = "python-requests/2.32") -> dict[str, str]:
    response = APIClient().post(
        "/api/v1/auth/login/json",
        {"email": user.email, "password": PASSWORD},
        format="json",
        HTTP_USER_AGENT=agent,
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(raw: str) -> tuple[int, dict[str, str]]:
    response = APIClient().post("/api/v1/auth/refresh", {"refresh": raw}, format="json")
    return response.status_code, response.json()


def browser_login(user: User, agent: str) -> Client:
    client = Client(headers={"user-agent": agent})
    assert client.post("/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    return client


class TestFamilies:
    def test_rotation_keeps_the_family_and_moves_its_last_seen(self, engineer: User) -> None:
        first = api_login(engineer)
        family = JWTRefreshToken(first["refresh"])["sid"]
        sign_in = LoginSession.objects.get(pk=family)
        assert sign_in.channel == "api"
        status, second = refresh(first["refresh"])
        assert status == 200
        assert JWTRefreshToken(second["refresh"])["sid"] == family
        assert RefreshToken.objects.filter(login_session_id=family).count() == 2
        sign_in.refresh_from_db()
        assert sign_in.revoked_at is None
        assert sign_in.last_activity_at >= sign_in.auth_time

    def test_a_spent_token_presented_again_revokes_the_whole_family(self, engineer: User) -> None:
        """The thief's replay kills the legitimate client's newer token too (RFC 9700)."""
        first = api_login(engineer)
        _, second = refresh(first["refresh"])
        other = api_login(engineer)  # another device of the same person: untouched
        status, body = refresh(first["refresh"])
        assert (status, body["code"]) == (401, "invalid_refresh_token")
        assert refresh(second["refresh"])[1]["code"] == "invalid_refresh_token"
        family = JWTRefreshToken(first["refresh"])["sid"]
        sign_in = LoginSession.objects.get(pk=family)
        assert sign_in.revoked_reason == "reuse"
        assert not RefreshToken.objects.filter(
            login_session_id=family, revoked_at__isnull=True
        ).exists()
        event = AuditEvent.objects.get(type="auth.refresh_reuse")
        assert event.actor == engineer
        assert event.payload["family"] == family
        assert refresh(other["refresh"])[0] == 200
        # The family's access tokens stop too, not five minutes later.
        response = bearer(second["access"]).get("/api/v1/accounts/me/preferences")
        assert response.status_code == 401
        assert bearer(other["access"]).get("/api/v1/accounts/me/preferences").status_code == 200

    def test_the_access_token_check_is_one_query_and_needs_no_cache(self, engineer: User) -> None:
        """The user row and whether the token's sign-in ended come in one query; the sign-in
        row is the record, so an emptied (or unreachable) cache changes nothing."""
        from django.core.cache import cache
        from rest_framework.test import APIRequestFactory
        from rest_framework_simplejwt.tokens import AccessToken

        from accounts.authentication import PolicyJWTAuthentication
        from accounts.services.tokens import revoke_family

        pair = api_login(engineer)
        token = AccessToken(pair["access"])
        auth = PolicyJWTAuthentication()
        with CaptureQueriesContext(connection) as captured:
            assert auth.get_user(token).pk == engineer.pk
        assert len(captured) == 1
        revoke_family(family_id=token["sid"], reason="logout")
        cache.clear()
        request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        with pytest.raises(AuthenticationFailed) as refused:
            auth.authenticate(request)
        assert "This session was signed out." in str(refused.value.detail)

    def test_reuse_is_listed_on_the_owners_security_page(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        first = api_login(engineer)
        refresh(first["refresh"])
        refresh(first["refresh"])
        page = client_for(owner).get("/account/security")
        assert page.status_code == 200
        assert "Refresh token reused" in page.content.decode()
        assert "Jane Cooper" in page.content.decode()

    def test_logout_ends_the_family(self, engineer: User) -> None:
        pair = api_login(engineer)
        _, rotated = refresh(pair["refresh"])
        response = APIClient().post(
            "/api/v1/auth/logout", {"refresh": rotated["refresh"]}, format="json"
        )
        assert response.status_code == 204
        family = JWTRefreshToken(pair["refresh"])["sid"]
        assert LoginSession.objects.get(pk=family).revoked_reason == "logout"
        # A logged-out family's old token is no reuse alarm: plain invalid, no event.
        assert refresh(pair["refresh"])[1]["code"] == "invalid_refresh_token"
        assert not AuditEvent.objects.filter(type="auth.refresh_reuse").exists()


class TestDeviceList:
    def test_security_lists_one_entry_per_live_sign_in(
        self, owner: User, engineer: User, stranger: User
    ) -> None:
        mine = api_login(owner, agent=FIREFOX_MAC)
        browser_login(engineer, CHROME_WINDOWS)
        api_login(engineer)
        api_login(stranger)
        body = bearer(mine["access"]).get(SECURITY).json()
        devices = body["active_sessions"]
        assert len(devices) == 3
        by_device = {d["device"]: d for d in devices}
        assert set(by_device) == {
            "Firefox 133 on Mac OS X 14",
            "Chrome 131 on Windows 10",
            "Python Requests 2",
        }
        chrome = by_device["Chrome 131 on Windows 10"]
        assert chrome["kind"] == "web"
        assert chrome["user"]["email"] == engineer.email
        assert chrome["ip_address"] == "127.0.0.1"
        assert {"id", "signed_in_at", "last_seen_at", "this_device"} <= set(chrome)
        assert [d["this_device"] for d in devices if d["user"]["id"] == owner.pk] == [True]
        assert not any(d["this_device"] for d in devices if d["user"]["id"] != owner.pk)

    def test_device_list_query_count_is_flat(
        self,
        owner: User,
        engineer: User,
        django_assert_max_num_queries: Callable[..., object],
    ) -> None:
        mine = api_login(owner)
        client = bearer(mine["access"])
        client.get(SECURITY)
        with CaptureQueriesContext(connection) as few:
            assert client.get(SECURITY).status_code == 200
        baseline = len(few.captured_queries)
        assert baseline <= 6
        for _ in range(8):
            api_login(engineer)
        with django_assert_max_num_queries(baseline):  # type: ignore[attr-defined]
            assert len(client.get(SECURITY).json()["active_sessions"]) == 9

    def test_unknown_agents_read_as_unknown(self) -> None:
        assert describe_user_agent("") == "Unknown device"
        assert describe_user_agent("curl/8.5.0").startswith("curl")


class TestRevokeOneDevice:
    def url(self, device_id: object) -> str:
        return f"/api/v1/accounts/me/security/sessions/{device_id}/revoke"

    def test_owner_signs_out_one_browser_and_the_other_stays(
        self, owner: User, engineer: User
    ) -> None:
        laptop = browser_login(engineer, CHROME_WINDOWS)
        phone = browser_login(engineer, FIREFOX_MAC)
        admin = bearer(api_login(owner)["access"])
        devices = admin.get(SECURITY).json()["active_sessions"]
        target = next(d for d in devices if d["device"].startswith("Chrome"))
        response = admin.post(self.url(target["id"]))
        assert response.status_code == 200
        gone = laptop.get("/account")
        assert gone.status_code == 302
        assert gone["Location"] == "/login?reason=signed_out"
        login_page = laptop.get(gone["Location"]).content.decode()
        assert "You were signed out by your administrator." in login_page
        assert phone.get("/account").status_code == 200
        event = AuditEvent.objects.get(type="auth.device_signed_out")
        assert event.payload["user_id"] == engineer.pk
        assert event.payload["device"] == "Chrome 131 on Windows 10"

    def test_signing_out_an_api_family_stops_its_refresh_and_access_tokens(
        self, owner: User, engineer: User
    ) -> None:
        pair = api_login(engineer)
        family = JWTRefreshToken(pair["refresh"])["sid"]
        admin = bearer(api_login(owner)["access"])
        assert admin.post(self.url(family)).status_code == 200
        assert refresh(pair["refresh"])[1]["code"] == "invalid_refresh_token"
        response = bearer(pair["access"]).get("/api/v1/accounts/me/preferences")
        assert response.status_code == 401

    def test_anyone_signs_out_their_own_other_device(
        self, viewer: User, client_for: Callable[[User], Client]
    ) -> None:
        pair = api_login(viewer)
        family = JWTRefreshToken(pair["refresh"])["sid"]
        page = client_for(viewer)
        response = page.post(f"/account/devices/{family}/revoke", {"from": "account"})
        assert response.status_code == 302
        assert LoginSession.objects.get(pk=family).revoked_reason == "device_self"
        assert page.get("/account").status_code == 200

    @pytest.mark.parametrize("role", ["admin_user", "engineer", "viewer"])
    def test_non_owners_cannot_sign_out_someone_else(
        self, role: str, owner: User, request: pytest.FixtureRequest
    ) -> None:
        user = request.getfixturevalue(role)
        target = JWTRefreshToken(api_login(owner)["refresh"])["sid"]
        response = bearer(api_login(user)["access"]).post(self.url(target))
        assert response.status_code == 403
        assert response.json()["detail"] == "Account owner access required"
        assert LoginSession.objects.get(pk=target).revoked_at is None

    def test_another_accounts_device_is_404(self, owner: User, stranger: User) -> None:
        target = JWTRefreshToken(api_login(stranger)["refresh"])["sid"]
        admin = bearer(api_login(owner)["access"])
        for device_id in (target, "garbage", 2**70):
            assert admin.post(self.url(device_id)).status_code == 404
        assert LoginSession.objects.get(pk=target).revoked_at is None

    def test_page_revoke_from_the_security_page_swaps_the_card(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        family = JWTRefreshToken(api_login(engineer)["refresh"])["sid"]
        page = client_for(owner)
        before = page.get("/account/security").content.decode()
        assert f'data-device-id="{family}"' in before
        response = page.post(
            f"/account/devices/{family}/revoke", {"from": "security"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert 'id="sessions-card"' in body
        assert f'data-device-id="{family}"' not in body
        assert "Signed out Jane Cooper on that device." in response["HX-Trigger"]
