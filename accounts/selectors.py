"""Read-side helpers for the accounts app."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

from accounts.models import AuditEvent, User
from accounts.tenancy import scoped

# (key, label, help, url name, who sees it)
SETTINGS_ROWS = [
    (
        "security",
        "Session security",
        "How long logins last; sign everyone out.",
        "account-security",
        "owner",
    ),
    (
        "psa",
        "PSA integration",
        "ConnectWise Manage connection and write-back.",
        "psa-settings",
        "owner",
    ),
    ("audit", "Audit log", "Sign-ins, policy changes and sign-outs.", "account-audit", "owner"),
    (
        "status",
        "System status",
        "Database, Redis and background worker health.",
        "system-status",
        "owner",
    ),
    (
        "admin",
        "Administration",
        "Users, audit log and data of this account.",
        "admin:index",
        "staff",
    ),
]


def settings_rows(user: User) -> list[dict[str, Any]]:
    rows = []
    for key, label, help_text, url_name, audience in SETTINGS_ROWS:
        if audience == "owner" and not user.is_owner:
            continue
        if audience == "staff" and not user.is_staff:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        rows.append({"key": key, "label": label, "help": help_text, "url": url})
    return rows


AUDIT_PAGE_SIZE = 50


def recent_audit_events(user: User, *, limit: int = AUDIT_PAGE_SIZE) -> list[AuditEvent]:
    """The account's newest audit events, actor joined: one query whatever the table size."""
    qs = scoped(AuditEvent, user.account).select_related("actor")
    return list(qs.order_by("-created_at", "-id")[:limit])
