"""Secrets at rest: PSA keys and webhook URLs are Fernet tokens, rotated by a command."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Account, AuditEvent, User
from accounts.services import preferences
from flowpilot import crypto
from psa.models import Provider, PSAIntegration
from psa.services.integration import IntegrationInput, save_integration
from psa.testing import TEST_FERNET_KEY

pytestmark = pytest.mark.django_db

SLACK = "https://hooks.slack.example/services/T000/B000/topsecretvalue"


def raw_row(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return repr(cursor.fetchone())


def cw_input(**overrides: Any) -> IntegrationInput:
    values = {
        "provider": Provider.CONNECTWISE,
        "site": "na.myconnectwise.net",
        "company_id": "northwind",
        "public_key": "PUBLICabcd1234",
        "private_key": "PRIVATEsecretvalue",
        "client_id": "0b9f5f3e-1111-4c2a-9d61-5f8a6c3c0a01",
        **overrides,
    }
    return IntegrationInput(**values)


def test_psa_keys_are_not_readable_in_the_database(owner: User, encryption_key: str) -> None:
    integration = save_integration(account=owner.account, actor=owner, data=cw_input())
    row = raw_row("psa_psaintegration", integration.pk)
    assert "PUBLICabcd1234" not in row and "PRIVATEsecretvalue" not in row
    integration.refresh_from_db()
    assert integration.private_key() == "PRIVATEsecretvalue"


def test_blank_keys_keep_the_stored_ones_and_the_audit_names_no_secret(
    owner: User, encryption_key: str
) -> None:
    save_integration(account=owner.account, actor=owner, data=cw_input())
    save_integration(
        account=owner.account, actor=owner, data=cw_input(public_key="", private_key="")
    )
    integration = PSAIntegration.objects.get(account=owner.account)
    assert integration.public_key() == "PUBLICabcd1234"
    events = AuditEvent.objects.filter(type="psa.credentials_updated").order_by("id")
    assert [e.payload["changed"] for e in events] == [
        ["client_id", "company_id", "private_key", "provider", "public_key", "site"],
        [],
    ]
    dumped = repr([e.payload for e in events])
    assert "PRIVATEsecretvalue" not in dumped and "PUBLICabcd1234" not in dumped


def test_without_a_key_outside_the_demo_a_secret_is_refused(owner: User, settings: Any) -> None:
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(crypto.EncryptionUnavailable) as caught:
        save_integration(account=owner.account, actor=owner, data=cw_input())
    assert "FIELD_ENCRYPTION_KEY" in caught.value.detail
    assert not PSAIntegration.objects.exists()
    with pytest.raises(crypto.EncryptionUnavailable):
        preferences.update_preferences(
            account=owner.account, actor=owner, changes={"slack_webhook_url": SLACK}
        )
    assert "slack_webhook_url" not in Account.objects.get(pk=owner.account_id).preferences


def test_the_demo_encrypts_with_a_derived_key(owner: User, settings: Any) -> None:
    settings.DEBUG = True
    settings.FIELD_ENCRYPTION_KEY = ""
    token = crypto.encrypt("value")
    assert crypto.is_token(token) and crypto.decrypt(token) == "value"


def test_webhook_urls_are_encrypted_and_readable_for_delivery(
    owner: User, encryption_key: str
) -> None:
    preferences.update_preferences(
        account=owner.account, actor=owner, changes={"slack_webhook_url": SLACK}
    )
    account = Account.objects.get(pk=owner.account_id)
    assert crypto.is_token(account.preferences["slack_webhook_url"])
    assert "topsecretvalue" not in raw_row("accounts_account", account.pk)
    assert preferences.webhook_url(account, "slack_webhook_url") == SLACK
    event = AuditEvent.objects.get(type="account.preferences_update")
    assert "topsecretvalue" not in repr(event.payload)


def test_rotation_re_encrypts_with_the_new_first_key(
    owner: User, settings: Any, encryption_key: str
) -> None:
    save_integration(account=owner.account, actor=owner, data=cw_input())
    preferences.update_preferences(
        account=owner.account, actor=owner, changes={"teams_webhook_url": SLACK}
    )
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},{TEST_FERNET_KEY}"
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "2 PSA key(s) and 1 webhook URL(s)" in out.getvalue()
    # Only the new key is needed now.
    settings.FIELD_ENCRYPTION_KEY = new_key
    integration = PSAIntegration.objects.get(account=owner.account)
    assert integration.private_key() == "PRIVATEsecretvalue"
    account = Account.objects.get(pk=owner.account_id)
    assert preferences.webhook_url(account, "teams_webhook_url") == SLACK


def test_rotation_stops_when_an_old_key_was_dropped_too_soon(
    owner: User, settings: Any, encryption_key: str
) -> None:
    save_integration(account=owner.account, actor=owner, data=cw_input())
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="keep the old key"):
        call_command("rotate_encryption_keys", stdout=StringIO())


def test_a_clear_legacy_webhook_is_encrypted_by_rotation(owner: User, encryption_key: str) -> None:
    account = owner.account
    account.preferences = {"slack_webhook_url": SLACK}
    account.save(update_fields=["preferences"])
    call_command("rotate_encryption_keys", stdout=StringIO())
    account.refresh_from_db()
    assert crypto.is_token(account.preferences["slack_webhook_url"])


def test_masking_shows_at_most_a_short_tail() -> None:
    assert crypto.mask("PUBLICabcd1234") == "••••1234"
    assert crypto.mask("short") == "••••"
    assert crypto.mask("") == ""


Connect = Callable[..., PSAIntegration]
