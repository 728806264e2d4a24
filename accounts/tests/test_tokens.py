"""API tokens under the session policy: claims, rotation, absolute cap, replay, legacy, logout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.tokens import RefreshToken as JWTRefreshToken

from accounts.models import AuditEvent, RefreshToken, RevokeReason, User
from accounts.services.tokens import issue_token_pair
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/refresh"


def login(user: User) -> dict[str, object]:
    response = APIClient().post(
        "/api/v1/auth/login/json", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(raw: object) -> tuple[int, dict[str, object]]:
    response = APIClient().post(REFRESH, {"refresh": raw}, format="json")
    return response.status_code, response.json()


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tampered(raw: str, **claims: object) -> str:
    """The same token (same jti) re-signed with some claims changed."""
    token = JWTRefreshToken(raw)
    for name, value in claims.items():
        if value is None:
            del token[name]
        else:
            token[name] = value
    return str(token)


class TestLoginClaims:
    def test_login_embeds_strict_claims_and_matching_iso_fields(self, engineer: User) -> None:
        """Strict default: idle_max 259200 s, abs_max 1209600 s; the ISO fields match exp/cap."""
        body = login(engineer)
        token = JWTRefreshToken(body["refresh"])
        assert token["idle_max"] == 259200
        assert token["abs_max"] == 1209600
        assert token["exp"] == token["iat"] + 259200
        assert token["auth_time"] == token["iat"]
        assert body["idle_expires_at"] == iso(token["exp"])
        assert body["absolute_expires_at"] == iso(token["auth_time"] + token["abs_max"])
        assert str(body["idle_expires_at"]).endswith("Z")
        row = RefreshToken.objects.get(jti=token["jti"])
        assert row.user == engineer and row.account_id == engineer.account_id
        assert row.revoked_at is None
        assert int(row.expires_at.timestamp()) == token["exp"]

    def test_form_login_carries_the_same_fields(self, engineer: User) -> None:
        response = APIClient().post(
            "/api/v1/auth/login", {"email": engineer.email, "password": PASSWORD}
        )
        body = response.json()
        assert {"access", "refresh", "idle_expires_at", "absolute_expires_at", "user"} <= set(body)

    def test_access_token_lives_five_minutes(self, engineer: User) -> None:
        access = AccessToken(login(engineer)["access"])
        assert access["exp"] - access["iat"] == 300

    def test_exp_never_passes_the_absolute_deadline(self, engineer: User) -> None:
        """A rotation close to the cap gets exp = auth_time + abs_max, not now + idle_max."""
        auth_time = int(datetime.now(tz=UTC).timestamp()) - 3000
        pair = issue_token_pair(engineer, auth_time=auth_time, idle_max=3600, abs_max=3600)
        token = JWTRefreshToken(pair["refresh"])
        assert token["exp"] == auth_time + 3600
        assert pair["idle_expires_at"] == pair["absolute_expires_at"]
        assert AccessToken(pair["access"])["exp"] <= auth_time + 3600


class TestRefresh:
    def test_refresh_carries_claims_forward_unchanged(self, engineer: User) -> None:
        first = JWTRefreshToken(login(engineer)["refresh"])
        status, body = refresh(str(first))
        assert status == 200, body
        second = JWTRefreshToken(body["refresh"])
        for claim in ("auth_time", "idle_max", "abs_max"):
            assert second[claim] == first[claim]
        assert second["jti"] != first["jti"]
        assert body["absolute_expires_at"] == iso(first["auth_time"] + first["abs_max"])
        assert RefreshToken.objects.get(jti=first["jti"]).revoked_reason == RevokeReason.ROTATED
        assert RefreshToken.objects.get(jti=second["jti"]).revoked_at is None

    def test_auth_time_backdated_by_abs_max_is_session_expired_absolute(
        self, engineer: User
    ) -> None:
        """now == auth_time + abs_max counts as expired (boundary), and the token is spent."""
        raw = login(engineer)["refresh"]
        token = JWTRefreshToken(raw)
        status, body = refresh(tampered(raw, auth_time=token["auth_time"] - token["abs_max"]))
        assert status == 401
        assert body["code"] == "session_expired_absolute"
        row = RefreshToken.objects.get(jti=token["jti"])
        assert row.revoked_at is not None
        assert row.revoked_reason == RevokeReason.ABSOLUTE
        event = AuditEvent.objects.get(type="auth.session_expired", actor=engineer)
        assert event.payload == {"kind": "absolute", "channel": "api"}

    def test_same_expired_token_twice_is_absolute_then_invalid(self, engineer: User) -> None:
        raw = login(engineer)["refresh"]
        token = JWTRefreshToken(raw)
        expired = tampered(raw, auth_time=token["auth_time"] - token["abs_max"])
        assert refresh(expired)[1]["code"] == "session_expired_absolute"
        status, body = refresh(expired)
        assert status == 401
        assert body["code"] == "invalid_refresh_token"
        assert set(body) >= {"detail", "code"}

    def test_replay_of_a_rotated_token_is_invalid_and_audited(self, engineer: User) -> None:
        raw = login(engineer)["refresh"]
        assert refresh(raw)[0] == 200
        status, body = refresh(raw)
        assert status == 401
        assert body["code"] == "invalid_refresh_token"
        assert AuditEvent.objects.filter(type="auth.refresh_reuse", actor=engineer).count() == 1

    def test_legacy_token_rotates_once_then_carries_the_account_policy(
        self, engineer: User
    ) -> None:
        """A token minted before policy claims existed (no claims, no row) is accepted once."""
        engineer.account.idle_minutes, engineer.account.absolute_minutes = 60, 240
        engineer.account.save()
        legacy = JWTRefreshToken.for_user(engineer)
        raw = str(legacy)
        status, body = refresh(raw)
        assert status == 200, body
        rotated = JWTRefreshToken(body["refresh"])
        assert rotated["idle_max"] == 3600
        assert rotated["abs_max"] == 14400
        assert rotated["auth_time"] == legacy["iat"]
        status, body = refresh(raw)
        assert (status, body["code"]) == (401, "invalid_refresh_token")
        assert refresh(str(rotated))[0] == 200

    def test_idle_expired_token_is_session_expired_idle(self, engineer: User) -> None:
        raw = login(engineer)["refresh"]
        token = JWTRefreshToken(raw)
        past = tampered(raw, exp=token["iat"] - 1)
        status, body = refresh(past)
        assert (status, body["code"]) == (401, "session_expired_idle")

    @pytest.mark.parametrize("raw", ["", "garbage", None])
    def test_garbage_is_invalid_refresh_token(self, db: None, raw: object) -> None:
        status, body = refresh(raw)
        assert (status, body["code"]) == (401, "invalid_refresh_token")

    def test_access_token_is_not_a_refresh_token(self, engineer: User) -> None:
        status, body = refresh(login(engineer)["access"])
        assert (status, body["code"]) == (401, "invalid_refresh_token")

    def test_inactive_user_cannot_refresh(self, engineer: User) -> None:
        raw = login(engineer)["refresh"]
        engineer.is_active = False
        engineer.save(update_fields=["is_active"])
        status, body = refresh(raw)
        assert (status, body["code"]) == (401, "invalid_refresh_token")

    def test_trailing_slash_works_too(self, engineer: User) -> None:
        raw = login(engineer)["refresh"]
        response = APIClient().post(REFRESH + "/", {"refresh": raw}, format="json")
        assert response.status_code == 200


class TestLogout:
    def test_logout_revokes_the_callers_token(self, engineer: User) -> None:
        raw = login(engineer)["refresh"]
        response = APIClient().post("/api/v1/auth/logout", {"refresh": raw}, format="json")
        assert response.status_code == 204
        row = RefreshToken.objects.get(jti=JWTRefreshToken(raw)["jti"])
        assert row.revoked_reason == RevokeReason.LOGOUT
        status, body = refresh(raw)
        assert (status, body["code"]) == (401, "invalid_refresh_token")
        again = APIClient().post("/api/v1/auth/logout", {"refresh": raw}, format="json")
        assert again.status_code == 204

    def test_logout_with_a_forged_token_is_401(self, db: None) -> None:
        response = APIClient().post("/api/v1/auth/logout", {"refresh": "x.y.z"}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_refresh_token"


class TestAccessTokensAfterSignOutAll:
    def test_access_tokens_issued_before_a_bulk_revoke_are_refused(
        self, owner: User, engineer: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        client = api_client_for(engineer)
        assert client.get("/api/v1/accounts/me/preferences").status_code == 200
        engineer.sessions_valid_after = datetime.now(tz=UTC) + timedelta(seconds=2)
        engineer.save(update_fields=["sessions_valid_after"])
        assert client.get("/api/v1/accounts/me/preferences").status_code == 401
