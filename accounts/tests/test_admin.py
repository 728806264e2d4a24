from __future__ import annotations

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_owner_sees_only_own_accounts_users(
    owner: User, engineer: User, stranger: User, client_for
) -> None:
    """The tenant-scoped admin lists this account's users and hides everyone else's."""
    response = client_for(owner).get("/admin/accounts/user/")
    assert response.status_code == 200
    body = response.content.decode()
    assert engineer.email in body
    assert stranger.email not in body


def test_foreign_user_change_page_is_not_reachable(owner: User, stranger: User, client_for) -> None:
    response = client_for(owner).get(f"/admin/accounts/user/{stranger.pk}/change/")
    assert response.status_code in (302, 404)
    assert stranger.email not in response.content.decode()


def test_owner_edit_keeps_the_user_in_the_account(
    owner: User, engineer: User, stranger: User, client_for
) -> None:
    client = client_for(owner)
    response = client.post(
        f"/admin/accounts/user/{engineer.pk}/change/",
        {
            "email": engineer.email,
            "name": "Jane C.",
            "role": "admin",
            "is_active": "on",
            "account": stranger.account_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    engineer.refresh_from_db()
    assert engineer.name == "Jane C." and engineer.role == "admin"
    assert engineer.account_id == owner.account_id


def test_super_admin_sees_every_account(
    super_admin: User, engineer: User, stranger: User, client_for
) -> None:
    body = client_for(super_admin).get("/admin/accounts/user/").content.decode()
    assert engineer.email in body and stranger.email in body


@pytest.mark.parametrize("fixture", ["engineer", "viewer"])
def test_engineers_and_viewers_do_not_reach_admin(request, fixture: str, client_for) -> None:
    response = client_for(request.getfixturevalue(fixture)).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_audit_events_are_read_only_in_admin(owner: User, client_for) -> None:
    client = client_for(owner)
    assert client.get("/admin/accounts/auditevent/").status_code == 200
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403


def test_api_schema_is_served(engineer: User, client_for) -> None:
    response = client_for(engineer).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/auth/login/json" in response.content


def test_admin_cannot_promote_themselves_to_owner(admin_user: User, client_for) -> None:
    """Roles are the owner's to hand out: the role field is read-only for an admin."""
    response = client_for(admin_user).post(
        f"/admin/accounts/user/{admin_user.pk}/change/",
        {"email": admin_user.email, "name": admin_user.name, "role": "owner", "is_active": "on"},
    )
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"


def test_admin_cannot_change_the_owner(admin_user: User, owner: User, client_for) -> None:
    client = client_for(admin_user)
    client.post(
        f"/admin/accounts/user/{owner.pk}/change/",
        {"email": owner.email, "name": owner.name, "role": "viewer", "is_active": ""},
    )
    owner.refresh_from_db()
    assert owner.role == "owner" and owner.is_active


def test_policy_minutes_cannot_be_set_through_admin(owner: User, client_for) -> None:
    """The security page validates and audits policy changes; admin must not bypass it."""
    client = client_for(owner)
    client.post(
        f"/admin/accounts/account/{owner.account_id}/change/",
        {
            "name": "Renamed MSP",
            "slug": "hacked",
            "idle_minutes": "1",
            "absolute_minutes": "1",
            "preferences": "{}",
        },
    )
    owner.account.refresh_from_db()
    assert owner.account.name == "Renamed MSP"
    assert owner.account.idle_minutes is None and owner.account.absolute_minutes is None
    assert owner.account.slug == "northwind"


def test_global_auth_groups_are_not_in_admin(owner: User, client_for) -> None:
    assert client_for(owner).get("/admin/auth/group/").status_code == 404


def test_session_records_cannot_be_deleted_in_admin(owner: User, client_for) -> None:
    from accounts.models import LoginSession

    client = client_for(owner)
    record = LoginSession.objects.filter(user=owner).first()
    assert record is not None
    response = client.post(f"/admin/accounts/loginsession/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert LoginSession.objects.filter(pk=record.pk).exists()
