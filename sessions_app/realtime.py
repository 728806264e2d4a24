"""
Live pushes of a session's status, published after the writing transaction commits.

They go to the user groups of the people on the session (its engineer, whoever picked it up,
and the person who changed it): every app page of theirs holds that socket (the bell's), so
their other tabs see the change without a reload. The ``html`` part holds out-of-band swaps
aimed at ids that name the session (``session-<id>-…``), so a tab showing another session is
untouched; JSON clients get ``session_id`` and ``status``.
"""

from __future__ import annotations

from django.db import transaction
from django.template.loader import render_to_string

from accounts.models import User
from flowpilot.realtime import publish, user_group
from sessions_app.models import AISession

SESSION_STATUS = "session_status"


def publish_status_on_commit(session: AISession, *, actor: User, note: str = "") -> None:
    recipients = {session.user_id, actor.pk}
    if session.escalated_to_id:
        recipients.add(session.escalated_to_id)
    session_id, status = session.pk, session.status

    def send() -> None:
        html = render_to_string(
            "sessions_app/_status_push.html", {"session": session, "actor": actor, "note": note}
        )
        payload = {"session_id": session_id, "status": status, "html": html}
        for user_id in sorted(recipients):
            publish(user_group(user_id), SESSION_STATUS, payload)

    transaction.on_commit(send)
