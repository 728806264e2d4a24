from __future__ import annotations

import pytest
from django.http import Http404

from accounts.models import Account, AuditEvent, User
from accounts.permissions import OWNER_REQUIRED
from accounts.selectors import AUDIT_PAGE_SIZE
from accounts.services.audit import record_event
from accounts.tenancy import get_for_account, scoped

pytestmark = pytest.mark.django_db


class TestTenancy:
    def test_scoped_returns_only_this_accounts_rows(
        self, account: Account, other_account: Account, owner: User, stranger: User
    ) -> None:
        mine = record_event(account=account, type="x.mine")
        record_event(account=other_account, type="x.theirs")
        assert list(scoped(AuditEvent, account)) == [mine]

    def test_foreign_object_is_not_found(self, account: Account, stranger: User) -> None:
        """Another account's object is a 404, not a 403: its existence is not revealed."""
        theirs = record_event(account=stranger.account, type="x.theirs")
        assert theirs is not None
        with pytest.raises(Http404):
            get_for_account(AuditEvent, account, pk=theirs.pk)

    def test_garbage_id_is_not_found(self, account: Account) -> None:
        with pytest.raises(Http404):
            get_for_account(AuditEvent, account, pk="not-a-number")


class TestAuditEvents:
    def test_events_are_append_only(self, account: Account) -> None:
        event = record_event(account=account, type="x.once")
        assert event is not None
        event.type = "x.changed"
        with pytest.raises(ValueError):
            event.save()
        with pytest.raises(ValueError):
            event.delete()
        assert AuditEvent.objects.get(pk=event.pk).type == "x.once"


class TestRoles:
    @pytest.mark.parametrize(
        "fixture,can_act,is_owner",
        [
            ("owner", True, True),
            ("admin_user", True, False),
            ("engineer", True, False),
            ("viewer", False, False),
        ],
    )
    def test_role_capabilities(self, request, fixture: str, can_act: bool, is_owner: bool) -> None:
        user: User = request.getfixturevalue(fixture)
        assert user.can_act is can_act
        assert user.is_owner is is_owner

    def test_super_admin_can_do_everything(self, super_admin: User) -> None:
        assert super_admin.can_act and super_admin.is_owner and super_admin.is_staff


class TestOwnerOnlyPage:
    def test_owner_sees_the_audit_log(self, owner: User, client_for) -> None:
        response = client_for(owner).get("/account/audit")
        assert response.status_code == 200
        assert b"auth.login" in response.content

    @pytest.mark.parametrize("fixture", ["viewer", "engineer", "admin_user"])
    def test_others_get_the_403_page_with_the_message(
        self, request, fixture: str, client_for
    ) -> None:
        response = client_for(request.getfixturevalue(fixture)).get("/account/audit")
        assert response.status_code == 403
        assert OWNER_REQUIRED in response.content.decode()

    def test_audit_log_query_count_does_not_grow(
        self, owner: User, client_for, django_assert_max_num_queries
    ) -> None:
        client = client_for(owner)
        for index in range(60):
            record_event(account=owner.account, actor=owner, type=f"x.{index}")
        with django_assert_max_num_queries(6):
            response = client.get("/account/audit")
        assert response.content.count(b"<tr data-event-type=") == AUDIT_PAGE_SIZE

    def test_settings_page_lists_owner_rows_only_for_owners(
        self, owner: User, engineer: User, client_for
    ) -> None:
        assert b'data-testid="settings-audit"' in client_for(owner).get("/account").content
        assert b'data-testid="settings-audit"' not in client_for(engineer).get("/account").content
