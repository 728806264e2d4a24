"""``Prepared``: a queryset compiled once answers what the queryset itself answers, in one query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from accounts.models import User
from flowpilot.queries import Prepared
from handoffs.models import HandoffSeen, SessionHandoff
from handoffs.tests.support import escalate

pytestmark = pytest.mark.django_db


def waiting(account_id: int, user_id: int) -> QuerySet[SessionHandoff]:
    return (
        SessionHandoff.objects.filter(account_id=account_id, claimed_by__isnull=True)
        .exclude(from_user_id=user_id)
        .select_related("session", "from_user")
        .only("id", "created_at", "session__id", "session__problem_summary", "from_user__name")
        .annotate(seen_by=Exists(HandoffSeen.objects.filter(handoff=OuterRef("pk"), user=user_id)))
        .order_by("-created_at", "-id")[:3]
    )


WAITING = Prepared(waiting, "account_id", "user_id")


def shown(rows: list[SessionHandoff]) -> list[tuple[Any, ...]]:
    return [
        (
            row.pk,
            row.created_at,
            row.session.problem_summary,
            row.from_user.name,
            getattr(row, "seen_by", None),
        )
        for row in rows
    ]


class TestPrepared:
    def test_rows_are_the_querysets_rows_for_every_binding(
        self, engineer: User, teammate: User, stranger: User, django_assert_num_queries: Any
    ) -> None:
        for n in range(4):
            escalate(engineer, reason=f"engineer {n}")
        seen = escalate(teammate, reason="teammate's")
        HandoffSeen.objects.create(account=engineer.account, handoff=seen, user=engineer)
        escalate(stranger)
        for user in (engineer, teammate, stranger):
            expected = shown(list(waiting(user.account_id, user.pk)))
            with django_assert_num_queries(1):
                rows = WAITING.rows(account_id=user.account_id, user_id=user.pk)
            assert shown(rows) == expected
        (only,) = WAITING.rows(account_id=engineer.account_id, user_id=engineer.pk)
        assert (only.pk, getattr(only, "seen_by", None)) == (seen.pk, True)
        assert len(WAITING.rows(account_id=teammate.account_id, user_id=teammate.pk)) == 3

    def test_deferred_columns_stay_deferred(self, engineer: User, teammate: User) -> None:
        escalate(engineer, reason="why")
        (row,) = WAITING.rows(account_id=teammate.account_id, user_id=teammate.pk)
        assert row.get_deferred_fields() >= {"reason", "snapshot", "package_markdown"}
        assert row.reason == "why"  # read on access, as the queryset's row would

    def test_count_and_tuples(self, engineer: User, teammate: User) -> None:
        for _ in range(5):
            escalate(engineer)
        ids = Prepared(
            lambda account_id, user_id: waiting(account_id, user_id).values_list("id"),
            "account_id",
            "user_id",
        )
        values = ids.tuples(account_id=teammate.account_id, user_id=teammate.pk)
        assert values == list(waiting(teammate.account_id, teammate.pk).values_list("id"))
        assert ids.count(account_id=teammate.account_id, user_id=teammate.pk) == 3
        assert ids.count(account_id=teammate.account_id, user_id=engineer.pk) == 0

    def test_a_builder_must_bind_every_name(self, engineer: User) -> None:
        unbound = Prepared(
            lambda account_id, user_id: SessionHandoff.objects.filter(account_id=account_id),
            "account_id",
            "user_id",
        )
        with pytest.raises(ValueError, match="user_id"):
            unbound.rows(account_id=engineer.account_id, user_id=engineer.pk)
        with pytest.raises(TypeError):
            WAITING.rows(account_id=engineer.account_id)

    def test_a_time_in_the_sql_is_refused(self, engineer: User) -> None:
        since = Prepared(
            lambda account_id: SessionHandoff.objects.filter(
                account_id=account_id, created_at__gte=timezone.now() - timedelta(days=1)
            ),
            "account_id",
        )
        with pytest.raises(ValueError, match="freeze the times"):
            since.rows(account_id=engineer.account_id)

    def test_an_id_outside_64_bits_matches_nothing_without_a_query(
        self, engineer: User, teammate: User, django_assert_num_queries: Any
    ) -> None:
        escalate(engineer)
        with django_assert_num_queries(0):
            assert WAITING.rows(account_id=teammate.account_id, user_id=2**63) == []
            assert WAITING.count(account_id=-(2**63) - 1, user_id=teammate.pk) == 0
        with pytest.raises(TypeError):
            WAITING.rows(account_id=str(teammate.account_id), user_id=teammate.pk)  # type: ignore[arg-type]
