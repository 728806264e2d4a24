"""Audit-log labels of the events the apps built on accounts record (registered at start-up)."""

from __future__ import annotations

from typing import Any

from accounts.audit_display import register_event_type


def _session(p: dict[str, Any]) -> str:
    return f"Session #{p['session_id']}" if "session_id" in p else "A session"


def _via(p: dict[str, Any]) -> str:
    return "note posted to the ticket" if p.get("via") == "psa" else "note kept in FlowPilot"


OUTCOMES = {
    "applied_success": "worked",
    "applied_failed": "didn't work",
    "applied_partial": "partly worked",
    "applied_pending": "waiting to verify",
    "dismissed": "dismissed",
}

LABELS: list[tuple[str, str, Any]] = [
    ("session.resolved", "Session resolved", lambda p: f"{_session(p)}, {_via(p)}."),
    ("session.escalated", "Session escalated", lambda p: f"{_session(p)}."),
    ("session.reopened", "Session reopened", lambda p: f"{_session(p)}: {p.get('reason', '')}"),
    ("fix.applied", "Fix applied", lambda p: f"{_session(p)}, fix #{p.get('fix_id')}."),
    (
        "fix.outcome",
        "Fix outcome recorded",
        lambda p: f"{_session(p)}: {OUTCOMES.get(p.get('outcome', ''), p.get('outcome'))}.",
    ),
    (
        "fix.decision",
        "Fix decision",
        lambda p: f"{_session(p)}: {str(p.get('decision', '')).replace('_', ' ')}.",
    ),
    ("fix.draft_submitted", "Draft template submitted", lambda p: f"{_session(p)}."),
    ("psa.credentials_updated", "PSA connection changed", None),
    ("psa.connection_tested", "PSA connection tested", None),
    ("psa.ticket_created", "Ticket created", lambda p: f"Ticket #{p.get('ticket_id')}."),
    ("psa.ticket_assigned", "Ticket assigned", None),
    ("psa.ticket_unassigned", "Ticket unassigned", None),
    ("psa.resolution_posted", "Resolution posted to the ticket", None),
    ("psa.escalation_posted", "Escalation posted to the ticket", None),
    ("script_template.created", "Script template created", lambda p: f"“{p.get('name')}”."),
    ("script_template.updated", "Script template changed", lambda p: f"“{p.get('name')}”."),
    ("script_template.deleted", "Script template deleted", lambda p: f"“{p.get('name')}”."),
]


def register() -> None:
    for type_, label, describe in LABELS:
        register_event_type(type_, label, describe)
