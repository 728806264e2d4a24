"""Starting a troubleshooting session and linking it to a PSA ticket."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from flowpilot.errors import Unprocessable
from sessions_app.models import AISession, AISessionStep

SUMMARY_LIMIT = 120
TICKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def derive_summary(text: str) -> str:
    """The sidebar line: the first non-empty line of the first message, shortened on a word."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"\s+", " ", first)
    if len(first) <= SUMMARY_LIMIT:
        return first or "Untitled session"
    cut = first[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:-") + "…"


def clean_ticket_id(value: str) -> str:
    """A PSA ticket id as typed ("#1234" is fine); empty unlinks. Invalid → 422."""
    ticket = (value or "").strip().lstrip("#").strip()
    if ticket and not TICKET_RE.match(ticket):
        raise Unprocessable(
            "A ticket id is letters, digits and dashes (at most 32).", code="invalid_ticket_id"
        )
    return ticket


@transaction.atomic
def create_session(
    *, user: User, problem: str, psa_ticket_id: str = ""
) -> tuple[AISession, AISessionStep]:
    """
    A new session whose first engineer message is the problem statement; the assistant's reply
    to it is produced by the chat service (streamed on pages, inline in the API).
    """
    from sessions_app.services.chat import clean_message, create_user_step

    content = clean_message(problem)
    now = timezone.now()
    session = AISession.objects.create(
        account_id=user.account_id,
        user=user,
        problem_summary=derive_summary(content),
        psa_ticket_id=clean_ticket_id(psa_ticket_id),
        created_at=now,
        updated_at=now,
    )
    step = create_user_step(session=session, user=user, text=content, now=now)
    return session, step


@transaction.atomic
def link_ticket(*, session: AISession, psa_ticket_id: str) -> AISession:
    """Link (or with "" unlink) a PSA ticket. Previews name the ticket, so the version moves."""
    ticket = clean_ticket_id(psa_ticket_id)
    if ticket == session.psa_ticket_id:
        return session
    AISession.objects.filter(pk=session.pk).update(psa_ticket_id=ticket)
    session.psa_ticket_id = ticket
    session.bump_state_version()
    return session


# --- one round trip for the session row ---------------------------------------------------------
# Django's UPDATE answers a row count only; these use UPDATE ... RETURNING (PostgreSQL, and SQLite
# 3.35+) so the instance learns the stored values without a second query.


def _returning_update(session: AISession, assignments: str, params: list[Any]) -> None:
    table = connection.ops.quote_name(AISession._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} WHERE id = %s "  # noqa: S608 - fixed SQL, bound values
            "RETURNING state_version, updated_at",
            [*params, session.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise AISession.DoesNotExist("The session was deleted meanwhile.")
    session.state_version = row[0]
    session.updated_at = _aware(row[1])


def _aware(value: Any) -> datetime:
    # PostgreSQL answers an aware datetime; SQLite the stored text (naive UTC).
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime):
        raise TypeError(f"Unexpected updated_at value from the database: {value!r}")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def touch_session(*, session: AISession, now: datetime) -> None:
    """
    Move the session's ``updated_at`` to ``now`` (never backwards). The updated row stays locked
    until the transaction ends, so this doubles as the row lock of a chat turn; the instance gets
    the stored ``state_version`` and ``updated_at``.
    """
    value = connection.ops.adapt_datetimefield_value(now)
    _returning_update(
        session,
        "updated_at = CASE WHEN updated_at < %s THEN %s ELSE updated_at END",
        [value, value],
    )


def bump_state_version(*, session: AISession) -> None:
    """``AISession.bump_state_version`` in one round trip: increment in SQL, read it back."""
    value = connection.ops.adapt_datetimefield_value(timezone.now())
    _returning_update(session, "state_version = state_version + 1, updated_at = %s", [value])
