"""Per-account preferences: one JSON object of known keys, merged key by key on update."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction

from accounts.models import Account, Role, User
from accounts.services.audit import record_event
from flowpilot import crypto
from flowpilot.errors import DomainError, Forbidden

KNOWN_PREFERENCES: dict[str, tuple[type, ...]] = {
    "templatize_prompt_enabled": (bool,),
    "cw_resolved_status_id": (int, type(None)),
    "cw_escalated_status_id": (int, type(None)),
    "slack_webhook_url": (str, type(None)),
    "teams_webhook_url": (str, type(None)),
}
DEFAULT_PREFERENCES: dict[str, Any] = {
    "templatize_prompt_enabled": True,
    "cw_resolved_status_id": None,
    "cw_escalated_status_id": None,
    "slack_webhook_url": None,
    "teams_webhook_url": None,
}
# Any engineer may answer the "templatize this fix?" prompt with "Don't ask again for this team";
# everything else (PSA statuses, webhooks that receive every escalation) is for owners/admins.
ENGINEER_WRITABLE = frozenset({"templatize_prompt_enabled"})
SECRET_KEYS = frozenset({"slack_webhook_url", "teams_webhook_url"})
ADMIN_REQUIRED = "Account owner or admin access required"
MAX_PREFERENCE_BYTES = 16_384
# C0 controls, DEL and C1 controls: never part of a URL or an id, and NUL cannot be stored.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _manages_account(user: User) -> bool:
    return user.is_super_admin or user.role in (Role.OWNER, Role.ADMIN)


def _masked_url(stored: str) -> str:
    """The host of a stored webhook URL and a mask: enough to recognise it, nothing to reuse."""
    try:
        url = crypto.decrypt(stored) if crypto.is_token(stored) else stored
    except DomainError:
        return "(set)"
    host = urlsplit(url).hostname or ""
    return f"https://{host}/••••" if host else "(set)"


def get_preferences(account: Account, *, viewer: User | None = None) -> dict[str, Any]:
    """The account's preferences with defaults. Webhook URLs are secrets encrypted at rest and
    never shown back: owners and admins see their host behind a mask, others whether one is set."""
    merged = {**DEFAULT_PREFERENCES, **account.preferences}
    manages = viewer is None or _manages_account(viewer)
    for key in SECRET_KEYS:
        stored = merged.get(key)
        if stored:
            merged[key] = _masked_url(stored) if manages else "(set)"
    return merged


def webhook_url(account: Account, key: str) -> str | None:
    """The clear webhook URL for delivery (``slack_webhook_url`` / ``teams_webhook_url``)."""
    if key not in SECRET_KEYS:
        raise ValueError(f"{key} is not a webhook preference")
    stored = account.preferences.get(key)
    if not stored:
        return None
    # A value saved before encryption existed is still clear text until the rotate command runs.
    return crypto.decrypt(stored) if crypto.is_token(stored) else str(stored)


def _encrypt_secrets(changes: dict[str, Any]) -> dict[str, Any]:
    stored = dict(changes)
    for key in SECRET_KEYS & stored.keys():
        if stored[key]:
            stored[key] = crypto.encrypt(stored[key])
        else:
            stored[key] = None
    return stored


def validate_preferences(changes: Any) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise DomainError("Preferences must be a JSON object.", code="invalid")
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        allowed = KNOWN_PREFERENCES.get(key)
        if allowed is None:
            errors[key] = ["Unknown preference."]
        elif isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
            errors[key] = ["Wrong type."]
        elif isinstance(value, str) and _CONTROL_RE.search(value):
            errors[key] = ["Must not contain control characters."]
        elif (
            isinstance(value, str)
            and key in SECRET_KEYS
            and value
            and (not value.startswith("https://") or len(value) > 500)
        ):
            errors[key] = ["Must be an https:// URL of at most 500 characters."]
    if errors:
        raise DomainError("Invalid preferences.", code="invalid", extra=errors)
    return changes


@transaction.atomic
def update_preferences(*, account: Account, actor: User, changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into the account's preferences, keeping keys not sent."""
    validate_preferences(changes)
    if not _manages_account(actor) and set(changes) - ENGINEER_WRITABLE:
        raise Forbidden(ADMIN_REQUIRED)
    stored = _encrypt_secrets(changes)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    merged = {**locked.preferences, **stored}
    if len(json.dumps(merged)) > MAX_PREFERENCE_BYTES:
        raise DomainError("Preferences are too large.", code="invalid")
    locked.preferences = merged
    locked.save(update_fields=["preferences"])
    account.preferences = merged
    record_event(
        account=account,
        actor=actor,
        type="account.preferences_update",
        # Key names only: a webhook URL is a credential and never enters the audit log.
        payload={"keys": sorted(changes)},
    )
    return get_preferences(locked, viewer=actor)


def reencrypt_webhook_secrets() -> int:
    """
    Re-encrypt every account's webhook URLs with the first configured key (clear values saved
    before encryption existed are encrypted now). Returns how many values were rewritten.
    """
    count = 0
    for account in Account.objects.exclude(preferences={}).only("pk", "preferences").iterator():
        with transaction.atomic():
            locked = (
                Account.objects.select_for_update().only("pk", "preferences").get(pk=account.pk)
            )
            changed = False
            for key in SECRET_KEYS:
                stored = locked.preferences.get(key)
                if not stored:
                    continue
                locked.preferences[key] = (
                    crypto.rotate(stored) if crypto.is_token(stored) else crypto.encrypt(stored)
                )
                changed = True
                count += 1
            if changed:
                locked.save(update_fields=["preferences"])
    return count
