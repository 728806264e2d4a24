"""People: invitations with a one-time set-password link, roles, deactivation, the owner rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import AuditEvent, LoginSession, RefreshToken, Role, User
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

USERS = "/api/v1/accounts/me/users"
NEW_PASSWORD = "a lighthouse keeps the harbour"


_capture: list[Any] = []


@pytest.fixture(autouse=True)
def _commit(django_capture_on_commit_callbacks: Any) -> Any:
    """E-mail leaves after commit, which the test transaction never reaches: ``committed``
    runs one request and then its on-commit callbacks, as a real commit would."""
    _capture.append(django_capture_on_commit_callbacks)
    yield
    _capture.pop()


def committed(call: Callable[[], Any]) -> Any:
    with _capture[-1](execute=True):
        return call()


def invite(client: APIClient, **body: Any) -> Any:
    data = {"email": "nina@northwind.example", "name": "Nina Berg", **body}
    return committed(lambda: client.post(USERS, data, format="json"))


def link_in(message: Any) -> str:
    match = re.search(r"https?://\S+/invitation/\S+", message.body)
    assert match, message.body
    return match.group(0)


class TestInvite:
    def test_owner_invites_and_the_link_sets_a_password_once(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        response = invite(api_client_for(owner), role="engineer")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["invitation_pending"] is True
        assert body["role"] == "engineer"
        nina = User.objects.get(email="nina@northwind.example")
        assert nina.account == owner.account
        assert not nina.has_usable_password()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["nina@northwind.example"]
        assert "Olivia Grant invited you to Northwind MSP" in message.subject
        link = link_in(message).replace("http://testserver", "")
        browser = Client()
        form_page = browser.get(link, follow=True)
        assert form_page.status_code == 200
        assert "Welcome to Northwind MSP" in form_page.content.decode()
        done = browser.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert done.status_code == 302
        assert done["Location"] == "/login?reason=password_set"
        login = Client().post("/login", {"email": nina.email, "password": NEW_PASSWORD})
        assert login.status_code == 302
        # One use: the same link no longer works.
        again = Client().get(link, follow=True).content.decode()
        assert "This link no longer works" in again
        types = list(AuditEvent.objects.values_list("type", flat=True))
        assert "user.invited" in types
        assert "user.invitation_accepted" in types

    def test_short_or_common_passwords_are_refused(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        invite(api_client_for(owner))
        link = link_in(mail.outbox[0]).replace("http://testserver", "")
        browser = Client()
        url = browser.get(link, follow=True).redirect_chain[-1][0]
        short = browser.post(url, {"new_password1": "short pass", "new_password2": "short pass"})
        assert short.status_code == 200
        assert "at least 12 characters" in short.content.decode()
        common = browser.post(
            url, {"new_password1": "password1234", "new_password2": "password1234"}
        )
        assert "too common" in common.content.decode()

    def test_resend_replaces_the_link(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        client = api_client_for(owner)
        nina_id = invite(client).json()["id"]
        first = link_in(mail.outbox[0]).replace("http://testserver", "")
        response = committed(lambda: client.post(f"{USERS}/{nina_id}/resend-invitation"))
        assert response.status_code == 200
        assert len(mail.outbox) == 2
        assert "no longer works" in Client().get(first, follow=True).content.decode()
        second = link_in(mail.outbox[1]).replace("http://testserver", "")
        assert "Welcome" in Client().get(second, follow=True).content.decode()

    def test_reinviting_an_existing_address_is_a_clear_409(
        self,
        owner: User,
        engineer: User,
        stranger: User,
        api_client_for: Callable[[User], APIClient],
    ) -> None:
        client = api_client_for(owner)
        member = client.post(
            USERS, {"email": engineer.email.upper(), "role": "viewer"}, format="json"
        )
        assert member.status_code == 409
        assert member.json()["code"] == "already_member"
        assert "already a member" in member.json()["detail"]
        elsewhere = client.post(USERS, {"email": stranger.email}, format="json")
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (409, "email_taken")
        assert not mail.outbox

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"email": "not-an-address"}, "invalid_email"),
            ({"email": "x@northwind.example", "role": "emperor"}, "invalid_role"),
            ({"email": "x@northwind.example", "name": "x" * 200}, "invalid_name"),
        ],
    )
    def test_bad_input_is_422(
        self,
        owner: User,
        api_client_for: Callable[[User], APIClient],
        body: dict[str, str],
        code: str,
    ) -> None:
        response = api_client_for(owner).post(USERS, body, format="json")
        assert (response.status_code, response.json()["code"]) == (422, code)

    def test_admin_invites_engineers_but_not_owners(
        self, admin_user: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        client = api_client_for(admin_user)
        refused = invite(client, role="owner")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "Only an owner can create or change owners"
        assert invite(client, role="admin").status_code == 201

    @pytest.mark.parametrize("role", ["engineer", "viewer"])
    def test_engineers_and_viewers_get_403(
        self, role: str, request: pytest.FixtureRequest, api_client_for: Callable[..., Any]
    ) -> None:
        client = api_client_for(request.getfixturevalue(role))
        assert client.get(USERS).status_code == 403
        response = invite(client)
        assert response.status_code == 403
        assert response.json()["detail"] == "Account owner or admin access required"
        assert not User.objects.filter(email="nina@northwind.example").exists()


class TestList:
    def test_lists_only_this_account_with_flat_queries(
        self,
        owner: User,
        engineer: User,
        stranger: User,
        api_client_for: Callable[[User], APIClient],
    ) -> None:
        client = api_client_for(owner)
        with CaptureQueriesContext(connection) as few:
            emails = {p["email"] for p in client.get(USERS).json()["results"]}
        baseline = len(few.captured_queries)
        assert emails == {owner.email, engineer.email}
        for index in range(10):
            make_user(owner.account, f"p{index}@northwind.example", Role.VIEWER)
        with CaptureQueriesContext(connection) as many:
            assert len(client.get(USERS).json()["results"]) == 12
        assert len(many.captured_queries) == baseline

    def test_pages_by_cursor_in_the_people_order(
        self, owner: User, engineer: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        """Active people first, then by name; every page the same cost; a cursor edited or of
        another list is a 400."""
        for index in range(10):
            make_user(owner.account, f"p{index}@northwind.example", Role.VIEWER, f"P {index:02}")
        User.objects.filter(email="p3@northwind.example").update(is_active=False)
        client = api_client_for(owner)
        whole = client.get(USERS).json()
        assert whole["next"] is None
        seen: list[str] = []
        url: str | None = f"{USERS}?limit=5"
        counts: list[int] = []
        while url:
            with CaptureQueriesContext(connection) as queries:
                body = client.get(url).json()
            counts.append(len(queries.captured_queries))
            seen += [p["email"] for p in body["results"]]
            url = body["next"]
        assert len(counts) == 3 and len(set(counts)) == 1  # every page the same queries
        assert seen == [p["email"] for p in whole["results"]]
        assert seen[-1] == "p3@northwind.example"  # the deactivated one last
        cursor = client.get(f"{USERS}?limit=5").json()["next"].split("cursor=")[1].split("&")[0]
        edited = client.get(f"{USERS}?cursor={cursor[:-2]}xx")
        assert (edited.status_code, edited.json()["code"]) == (400, "invalid_cursor")
        elsewhere = client.get(f"/api/v1/scripts/categories?cursor={cursor}")
        assert (elsewhere.status_code, elsewhere.json()["code"]) == (400, "invalid_cursor")


class TestUpdate:
    def url(self, user: User) -> str:
        return f"{USERS}/{user.pk}"

    def test_role_change_is_audited(
        self, owner: User, engineer: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        response = api_client_for(owner).patch(self.url(engineer), {"role": "admin"}, format="json")
        assert response.status_code == 200
        assert response.json()["role"] == "admin"
        event = AuditEvent.objects.get(type="user.role_changed")
        assert event.payload == {
            "user_id": engineer.pk,
            "user": "Jane Cooper",
            "old": "engineer",
            "new": "admin",
        }

    def test_deactivating_signs_out_every_kind_of_session_and_keeps_history(
        self,
        owner: User,
        engineer: User,
        api_client_for: Callable[[User], APIClient],
        client_for: Callable[[User], Client],
    ) -> None:
        page = client_for(engineer)
        pair = APIClient().post(
            "/api/v1/auth/login/json",
            {"email": engineer.email, "password": PASSWORD},
            format="json",
        )
        tokens = pair.json()
        response = api_client_for(owner).patch(
            self.url(engineer), {"is_active": False}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        gone = page.get("/account")
        assert gone["Location"] == "/login?reason=signed_out"
        assert not LoginSession.objects.filter(user=engineer, revoked_at__isnull=True).exists()
        assert not RefreshToken.objects.filter(user=engineer, revoked_at__isnull=True).exists()
        refreshed = APIClient().post(
            "/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"
        )
        assert refreshed.status_code == 401
        access = APIClient()
        access.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert access.get("/api/v1/accounts/me/preferences").status_code == 401
        assert (
            Client().post("/login", {"email": engineer.email, "password": PASSWORD}).status_code
            == 200
        )
        assert User.objects.filter(pk=engineer.pk).exists()
        assert AuditEvent.objects.filter(type="user.deactivated").count() == 1
        back = api_client_for(owner).patch(self.url(engineer), {"is_active": True}, format="json")
        assert back.json()["is_active"] is True
        assert (
            Client().post("/login", {"email": engineer.email, "password": PASSWORD}).status_code
            == 302
        )

    def test_the_last_active_owner_cannot_be_demoted_or_deactivated(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        second = make_user(owner.account, "otto@northwind.example", Role.OWNER)
        client = api_client_for(second)
        assert client.patch(self.url(owner), {"role": "admin"}, format="json").status_code == 200
        demote_self = client.patch(self.url(second), {"role": "admin"}, format="json")
        assert (demote_self.status_code, demote_self.json()["code"]) == (409, "last_owner")
        owner.refresh_from_db()
        assert owner.role == "admin"
        second.refresh_from_db()
        assert second.role == "owner"

    def test_nobody_deactivates_themselves(
        self, owner: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        response = api_client_for(owner).patch(self.url(owner), {"is_active": False}, format="json")
        assert response.status_code == 409

    def test_admins_never_touch_owners(
        self, owner: User, admin_user: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        client = api_client_for(admin_user)
        for body in ({"role": "engineer"}, {"is_active": False}, {"name": "Someone"}):
            response = client.patch(self.url(owner), body, format="json")
            assert response.status_code == 403, body
            assert response.json()["detail"] == "Only an owner can create or change owners"
        owner.refresh_from_db()
        assert owner.role == "owner" and owner.is_active

    def test_another_accounts_person_is_404(
        self, owner: User, stranger: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        client = api_client_for(owner)
        assert client.patch(self.url(stranger), {"role": "viewer"}).status_code == 404
        assert client.post(f"{USERS}/{stranger.pk}/resend-invitation").status_code == 404
        assert client.patch(f"{USERS}/{2**70}", {"role": "viewer"}).status_code == 404
        stranger.refresh_from_db()
        assert stranger.role == "owner"

    def test_unknown_fields_and_bad_values_are_422(
        self, owner: User, engineer: User, api_client_for: Callable[[User], APIClient]
    ) -> None:
        client = api_client_for(owner)
        assert client.patch(self.url(engineer), {"email": "x@y.z"}).status_code == 422
        bad = client.patch(self.url(engineer), {"is_active": "nope"}, format="json")
        assert bad.status_code == 422


class TestPeoplePage:
    def test_owner_sees_everyone_and_invites_from_the_page(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        html = page.get("/account/people").content.decode()
        assert "Jane Cooper" in html and "Olivia Grant" in html
        response = committed(
            lambda: page.post(
                "/account/people",
                {"email": "nina@northwind.example", "name": "Nina", "role": "viewer"},
                HTTP_HX_REQUEST="true",
            )
        )
        assert response.status_code == 200
        assert "Invitation pending" in response.content.decode()
        assert "Invitation sent to nina@northwind.example." in response["HX-Trigger"]
        assert len(mail.outbox) == 1

    def test_deactivate_from_the_page(
        self, owner: User, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        response = page.post(f"/account/people/{engineer.pk}", {"is_active": "false"})
        assert response.status_code == 302
        engineer.refresh_from_db()
        assert not engineer.is_active

    def test_last_owner_refusal_is_shown_not_raised(
        self, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(owner)
        response = page.post(
            f"/account/people/{owner.pk}", {"role": "admin"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert "at least one active owner" in response["HX-Trigger"]

    def test_admin_page_offers_no_owner_role_and_no_owner_controls(
        self, owner: User, admin_user: User, client_for: Callable[[User], Client]
    ) -> None:
        html = client_for(admin_user).get("/account/people").content.decode()
        assert f'data-testid="deactivate-{owner.pk}"' not in html
        assert f'data-testid="role-{owner.pk}"' not in html
        assert '<option value="owner"' not in html

    @pytest.mark.parametrize("role", ["engineer", "viewer"])
    def test_engineers_and_viewers_get_403_inside_the_shell(
        self, role: str, request: pytest.FixtureRequest, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(request.getfixturevalue(role))
        response = page.get("/account/people")
        assert response.status_code == 403
        assert "Account owner or admin access required" in response.content.decode()
        assert (
            page.post(f"/account/people/{request.getfixturevalue('owner').pk}").status_code == 403
        )

    def test_stranger_gets_404_for_our_people(
        self, engineer: User, stranger: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(stranger)
        assert page.post(f"/account/people/{engineer.pk}", {"role": "viewer"}).status_code == 404
        engineer.refresh_from_db()
        assert engineer.role == "engineer"
