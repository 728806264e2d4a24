from __future__ import annotations

import pytest

from accounts.models import Account, AuditEvent, User
from accounts.permissions import ENGINEER_OR_ADMIN_REQUIRED

pytestmark = pytest.mark.django_db
URL = "/api/v1/accounts/me/preferences"


def test_get_returns_defaults(engineer: User, api_client_for) -> None:
    body = api_client_for(engineer).get(URL).json()
    assert body["templatize_prompt_enabled"] is True
    assert body["cw_resolved_status_id"] is None


def test_patch_merges_and_keeps_keys_not_sent(admin_user: User, api_client_for) -> None:
    client = api_client_for(admin_user)
    assert client.patch(URL, {"cw_resolved_status_id": 21}, format="json").status_code == 200
    body = client.patch(URL, {"templatize_prompt_enabled": False}, format="json").json()
    assert body["cw_resolved_status_id"] == 21
    assert body["templatize_prompt_enabled"] is False
    account = Account.objects.get(pk=admin_user.account_id)
    assert account.preferences == {"cw_resolved_status_id": 21, "templatize_prompt_enabled": False}
    assert AuditEvent.objects.filter(type="account.preferences_update").count() == 2


def test_trailing_slash_works(engineer: User, api_client_for) -> None:
    assert api_client_for(engineer).get(URL + "/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"cw_resolved_status_id": "21"},
        {"cw_resolved_status_id": True},
        {"slack_webhook_url": "http://insecure.example"},
        ["not", "an", "object"],
        {"zzz_unknown": 1},
    ],
)
def test_bad_values_are_rejected_and_nothing_changes(owner: User, api_client_for, body) -> None:
    client = api_client_for(owner)
    client.patch(URL, {"cw_escalated_status_id": 5}, format="json")
    response = client.patch(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Account.objects.get(pk=owner.account_id).preferences == {"cw_escalated_status_id": 5}


def test_viewer_reads_but_cannot_change(viewer: User, api_client_for) -> None:
    client = api_client_for(viewer)
    assert client.get(URL).status_code == 200
    response = client.patch(URL, {"templatize_prompt_enabled": False}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": ENGINEER_OR_ADMIN_REQUIRED, "code": "permission_denied"}


def test_accounts_are_isolated(engineer: User, stranger: User, api_client_for) -> None:
    assert (
        api_client_for(stranger)
        .patch(URL, {"cw_resolved_status_id": 99}, format="json")
        .status_code
        == 200
    )
    assert api_client_for(engineer).get(URL).json()["cw_resolved_status_id"] is None


def test_anonymous_is_401(db) -> None:
    from rest_framework.test import APIClient

    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_engineer_may_only_turn_off_the_templatize_prompt(engineer: User, api_client_for) -> None:
    """Any engineer may say "Don't ask again"; webhooks and PSA statuses need an admin."""
    client = api_client_for(engineer)
    ok = client.patch(URL, {"templatize_prompt_enabled": False}, format="json")
    assert ok.status_code == 200 and ok.json()["templatize_prompt_enabled"] is False
    response = client.patch(URL, {"slack_webhook_url": "https://hooks.example/x"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "slack_webhook_url" not in Account.objects.get(pk=engineer.account_id).preferences


def test_webhook_urls_are_never_shown_back(owner: User, engineer: User, api_client_for) -> None:
    """Owners see the host behind a mask, engineers only that one is set."""
    url = "https://hooks.slack.example/services/T000/B000/secret"
    saved = api_client_for(owner).patch(URL, {"slack_webhook_url": url}, format="json")
    assert saved.json()["slack_webhook_url"] == "https://hooks.slack.example/••••"
    assert "secret" not in saved.content.decode()
    assert api_client_for(owner).get(URL).json()["slack_webhook_url"].endswith("/••••")
    assert api_client_for(engineer).get(URL).json()["slack_webhook_url"] == "(set)"
