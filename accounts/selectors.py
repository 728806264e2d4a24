"""Read-side helpers for the accounts app."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.devices import describe_user_agent
from accounts.models import Account, AuditEvent, LoginSession, RefreshToken, User
from accounts.services.tokens import family_of
from accounts.tenancy import scoped
from flowpilot.queries import Prepared


@dataclass(frozen=True)
class SettingsRow:
    """An entry of the settings list; ``audience``: "owner", "managers", "staff" or "all"."""

    key: str
    label: str
    help: str
    url_name: str
    audience: str


SETTINGS_ROWS = [
    SettingsRow(
        "people",
        "People",
        "Invite teammates, change roles, deactivate someone who left.",
        "account-people",
        "managers",
    ),
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
        "status",
        "System status",
        "Database, Redis and background worker health.",
        "system-status",
        "owner",
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
        if row.audience == "managers" and not user.can_manage_people:
            continue
        try:
            url = reverse(row.url_name)
        except NoReverseMatch:
            continue
        rows.append({"key": row.key, "label": row.label, "help": row.help, "url": url})
    return rows


def account_members(account: Account) -> QuerySet[User]:
    """Everyone in the account, by name (filter menus)."""
    return scoped(User, account).order_by("name", "email").only("pk", "name", "email")


# Active people first, then by name (unique to the id, so the API pages them by key).
PEOPLE_ORDER = ("-is_active", "name", "email", "id")


def people_rows(viewer: User) -> QuerySet[User]:
    """Everyone in the viewer's account, in the People order."""
    return scoped(User, viewer.account).order_by(*PEOPLE_ORDER)


def account_people(viewer: User) -> list[dict[str, Any]]:
    """
    Everyone in the viewer's account with a status and what the viewer may change about them
    (admins never change owners; nobody deactivates themselves). One query.
    """
    rows = people_rows(viewer)
    result = []
    for person in rows:
        if not person.is_active:
            status, tone = "Deactivated", "neutral"
        elif person.invitation_pending:
            status, tone = "Invitation pending", "amber"
        else:
            status, tone = "Active", "emerald"
        editable = viewer.is_owner or person.role != "owner"
        result.append(
            {
                "user": person,
                "status": status,
                "tone": tone,
                "pending": person.is_active and person.invitation_pending,
                "editable": editable,
                "can_deactivate": editable and person.pk != viewer.pk,
                "is_you": person.pk == viewer.pk,
            }
        )
    return result


# A screenful: older events load 25 at a time (the page budget is 20 ms).
AUDIT_PAGE_SIZE = 25


@dataclass(frozen=True)
class AuditFilters:
    type: str = ""
    actor_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def encode_audit_cursor(event: AuditEvent) -> str:
    raw = f"{event.created_at.isoformat()}|{event.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_audit_cursor(value: str) -> tuple[datetime, int] | None:
    """``(created_at, id)`` of the last event shown, or None for a cursor that is not ours."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        moment, pk = raw.split("|")
        parsed = datetime.fromisoformat(moment)
        number = int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None
    if parsed.tzinfo is None or not 0 < number < 2**63:
        return None
    return parsed, number


def audit_events(account: Account, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The account's events under the filters, newest first (index on account, time, id)."""
    qs = scoped(AuditEvent, account).select_related("actor")
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.actor_id is not None:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.date_from is not None:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        qs = qs.filter(created_at__gte=start)
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        qs = qs.filter(created_at__lt=end)
    return qs.order_by("-created_at", "-id")


def audit_page(
    account: Account, filters: AuditFilters, *, cursor: str = "", limit: int = AUDIT_PAGE_SIZE
) -> tuple[list[AuditEvent], str]:
    """
    One page of events after the cursor (keyset pagination: the same cost on page 1 and page
    2,000) and the cursor of the next page ("" on the last). One query.
    """
    qs = audit_events(account, filters)
    position = decode_audit_cursor(cursor) if cursor else None
    if position is not None:
        moment, pk = position
        qs = qs.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_audit_cursor(rows[-1]) if more and rows else ""


def current_device_id(request: Any) -> int | None:
    """The caller's own sign-in: the page login behind the cookie, or the API token's family."""
    login_session = getattr(request, "login_session", None)
    if isinstance(login_session, LoginSession):
        return login_session.pk
    auth = getattr(request, "auth", None)
    if auth is not None and hasattr(auth, "get"):
        return family_of(auth)
    return None


def active_devices(
    account: Account,
    *,
    current_id: int | None = None,
    user: User | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """
    Every live sign-in of the account (or of one person): web logins and API token families,
    person by person, most recently seen first. One query whatever the number of devices.
    """
    now = now or timezone.now()
    rows = LoginSession.objects.live(now).filter(account=account, user__is_active=True)
    if user is not None:
        rows = rows.filter(user=user)
    rows = rows.select_related("user").order_by("user__name", "user__email", "-last_activity_at")
    return [
        {
            "id": row.pk,
            "user": {"id": row.user_id, "name": row.user.display_name, "email": row.user.email},
            "kind": row.channel,
            "device": describe_user_agent(row.user_agent),
            "ip_address": row.ip_address,
            "signed_in_at": row.auth_time,
            "last_seen_at": row.last_activity_at,
            "this_device": row.pk == current_id,
        }
        for row in rows
    ]


def devices_by_person(devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group a device list under each person, in the order it came."""
    people: dict[int, dict[str, Any]] = {}
    for device in devices:
        person = people.setdefault(device["user"]["id"], {**device["user"], "devices": []})
        person["devices"].append(device)
    return list(people.values())


SECURITY_ALERT_TYPES = ("auth.refresh_reuse",)


def security_alerts(account: Account, *, limit: int = 10) -> list[AuditEvent]:
    """The newest reuse alarms of the account (index on account, type, created_at)."""
    qs = scoped(AuditEvent, account).filter(type__in=SECURITY_ALERT_TYPES)
    return list(qs.select_related("actor").order_by("-created_at", "-id")[:limit])


def active_users(account: Account, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """
    Users of the account with at least one live (un-revoked, unexpired) web session or refresh
    token, newest login first. One query whatever the number of users.
    """
    now = now or timezone.now()
    live_web = LoginSession.objects.live(now).filter(user=OuterRef("pk"))
    live_api = RefreshToken.objects.filter(
        user=OuterRef("pk"), revoked_at__isnull=True, expires_at__gt=now
    )
    users = (
        User.objects.filter(account=account, is_active=True)
        .filter(Q(Exists(live_web)) | Q(Exists(live_api)))
        .order_by(F("last_login").desc(nulls_last=True), "pk")
        .values("pk", "name", "email", "last_login")
    )
    return [
        {
            "user_id": row["pk"],
            "name": row["name"] or row["email"].split("@")[0],
            "email": row["email"],
            "last_login_at": row["last_login"],
        }
        for row in users
    ]


# Compiled once: the middleware reads it on every signed-in page request.
_WEB_SESSION = Prepared(
    lambda login_session_id: LoginSession.objects.select_related("user__account").filter(
        pk=login_session_id
    ),
    "login_session_id",
)


def load_web_session(
    login_session_id: Any, *, read: LoginSession | None = None
) -> LoginSession | None:
    """
    The session row with its user and account, in one query; none when ``read`` is that row
    (the session store reads the sign-in row with the session's data, same statement).
    """
    if type(login_session_id) is not int:
        return None
    if read is not None and read.pk == login_session_id:
        return read
    found = _WEB_SESSION.rows(login_session_id=login_session_id)
    return found[0] if found else None
