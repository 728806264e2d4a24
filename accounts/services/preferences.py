"""Per-account preferences: one JSON object, merged key by key on update."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Account, User
from accounts.services.audit import record_event
from flowpilot.errors import DomainError

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
MAX_PREFERENCE_BYTES = 16_384


def get_preferences(account: Account) -> dict[str, Any]:
    return {**DEFAULT_PREFERENCES, **account.preferences}


def validate_preferences(changes: Any) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise DomainError("Preferences must be a JSON object.", code="invalid")
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        allowed = KNOWN_PREFERENCES.get(key)
        if allowed is None:
            continue
        # bool is an int subclass: a status id of `true` is a mistake, not status 1.
        if isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
            errors[key] = ["Wrong type."]
        elif (
            isinstance(value, str)
            and key.endswith("_webhook_url")
            and value
            and (not value.startswith("https://") or len(value) > 500)
        ):
            errors[key] = ["Must be an https:// URL of at most 500 characters."]
    if len(str(changes)) > MAX_PREFERENCE_BYTES:
        errors["non_field_errors"] = ["Preferences are too large."]
    if errors:
        raise DomainError("Invalid preferences.", code="invalid", extra=errors)
    return changes


@transaction.atomic
def update_preferences(*, account: Account, actor: User, changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into the account's preferences, keeping keys not sent."""
    validate_preferences(changes)
    locked = Account.objects.select_for_update().get(pk=account.pk)
    old = dict(locked.preferences)
    locked.preferences = {**old, **changes}
    locked.save(update_fields=["preferences"])
    account.preferences = locked.preferences
    record_event(
        account=account,
        actor=actor,
        type="account.preferences_update",
        payload={"keys": sorted(changes)},
    )
    return get_preferences(locked)
