"""
Reads of the hand-off flow: the escalation queue (one query per page, whatever the account's
size), the hand-off screen, the bell and the escalation analytics.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from flowpilot.errors import DomainError
from flowpilot.queries import Prepared
from handoffs.models import AppNotification, HandoffIntent, HandoffSeen, SessionHandoff
from sessions_app.models import SessionStatus

QUEUE_PAGE = 25
# The queue page shows a screenful of cards, then "Older escalations" (the same cursor): every
# card is a rendered fragment, so the page's cost follows this number, not the queue's length.
QUEUE_PAGE_CARDS = 12
BELL_LIMIT = 15
# Escalated sessions (and the legacy alias, should an old row carry it) wait in the queue.
ESCALATED_STATUSES = (SessionStatus.ESCALATED, "requesting_escalation")


def _waiting(user: User) -> QuerySet[SessionHandoff]:
    return SessionHandoff.objects.filter(
        account_id=user.account_id,
        intent=HandoffIntent.ESCALATE,
        claimed_by__isnull=True,
        session__status__in=ESCALATED_STATUSES,
    ).exclude(from_user_id=user.pk)


@dataclass(frozen=True)
class QueuePage:
    items: Sequence[SessionHandoff]
    next_cursor: str | None


def encode_cursor(handoff: SessionHandoff) -> str:
    raw = f"{handoff.created_at.isoformat()}|{handoff.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.split("|", 1)
        when = parse_datetime(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        when = None
    if when is None:
        raise DomainError("That page link is not valid.", code="cursor_invalid")
    return when, pk


# What the dashboard's "Waiting for pick-up" shows of each escalation (the queue shows it all).
QUEUE_SUMMARY_COLUMNS = (
    "id",
    "created_at",
    "session__id",
    "session__problem_summary",
    "session__psa_ticket_id",
    "from_user__id",
    "from_user__name",
    "from_user__email",
)


# What a queue card shows of each escalation (handoffs/_card.html): the summary, the reason and
# who it was asked for. The API reads the whole row.
QUEUE_CARD_COLUMNS = (
    *QUEUE_SUMMARY_COLUMNS,
    "reason",
    "target_user__id",
    "target_user__name",
    "target_user__email",
)


def _queue(
    user: User, *, limit: int, columns: tuple[str, ...], after: Q | None = None
) -> QuerySet[SessionHandoff]:
    """One page of the queue: ``limit + 1`` rows (the extra one says another page follows)."""
    summary = bool(columns) and "target_user__id" not in columns
    qs = (
        _waiting(user)
        .select_related("session", "from_user", *(() if summary else ("target_user",)))
        .annotate(
            seen_by_me=Exists(HandoffSeen.objects.filter(handoff=OuterRef("pk"), user_id=user.pk))
        )
        .order_by("-created_at", "-id")
    )
    if columns:
        qs = qs.only(*columns)
    if after is not None:
        qs = qs.filter(after)
    return qs[: limit + 1]


@cache
def _prepared_queue(limit: int, columns: tuple[str, ...]) -> Prepared[SessionHandoff]:
    """The first page of each shape, compiled once (the ORM spends ~3 ms building it)."""
    return Prepared(
        lambda account_id, user_id: _queue(
            User(pk=user_id, account_id=account_id), limit=limit, columns=columns
        ),
        "account_id",
        "user_id",
    )


def escalation_queue(
    user: User,
    *,
    cursor: str | None = None,
    limit: int = QUEUE_PAGE,
    columns: tuple[str, ...] = (),
) -> QueuePage:
    """
    Unclaimed escalations of the account except the user's own, newest first, with unread;
    ``columns`` narrows the row to what a card (``QUEUE_CARD_COLUMNS``) or a summary
    (``QUEUE_SUMMARY_COLUMNS``) shows.
    """
    if cursor:
        when, pk = decode_cursor(cursor)
        after = Q(created_at__lt=when) | Q(created_at=when, id__lt=pk)
        rows = list(_queue(user, limit=limit, columns=columns, after=after))
    else:
        rows = _prepared_queue(limit, columns).rows(account_id=user.account_id, user_id=user.pk)
    more = len(rows) > limit
    items = rows[:limit]
    return QueuePage(items=items, next_cursor=encode_cursor(items[-1]) if more and items else None)


# The queue's heading counts up to this many, then says "99+": the count stays one bounded
# index walk however long the queue grows.
COUNT_CAP = 99


def _capped_waiting(account_id: int, user_id: int) -> QuerySet[SessionHandoff, Any]:
    waiting = _waiting(User(pk=user_id, account_id=account_id))
    return waiting.order_by("-created_at", "-id").values_list("id")[: COUNT_CAP + 1]


_CAPPED_WAITING = Prepared(_capped_waiting, "account_id", "user_id")


def waiting_count(user: User, *, cap: int | None = None) -> int:
    """Escalations waiting for the user; with ``cap``, counting stops just past it."""
    if cap == COUNT_CAP:
        return _CAPPED_WAITING.count(account_id=user.account_id, user_id=user.pk)
    qs = _waiting(user)
    if cap is not None:
        return qs.order_by("-created_at", "-id")[: cap + 1].count()
    return qs.count()


def get_handoff(user: User, handoff_id: Any, *, session_id: int | None = None) -> SessionHandoff:
    """One hand-off of the user's account (foreign or unknown → 404)."""
    lookup: dict[str, Any] = {"pk": handoff_id, "account_id": user.account_id}
    if session_id is not None:
        lookup["session_id"] = session_id
    handoff = (
        SessionHandoff.objects.filter(**lookup)
        .select_related("session", "session__user", "from_user", "target_user", "claimed_by")
        .first()
    )
    if handoff is None:
        raise Http404("Not found.")
    return handoff


def chips_hidden(user: User, handoff: SessionHandoff) -> bool:
    return HandoffSeen.objects.filter(
        handoff=handoff, user_id=user.pk, chips_hidden_at__isnull=False
    ).exists()


def latest_handoff(session_id: int) -> SessionHandoff | None:
    return (
        SessionHandoff.objects.filter(session_id=session_id, intent=HandoffIntent.ESCALATE)
        .select_related("claimed_by")
        .order_by("-created_at")
        .first()
    )


def session_pickup_context(
    request: Any, session: Any, fix: Any, context: dict[str, Any]
) -> dict[str, Any]:
    """
    The session page's escalated banner (a fix card provider, registered in ``apps.py``): who
    picked the escalation up and when, or that it is waiting. The claim's live push swaps the
    same partial in. One query, for escalated sessions only.
    """
    if session.status not in ESCALATED_STATUSES:
        return {}
    handoff = latest_handoff(session.pk)
    return {
        "escalation_pickup_template": "handoffs/_session_pickup.html",
        "session_id": session.pk,
        "pickup_by": handoff.claimed_by if handoff is not None else None,
        "pickup_at": handoff.claimed_at if handoff is not None else None,
    }


def _picked_up_from(account_id: int, user_id: int, limit: int) -> QuerySet[SessionHandoff]:
    return (
        SessionHandoff.objects.filter(
            account_id=account_id,
            from_user_id=user_id,
            intent=HandoffIntent.ESCALATE,
            claimed_at__isnull=False,
        )
        .select_related("session", "claimed_by")
        .only(
            "id",
            "claimed_at",
            "session__id",
            "session__problem_summary",
            "session__psa_ticket_id",
            "session__status",
            "claimed_by__id",
            "claimed_by__name",
            "claimed_by__email",
        )
        .order_by("-claimed_at")[:limit]
    )


PICKED_UP_LIMIT = 5
_PICKED_UP = Prepared(
    lambda account_id, user_id: _picked_up_from(account_id, user_id, PICKED_UP_LIMIT),
    "account_id",
    "user_id",
)


def picked_up_from_me(user: User, *, limit: int = PICKED_UP_LIMIT) -> list[SessionHandoff]:
    """The dashboard's "Picked up from me": the user's escalations a colleague claimed, the
    latest pick-up first (one query through ``handoff_picked_from_idx``, compiled once)."""
    if limit == PICKED_UP_LIMIT:
        return _PICKED_UP.rows(account_id=user.account_id, user_id=user.pk)
    return list(_picked_up_from(user.account_id, user.pk, limit))


# --- the bell ---------------------------------------------------------------------------------


def unread_notifications(user: User) -> QuerySet[AppNotification]:
    """The user's unread notifications (the bell counts them)."""
    return AppNotification.objects.filter(user_id=user.pk, read_at__isnull=True)


def unread_count(user: User) -> int:
    return unread_notifications(user).count()


def _recent_notifications(user_id: int, limit: int) -> QuerySet[AppNotification]:
    return AppNotification.objects.filter(user_id=user_id).order_by("-created_at", "-id")[:limit]


@cache
def _prepared_notifications(limit: int) -> Prepared[AppNotification]:
    return Prepared(lambda user_id: _recent_notifications(user_id, limit), "user_id")


def recent_notifications(user: User, *, limit: int = BELL_LIMIT) -> list[AppNotification]:
    """The user's newest notifications (the bell, the dashboard), one query compiled once."""
    return _prepared_notifications(limit).rows(user_id=user.pk)


# --- analytics --------------------------------------------------------------------------------

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
METRIC_DEFINITION = (
    "Time to first action: for each escalation picked up in the period, the seconds from the "
    "pick-up (claimed_at) to the first session step after it. Escalations picked up without a "
    "step since count in n_handoffs_claimed only; unclaimed escalations are not counted. This "
    'measures how quickly a picked-up escalation gets worked on. It is not "minutes recovered" '
    "and says nothing about time saved."
)


def clean_period(value: Any) -> str:
    period = str(value or "7d")
    if period not in PERIODS:
        raise DomainError("period must be one of 7d, 30d or 90d.", code="period_invalid")
    return period


@dataclass(frozen=True)
class EscalationMetrics:
    period: str
    since: datetime
    n_handoffs_claimed: int
    n_handoffs_with_action: int
    avg_seconds: float | None
    median_seconds: float | None
    p95_seconds: float | None
    daily: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "since": self.since.isoformat(),
            "n_handoffs_claimed": self.n_handoffs_claimed,
            "n_handoffs_with_action": self.n_handoffs_with_action,
            "avg_seconds": self.avg_seconds,
            "median_seconds": self.median_seconds,
            "p95_seconds": self.p95_seconds,
            "daily_median_seconds": self.daily,
            "metric_definition": METRIC_DEFINITION,
        }


def _claims_in_period(user: User, since: datetime) -> QuerySet[SessionHandoff]:
    return SessionHandoff.objects.filter(
        account_id=user.account_id,
        intent=HandoffIntent.ESCALATE,
        claimed_at__isnull=False,
        claimed_at__gte=since,
    )


def _metrics_sql() -> str:
    """
    One pass over the period's claims (``handoff_claimed_action_idx``): the totals and the daily
    medians together (GROUPING SETS), percentiles by ``percentile_cont``. The delta is never
    negative (``first_action_at`` is only set at or after the claim) and NULL without an action,
    which the aggregates skip. ``date_part`` answers a double (``EXTRACT`` a numeric, several
    times slower to aggregate over 100,000 rows).
    """
    table = SessionHandoff._meta.db_table
    return f"""
        WITH d AS (
            SELECT (claimed_at AT TIME ZONE 'UTC')::date AS day,
                   date_part('epoch', first_action_at - claimed_at) AS delta
            FROM {table}
            WHERE account_id = %s AND intent = %s
              AND claimed_at IS NOT NULL AND claimed_at >= %s
        )
        SELECT GROUPING(day), day, COUNT(*), COUNT(delta), AVG(delta),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY delta),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY delta)
        FROM d
        GROUP BY GROUPING SETS ((), (day))
        ORDER BY GROUPING(day) DESC, day
    """  # noqa: S608 - the table name from the model, values bound


def escalation_metrics(user: User, *, period: str) -> EscalationMetrics:
    """
    avg / median / p95 of the time to first action (``first_action_at - claimed_at``, stored on
    the hand-off when the step is saved), aggregated in SQL: one query on PostgreSQL, whatever
    the number of hand-offs; elsewhere the two timestamps are read and reduced here.
    """
    since = timezone.now() - timedelta(days=PERIODS[period])
    daily: list[dict[str, Any]] = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_metrics_sql(), [user.account_id, HandoffIntent.ESCALATE, since])
            rows = cursor.fetchall()
        claimed = with_action = 0
        avg = median = p95 = None
        for total, day, n_claimed, n_action, mean, mid, high in rows:
            if total:
                claimed, with_action, avg, median, p95 = n_claimed, n_action, mean, mid, high
            elif n_action:
                daily.append({"day": str(day), "median_seconds": float(mid), "n": n_action})
    else:
        pairs = list(_claims_in_period(user, since).values_list("claimed_at", "first_action_at"))
        claimed = len(pairs)
        by_day: dict[str, list[float]] = {}
        for claimed_at, first_at in pairs:
            if first_at is not None and claimed_at is not None:
                delta = max(0.0, (first_at - claimed_at).total_seconds())
                by_day.setdefault(claimed_at.astimezone(UTC).date().isoformat(), []).append(delta)
        values = sorted(v for day_values in by_day.values() for v in day_values)
        with_action = len(values)
        avg = sum(values) / len(values) if values else None
        median = _percentile(values, 0.5)
        p95 = _percentile(values, 0.95)
        daily = [
            {"day": day, "median_seconds": _percentile(sorted(v), 0.5), "n": len(v)}
            for day, v in sorted(by_day.items())
        ]
    return EscalationMetrics(
        period=period,
        since=since,
        n_handoffs_claimed=int(claimed or 0),
        n_handoffs_with_action=int(with_action or 0),
        avg_seconds=_round(avg),
        median_seconds=_round(median),
        p95_seconds=_round(p95),
        daily=daily,
    )


def _percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont's linear interpolation, for databases without it."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)
