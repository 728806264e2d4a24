"""Saving and testing the account's PSA connection. Keys are encrypted before they are stored."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, User
from accounts.services.audit import record_event
from flowpilot import crypto
from flowpilot.errors import DomainError
from psa.connection import build_provider, integration_of
from psa.errors import PSAError
from psa.models import Provider, PSAIntegration
from psa.providers.base import ConnectionResult
from psa.providers.connectwise import normalise_site, site_problem
from psa.selectors import connected_key

FIELD_LIMITS = {
    "site": 255,
    "company_id": 64,
    "client_id": 64,
    "public_key": 200,
    "private_key": 200,
}


@dataclass(frozen=True)
class IntegrationInput:
    provider: str
    site: str = ""
    company_id: str = ""
    public_key: str = ""  # "" keeps the stored key
    private_key: str = ""  # "" keeps the stored key
    client_id: str = ""


def _validate(data: IntegrationInput, existing: PSAIntegration | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.provider not in Provider.values:
        errors["provider"] = ["Choose ConnectWise Manage or None."]
        return errors
    for name, limit in FIELD_LIMITS.items():
        if len(getattr(data, name)) > limit:
            errors[name] = [f"At most {limit} characters."]
    if data.provider != Provider.CONNECTWISE:
        return errors
    problem = site_problem(data.site)
    if problem:
        errors.setdefault("site", []).append(problem)
    if not data.company_id.strip():
        errors.setdefault("company_id", []).append("The ConnectWise company id is required.")
    if not data.client_id.strip():
        errors.setdefault("client_id", []).append(
            "ConnectWise requires a clientId on every call (developer.connectwise.com)."
        )
    for name in ("public_key", "private_key"):
        stored = getattr(existing, f"{name}_encrypted", "") if existing else ""
        if not getattr(data, name).strip() and not stored:
            errors.setdefault(name, []).append("Required.")
    return errors


@transaction.atomic
def save_integration(*, account: Account, actor: User, data: IntegrationInput) -> PSAIntegration:
    """
    Create or update the connection. Blank keys keep the stored ones. The audit event names what
    changed, never a value of a key.
    """
    existing = PSAIntegration.objects.select_for_update().filter(account=account).first()
    errors = _validate(data, existing)
    if errors:
        raise DomainError("Check the highlighted fields.", code="invalid", extra=errors)
    integration = existing or PSAIntegration(account=account)
    changed: list[str] = []
    plain = {
        "provider": data.provider,
        "site": normalise_site(data.site) if data.provider == Provider.CONNECTWISE else data.site,
        "company_id": data.company_id.strip(),
        "client_id": data.client_id.strip(),
    }
    for name, value in plain.items():
        if getattr(integration, name) != value:
            setattr(integration, name, value)
            changed.append(name)
    for name in ("public_key", "private_key"):
        value = getattr(data, name).strip()
        if value:
            setattr(integration, f"{name}_encrypted", crypto.encrypt(value))
            changed.append(name)
    integration.updated_at = timezone.now()
    integration.updated_by = actor
    if changed:
        integration.last_test_ok = None
        integration.last_test_message = ""
        integration.last_tested_at = None
    integration.save()
    transaction.on_commit(lambda: cache.delete(connected_key(account.pk)))
    record_event(
        account=account,
        actor=actor,
        type="psa.credentials_updated",
        payload={
            "provider": integration.provider,
            "site": integration.site,
            "changed": sorted(changed),
        },
    )
    return integration


def test_connection(*, account: Account, actor: User) -> ConnectionResult:
    """Call the PSA with the stored credentials (outside any transaction); keep the result."""
    integration = integration_of(account)
    if integration is None:
        result = ConnectionResult(ok=False, message="Save the connection first.")
    else:
        try:
            result = build_provider(integration).test_connection()
        except PSAError as exc:
            result = ConnectionResult(ok=False, message=exc.detail, details={"code": exc.code})
        except crypto.SecretUnreadable as exc:
            result = ConnectionResult(ok=False, message=exc.detail, details={"code": exc.code})
        PSAIntegration.objects.filter(pk=integration.pk).update(
            last_tested_at=timezone.now(),
            last_test_ok=result.ok,
            last_test_message=result.message[:300],
        )
    record_event(
        account=account,
        actor=actor,
        type="psa.connection_tested",
        payload={"ok": result.ok, "code": result.details.get("code", "")},
    )
    return result


def reencrypt_credentials() -> int:
    """Re-encrypt every stored PSA key with the first configured key; returns how many."""
    count = 0
    for pk in PSAIntegration.objects.values_list("pk", flat=True):
        with transaction.atomic():
            row = PSAIntegration.objects.select_for_update().get(pk=pk)
            fields = []
            for name in ("public_key_encrypted", "private_key_encrypted"):
                token = getattr(row, name)
                if token:
                    setattr(row, name, crypto.rotate(token))
                    fields.append(name)
            if fields:
                row.save(update_fields=fields)
                count += len(fields)
    return count
