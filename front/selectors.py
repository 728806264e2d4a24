"""Reads of the app shell: the counts its badges show on every signed-in page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Func, IntegerField, QuerySet, Subquery, Value

from accounts.models import User
from handoffs.selectors import unread_notifications
from scripts.selectors import pending_drafts_of


@dataclass(frozen=True)
class ShellCounts:
    unread_notifications: int
    pending_drafts: int


def _count(rows: QuerySet[Any]) -> Subquery:
    # COUNT(*) of the rows as a scalar subquery (a plain function, so no GROUP BY is added).
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def shell_counts(user: User) -> ShellCounts:
    """
    The bell's unread notifications and, for those who review them, the account's draft
    templates awaiting review: both in one query.
    """
    drafts = _count(pending_drafts_of(user.account_id)) if user.can_act else Value(0)
    row = (
        User.objects.filter(pk=user.pk)
        .values(unread=_count(unread_notifications(user)), drafts=drafts)
        .first()
    )
    if row is None:
        return ShellCounts(0, 0)
    return ShellCounts(unread_notifications=row["unread"] or 0, pending_drafts=row["drafts"] or 0)
