"""Session-expiration policy: the owner's API and page, bounds, invariant and audit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken as JWTRefreshToken

from accounts.models import Account, AuditEvent, User
from accounts.services.session_policy import preset_name, resolve_session_policy
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/v1/accounts/me/security"


class TestResolvePolicy:
    def test_null_overrides_are_the_strict_defaults(self, account: Account) -> None:
        """NULL overrides resolve to Strict: 3 days idle, 14 days absolute."""
        assert resolve_session_policy(account) == (4320, 20160)
        account.idle_minutes = 60
        assert resolve_session_policy(account) == (60, 20160)

    def test_preset_names(self) -> None:
        assert preset_name(None, None) == "strict"
        assert preset_name(10080, 43200) == "standard"
        assert preset_name(60, 240) == "custom"


class TestSecurityApi:
    def test_get_with_null_overrides_shows_strict_defaults_and_bounds(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        """GET shows NULL overrides, Strict effective values, the preset and system bounds."""
        body = api_client_for(owner).get(URL).json()
        assert body["idle_minutes"] is None
        assert body["absolute_minutes"] is None
        assert body["effective"] == {"idle_minutes": 4320, "absolute_minutes": 20160}
        assert body["preset"] == "strict"
        assert body["bounds"] == {
            "idle_minutes": {"min": 15, "max": 43200},
            "absolute_minutes": {"min": 60, "max": 129600},
        }
        assert isinstance(body["active_users"], list)

    def test_patch_then_fresh_login_carries_the_new_policy(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        """PATCH 60/240 is saved; the next login's refresh JWT has idle_max=3600, abs_max=14400."""
        response = api_client_for(owner).patch(
            URL, {"idle_minutes": 60, "absolute_minutes": 240}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["preset"] == "custom"
        owner.account.refresh_from_db()
        assert (owner.account.idle_minutes, owner.account.absolute_minutes) == (60, 240)
        login = APIClient().post(
            "/api/v1/auth/login/json", {"email": owner.email, "password": PASSWORD}, format="json"
        )
        token = JWTRefreshToken(login.json()["refresh"])
        assert token["idle_max"] == 3600
        assert token["abs_max"] == 14400

    @pytest.mark.parametrize(
        "body,field",
        [
            ({"idle_minutes": 14}, "idle_minutes"),
            ({"absolute_minutes": 129601}, "absolute_minutes"),
            ({"idle_minutes": "sixty"}, "idle_minutes"),
        ],
    )
    def test_out_of_bounds_values_are_422(
        self,
        owner: User,
        api_client_for: Callable[[User], APIClient],
        body: dict[str, object],
        field: str,
    ) -> None:
        """Idle below 15 and absolute above 129600 are refused per field with 422."""
        response = api_client_for(owner).patch(URL, body, format="json")
        assert response.status_code == 422
        assert field in response.json()
        owner.account.refresh_from_db()
        assert owner.account.idle_minutes is None and owner.account.absolute_minutes is None
        assert not AuditEvent.objects.filter(type="account.session_policy_update").exists()

    def test_idle_longer_than_absolute_is_422(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        response = api_client_for(owner).patch(
            URL, {"idle_minutes": 600, "absolute_minutes": 300}, format="json"
        )
        assert response.status_code == 422
        assert response.json()["code"] == "idle_exceeds_absolute"

    def test_partial_override_is_checked_on_effective_values(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        """idle=43200 with absolute unset (default 20160) breaks the invariant: 422."""
        response = api_client_for(owner).patch(URL, {"idle_minutes": 43200}, format="json")
        assert response.status_code == 422
        assert response.json()["code"] == "idle_exceeds_absolute"
        owner.account.refresh_from_db()
        assert owner.account.idle_minutes is None

    def test_bounds_are_checked_before_the_invariant(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        response = api_client_for(owner).patch(
            URL, {"idle_minutes": 99999, "absolute_minutes": 60}, format="json"
        )
        assert response.status_code == 422
        assert response.json()["code"] == "out_of_bounds"

    def test_null_clears_an_override(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        client = api_client_for(owner)
        client.patch(URL, {"idle_minutes": 60, "absolute_minutes": 240}, format="json")
        body = client.patch(URL, {"absolute_minutes": None}, format="json").json()
        assert body["absolute_minutes"] is None
        assert body["effective"] == {"idle_minutes": 60, "absolute_minutes": 20160}
        owner.account.refresh_from_db()
        assert owner.account.absolute_minutes is None

    def test_exactly_one_audit_row_with_the_payload(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        api_client_for(owner).patch(
            URL, {"idle_minutes": 60, "absolute_minutes": 240}, format="json"
        )
        events = AuditEvent.objects.filter(type="account.session_policy_update")
        assert events.count() == 1
        event = events.get()
        assert event.actor == owner
        assert event.payload == {
            "old": {"idle_minutes": None, "absolute_minutes": None},
            "new": {"idle_minutes": 60, "absolute_minutes": 240},
            "effective_old": {"idle_minutes": 4320, "absolute_minutes": 20160},
            "effective_new": {"idle_minutes": 60, "absolute_minutes": 240},
        }

    @pytest.mark.parametrize("role", ["engineer", "admin_user", "viewer"])
    def test_non_owners_get_403(
        self,
        role: str,
        request: pytest.FixtureRequest,
        api_client_for: Callable[[User], APIClient],
    ) -> None:
        user = request.getfixturevalue(role)
        client = api_client_for(user)
        assert client.get(URL).status_code == 403
        response = client.patch(URL, {"idle_minutes": 60}, format="json")
        assert response.status_code == 403
        assert response.json()["detail"] == "Account owner access required"
        user.account.refresh_from_db()
        assert user.account.idle_minutes is None

    def test_another_accounts_owner_changes_only_their_own_account(
        self,
        owner: User,
        stranger: User,
        api_client_for: Callable[[User], APIClient],
    ) -> None:
        api_client_for(stranger).patch(
            URL, {"idle_minutes": 60, "absolute_minutes": 240}, format="json"
        )
        owner.account.refresh_from_db()
        stranger.account.refresh_from_db()
        assert owner.account.idle_minutes is None
        assert stranger.account.idle_minutes == 60

    def test_anonymous_is_401(self, db: None) -> None:
        assert APIClient().get(URL).status_code == 401


class TestSecurityPage:
    def test_owner_sees_policy_and_sessions_cards(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner).get("/account/security")
        html = page.content.decode()
        assert page.status_code == 200
        assert 'id="policy-card"' in html and 'id="sessions-card"' in html
        assert "ASVS" in html and "NIST" in html
        assert "applies at next login" in html.lower()
        assert "(you)" in html

    def test_settings_list_links_session_security_for_owners(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        html = client_for(owner).get("/account").content.decode()
        assert 'href="/account/security"' in html
        assert "Session security" in html

    @pytest.mark.parametrize("role", ["engineer", "admin_user", "viewer"])
    def test_non_owners_get_403_on_the_page(
        self, role: str, request: pytest.FixtureRequest, client_for: Callable[[User], Client]
    ) -> None:
        client = client_for(request.getfixturevalue(role))
        assert client.get("/account/security").status_code == 403
        assert client.post("/account/security", {"preset": "standard"}).status_code == 403

    def test_htmx_save_of_a_preset_returns_the_card_with_confirmation(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        response = client_for(owner).post(
            "/account/security", {"preset": "standard"}, HTTP_HX_REQUEST="true"
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="policy-saved"' in html
        assert "<html" not in html
        assert "toast" in response["HX-Trigger"]
        owner.account.refresh_from_db()
        assert (owner.account.idle_minutes, owner.account.absolute_minutes) == (10080, 43200)

    def test_custom_value_out_of_bounds_is_an_inline_field_error(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        response = client_for(owner).post(
            "/account/security",
            {"preset": "custom", "idle_minutes": "5", "absolute_minutes": "240"},
            HTTP_HX_REQUEST="true",
        )
        html = response.content.decode()
        assert "Must be between 15 and 43200 minutes." in html
        assert "has-error" in html
        owner.account.refresh_from_db()
        assert owner.account.idle_minutes is None

    def test_strict_preset_clears_the_overrides(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        owner.account.idle_minutes, owner.account.absolute_minutes = 60, 240
        owner.account.save()
        client_for(owner).post("/account/security", {"preset": "strict"})
        owner.account.refresh_from_db()
        assert owner.account.idle_minutes is None and owner.account.absolute_minutes is None
