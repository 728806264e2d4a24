"""
How audit events read to a person: a label per event type ("Session policy changed") and the
payload as a sentence, or as a before/after table when the event changed settings. Apps built
on accounts register the labels (and, if they like, describers) of their own events with
``register_event_type`` from their ``AppConfig.ready``; an unknown type still reads as words.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from accounts.templatetags.security_tags import minutes_human

Describer = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Change:
    """One row of a before/after table."""

    field: str
    before: str
    after: str


@dataclass
class EventDisplay:
    label: str
    sentence: str
    changes: list[Change] = field(default_factory=list)


@dataclass(frozen=True)
class EventType:
    label: str
    describe: Describer | None = None
    changes: Callable[[dict[str, Any]], list[Change]] | None = None


EVENT_TYPES: dict[str, EventType] = {}


def register_event_type(
    type_: str,
    label: str,
    describe: Describer | None = None,
    changes: Callable[[dict[str, Any]], list[Change]] | None = None,
) -> None:
    EVENT_TYPES[type_] = EventType(label=label, describe=describe, changes=changes)


def _humanize(type_: str) -> str:
    words = type_.replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{_humanize(str(k)).lower()} {_value(v)}" for k, v in value.items())
    return str(value)


def _generic_sentence(payload: dict[str, Any]) -> str:
    parts = [
        f"{_humanize(str(key))}: {_value(value)}"
        for key, value in payload.items()
        if key not in ("old", "new")
    ]
    return " · ".join(parts)


def _generic_changes(payload: dict[str, Any]) -> list[Change]:
    old, new = payload.get("old"), payload.get("new")
    if isinstance(old, dict) and isinstance(new, dict):
        keys = list(dict.fromkeys([*old, *new]))
        return [
            Change(_humanize(k), _value(old.get(k)), _value(new.get(k)))
            for k in keys
            if old.get(k) != new.get(k)
        ]
    if "old" in payload or "new" in payload:
        return [Change("Value", _value(old), _value(new))]
    return []


def display_event(type_: str, payload: Any) -> EventDisplay:
    """The label, the sentence and the before/after rows of one event (never raises)."""
    payload = payload if isinstance(payload, dict) else {"value": payload}
    known = EVENT_TYPES.get(type_)
    label = known.label if known else _humanize(type_)
    try:
        sentence = (
            known.describe(payload) if known and known.describe else _generic_sentence(payload)
        )
        changes = known.changes(payload) if known and known.changes else _generic_changes(payload)
    except (KeyError, TypeError, ValueError, AttributeError):
        sentence, changes = _generic_sentence(payload), _generic_changes(payload)
    return EventDisplay(label=label, sentence=sentence, changes=changes)


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_HEADER = ["time_utc", "event", "type", "person", "email", "ip_address", "details"]


def _csv_safe(value: str) -> str:
    """Cells a spreadsheet would run as a formula start with a quote instead."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def audit_csv_lines(events: Iterable[Any]) -> Iterator[str]:
    """The CSV export, one line at a time (for a streaming response)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for event in events:
        shown = display_event(event.type, event.payload)
        details = shown.sentence
        if shown.changes:
            changed = "; ".join(f"{c.field}: {c.before} → {c.after}" for c in shown.changes)
            details = f"{details} {changed}".strip()
        actor = event.actor
        yield writer.writerow(
            [
                event.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                shown.label,
                event.type,
                _csv_safe(actor.display_name) if actor else "",
                _csv_safe(actor.email) if actor else "",
                event.ip_address or "",
                _csv_safe(details),
            ]
        )


# ---- The accounts app's own events -----------------------------------------------------------


def _minutes(value: Any) -> str:
    return minutes_human(value) if isinstance(value, int) else "default"


def _policy_changes(payload: dict[str, Any]) -> list[Change]:
    old, new = payload.get("effective_old") or {}, payload.get("effective_new") or {}
    rows = []
    for key, name in (("idle_minutes", "Idle timeout"), ("absolute_minutes", "Absolute limit")):
        if old.get(key) != new.get(key):
            rows.append(Change(name, _minutes(old.get(key)), _minutes(new.get(key))))
    return rows


def _plural(count: Any, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _who(payload: dict[str, Any]) -> str:
    return str(payload.get("user") or payload.get("name") or payload.get("email") or "someone")


ROLE_NAMES = {"owner": "owner", "admin": "admin", "engineer": "engineer", "viewer": "viewer"}


for _type, _label, _describe, _changes in [
    ("auth.login", "Signed in", lambda p: f"With a {p.get('method', 'password')}.", None),
    (
        "auth.logout",
        "Signed out",
        lambda p: "From the API." if p.get("method") == "api" else "",
        None,
    ),
    (
        "auth.login_failed",
        "Sign-in failed",
        lambda p: f"Wrong password for {p.get('email', 'an address')}.",
        None,
    ),
    (
        "auth.session_expired",
        "Session expired",
        lambda p: (
            f"{'Idle timeout' if p.get('kind') == 'idle' else 'Absolute limit'} reached"
            f" ({'API' if p.get('channel') == 'api' else 'web'})."
        ),
        None,
    ),
    (
        "auth.refresh_reuse",
        "Refresh token reused",
        lambda p: (
            "A spent API token was presented again; that sign-in and all its tokens were "
            "signed out."
        ),
        None,
    ),
    (
        "auth.device_signed_out",
        "Device signed out",
        lambda p: f"{_who(p)} on {p.get('device', 'a device')} ({p.get('channel', 'web')}).",
        None,
    ),
    (
        "account.session_policy_update",
        "Session policy changed",
        lambda p: "Applies at next login.",
        _policy_changes,
    ),
    (
        "account.sessions_revoked_bulk",
        "Everyone signed out",
        lambda p: (
            f"{_plural(p.get('revoked_count', 0), 'session')} ended"
            f"{', except the owner’s own' if p.get('scope') == 'others' else ''}."
        ),
        None,
    ),
    (
        "account.preferences_update",
        "Preferences changed",
        lambda p: f"Changed: {', '.join(_humanize(k).lower() for k in p.get('keys', []))}.",
        None,
    ),
    (
        "user.invited",
        "Person invited",
        lambda p: f"{p.get('email')} as {ROLE_NAMES.get(p.get('role', ''), p.get('role'))}.",
        None,
    ),
    ("user.invitation_resent", "Invitation sent again", lambda p: f"To {p.get('email')}.", None),
    (
        "user.invitation_accepted",
        "Invitation accepted",
        lambda p: f"{_who(p)} set a password.",
        None,
    ),
    (
        "user.role_changed",
        "Role changed",
        lambda p: f"{_who(p)}: {p.get('old')} → {p.get('new')}.",
        lambda p: [Change("Role", str(p.get("old")), str(p.get("new")))],
    ),
    ("user.renamed", "Person renamed", lambda p: f"{p.get('old')} → {p.get('new')}.", None),
    (
        "user.deactivated",
        "Person deactivated",
        lambda p: f"{_who(p)} was signed out everywhere.",
        None,
    ),
    ("user.reactivated", "Person reactivated", lambda p: f"{_who(p)} can sign in again.", None),
    (
        "user.password_changed",
        "Password changed",
        lambda p: f"{_plural(p.get('signed_out', 0), 'other device')} signed out.",
        None,
    ),
    ("user.password_reset", "Password reset by e-mail", lambda p: "Every device signed out.", None),
]:
    register_event_type(_type, _label, _describe, _changes)
