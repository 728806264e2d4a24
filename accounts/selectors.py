"""Read-side helpers for the accounts app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from accounts.models import AuditEvent, User
from accounts.tenancy import scoped


@dataclass(frozen=True)
class SettingsRow:
    """One entry of the account settings list. ``audience``: "owner", "staff" or "all"."""

    key: str
    label: str
    help: str
    url_name: str
    audience: str


SETTINGS_ROWS = [
    SettingsRow(
        "security",
        "Session security",
        "How long logins last; sign everyone out.",
        "account-security",
        "owner",
    ),
    SettingsRow(
        "audit", "Audit log", "Sign-ins, policy changes and sign-outs.", "account-audit", "owner"
    ),
    SettingsRow(
        "admin",
        "Administration",
        "Users, audit log and data of this account.",
        "admin:index",
        "staff",
    ),
]


def register_settings_row(row: SettingsRow, *, after: str = "") -> None:
    """
    Let an app that builds on accounts add its own settings page to the list (from its
    ``AppConfig.ready``), placed after the row keyed ``after`` or else last. Idempotent.
    """
    if any(existing.key == row.key for existing in SETTINGS_ROWS):
        return
    keys = [existing.key for existing in SETTINGS_ROWS]
    position = keys.index(after) + 1 if after in keys else len(SETTINGS_ROWS)
    SETTINGS_ROWS.insert(position, row)


def settings_rows(user: User) -> list[dict[str, Any]]:
    rows = []
    for row in SETTINGS_ROWS:
        if row.audience == "owner" and not user.is_owner:
            continue
        if row.audience == "staff" and not user.is_staff:
            continue
        try:
            url = reverse(row.url_name)
        except NoReverseMatch:
            continue
        rows.append({"key": row.key, "label": row.label, "help": row.help, "url": url})
    return rows


AUDIT_PAGE_SIZE = 50


def recent_audit_events(user: User, *, limit: int = AUDIT_PAGE_SIZE) -> list[AuditEvent]:
    """The account's newest audit events, actor joined: one query whatever the table size."""
    qs = scoped(AuditEvent, user.account).select_related("actor")
    return list(qs.order_by("-created_at", "-id")[:limit])
