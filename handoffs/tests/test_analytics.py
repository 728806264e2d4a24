"""Time from pick-up to first action: the analytics API and page."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from handoffs import selectors, services
from handoffs.models import SessionHandoff
from handoffs.tests.support import escalate, make_session
from sessions_app.models import AISession, AISessionStep
from sessions_app.services.steps import create_user_step

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]
URL = "/api/v1/analytics/flowpilot/escalations"


def claimed(user: User, by: User, *, ago: timedelta, action_after: float | None) -> SessionHandoff:
    """A hand-off claimed ``ago`` in the past, with a step ``action_after`` seconds later."""
    session = make_session(user)
    handoff = escalate(user, session=session)
    when = timezone.now() - ago
    SessionHandoff.objects.filter(pk=handoff.pk).update(claimed_by=by, claimed_at=when)
    session.escalated_to = by  # as the claim does
    session.save(update_fields=["escalated_to"])
    # A step from before the claim never counts.
    AISessionStep.objects.create(
        account=user.account,
        session=session,
        role="user",
        content="before",
        created_at=when - timedelta(minutes=5),
    )
    if action_after is not None:
        AISessionStep.objects.create(
            account=user.account,
            session=session,
            role="user",
            content="first action",
            created_at=when + timedelta(seconds=action_after),
        )
    return handoff


class TestAnalytics:
    def test_happy_path(self, engineer: User, teammate: User, api_client_for: ApiFor) -> None:
        for seconds in (10, 20, 30, 40, 100):
            claimed(engineer, teammate, ago=timedelta(hours=2), action_after=seconds)
        body = api_client_for(teammate).get(URL, {"period": "7d"}).json()
        assert body["n_handoffs_claimed"] == 5
        assert body["n_handoffs_with_action"] == 5
        assert body["avg_seconds"] == 40.0
        assert body["median_seconds"] == 30.0
        assert body["p95_seconds"] == 88.0  # percentile_cont: 40 + 0.8 * (100 - 40)
        assert 'not "minutes recovered"' in body["metric_definition"]
        assert body["daily_median_seconds"][0]["median_seconds"] == 30.0

    def test_zero_data(self, teammate: User, api_client_for: ApiFor) -> None:
        body = api_client_for(teammate).get(URL).json()
        assert body["period"] == "7d"
        assert body["n_handoffs_claimed"] == 0 and body["n_handoffs_with_action"] == 0
        assert body["avg_seconds"] is None and body["median_seconds"] is None
        assert body["p95_seconds"] is None and body["daily_median_seconds"] == []

    def test_claimed_without_action_counts_only_as_claimed_unclaimed_excluded(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        claimed(engineer, teammate, ago=timedelta(hours=1), action_after=60)
        claimed(engineer, teammate, ago=timedelta(hours=1), action_after=None)
        escalate(engineer)  # never claimed
        body = api_client_for(teammate).get(URL).json()
        assert body["n_handoffs_claimed"] == 2
        assert body["n_handoffs_with_action"] == 1
        assert body["median_seconds"] == 60.0

    def test_a_step_at_the_claim_instant_counts_as_zero(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        claimed(engineer, teammate, ago=timedelta(hours=1), action_after=0)
        body = api_client_for(teammate).get(URL).json()
        assert body["median_seconds"] == 0.0

    def test_period_window(self, engineer: User, teammate: User, api_client_for: ApiFor) -> None:
        claimed(engineer, teammate, ago=timedelta(days=3), action_after=10)
        claimed(engineer, teammate, ago=timedelta(days=20), action_after=20)
        claimed(engineer, teammate, ago=timedelta(days=60), action_after=30)
        claimed(engineer, teammate, ago=timedelta(days=100), action_after=40)
        client = api_client_for(teammate)
        counts = {
            period: client.get(URL, {"period": period}).json()["n_handoffs_claimed"]
            for period in ("7d", "30d", "90d")
        }
        assert counts == {"7d": 1, "30d": 2, "90d": 3}

    def test_tenant_isolation(
        self, engineer: User, teammate: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        claimed(engineer, teammate, ago=timedelta(hours=1), action_after=10)
        body = api_client_for(stranger).get(URL).json()
        assert body["n_handoffs_claimed"] == 0

    def test_viewer_403_and_bad_period_400(
        self, viewer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        denied = api_client_for(viewer).get(URL)
        assert denied.status_code == 403
        assert denied.json()["detail"] == "Engineer or admin access required"
        bad = api_client_for(teammate).get(URL, {"period": "1y"})
        assert bad.status_code == 400
        assert bad.json()["code"] == "period_invalid"

    def test_portable_percentile_matches_percentile_cont(self) -> None:
        assert selectors._percentile([10, 20, 30, 40, 100], 0.95) == pytest.approx(88.0)
        assert selectors._percentile([5], 0.5) == 5
        assert selectors._percentile([], 0.5) is None

    def test_one_query_with_sql_percentiles_on_postgresql(
        self, engineer: User, teammate: User
    ) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL only")
        for seconds in (10, 20, 30):
            claimed(engineer, teammate, ago=timedelta(days=1), action_after=seconds)
        with CaptureQueriesContext(connection) as captured:
            metrics = selectors.escalation_metrics(teammate, period="7d")
        assert len(captured) == 1
        sql = captured.captured_queries[0]["sql"]
        assert "percentile_cont" in sql and "GROUPING SETS" in sql
        assert "sessions_app_aisessionstep" not in sql  # no per-row scan of the steps
        assert metrics.median_seconds == 20.0
        assert [point["n"] for point in metrics.daily] == [3]

    def test_daily_medians_per_claim_day(self, engineer: User, teammate: User) -> None:
        for seconds in (10, 30):
            claimed(engineer, teammate, ago=timedelta(days=2), action_after=seconds)
        claimed(engineer, teammate, ago=timedelta(days=1), action_after=100)
        claimed(engineer, teammate, ago=timedelta(days=1), action_after=None)
        daily = selectors.escalation_metrics(teammate, period="7d").daily
        assert [(point["median_seconds"], point["n"]) for point in daily] == [(20.0, 2), (100.0, 1)]


class TestFirstAction:
    """``first_action_at`` is stamped when the first step after the pick-up is saved."""

    def test_the_senior_first_message_after_pick_up_is_the_first_action(
        self, engineer: User, teammate: User
    ) -> None:
        handoff = escalate(engineer)
        session = handoff.session
        create_user_step(session=session, user=engineer, text="still broken", now=timezone.now())
        result = services.claim_handoff(
            actor=teammate, session_id=session.pk, handoff_id=handoff.pk
        )
        handoff.refresh_from_db()
        assert handoff.first_action_at is None  # a step from before the pick-up never counts
        session = AISession.objects.get(pk=session.pk)  # the senior's next request loads it
        first = result.claimed_at + timedelta(seconds=42)
        create_user_step(session=session, user=teammate, text="on it", now=first)
        create_user_step(
            session=session, user=teammate, text="later", now=first + timedelta(minutes=3)
        )
        handoff.refresh_from_db()
        assert handoff.first_action_at == first
        metrics = selectors.escalation_metrics(teammate, period="7d")
        assert (metrics.n_handoffs_with_action, metrics.median_seconds) == (1, 42.0)

    def test_a_step_saved_late_with_an_earlier_time_moves_it_back(
        self, engineer: User, teammate: User
    ) -> None:
        handoff = claimed(engineer, teammate, ago=timedelta(minutes=10), action_after=300)
        stored = SessionHandoff.objects.get(pk=handoff.pk)
        assert stored.claimed_at is not None
        earlier = stored.claimed_at + timedelta(seconds=5)
        create_user_step(session=stored.session, user=teammate, text="x", now=earlier)
        stored.refresh_from_db()
        assert stored.first_action_at == earlier

    def test_the_migration_backfills_claimed_handoffs_from_their_steps(
        self, engineer: User, teammate: User
    ) -> None:
        handoff = claimed(engineer, teammate, ago=timedelta(hours=1), action_after=90)
        silent = claimed(engineer, teammate, ago=timedelta(hours=1), action_after=None)
        SessionHandoff.objects.update(first_action_at=None)
        migration = importlib.import_module("handoffs.migrations.0002_first_action_at")
        migration.backfill_first_action(django_apps, None)
        rows = dict(SessionHandoff.objects.values_list("pk", "first_action_at"))
        stored = SessionHandoff.objects.get(pk=handoff.pk)
        assert stored.claimed_at is not None
        assert rows[handoff.pk] == stored.claimed_at + timedelta(seconds=90)
        assert rows[silent.pk] is None


class TestAnalyticsPage:
    def test_page_shows_numbers_chart_and_definition(
        self, engineer: User, teammate: User, client_for: Callable[[User], Client]
    ) -> None:
        claimed(engineer, teammate, ago=timedelta(hours=1), action_after=42)
        page = client_for(teammate).get("/analytics/escalations?period=30d").content.decode()
        assert 'data-testid="stat-median">42 s<' in page
        assert 'data-testid="analytics-chart"' in page
        assert "minutes recovered" in page

    def test_bad_period_falls_back_and_viewer_403(
        self, teammate: User, viewer: User, client_for: Callable[[User], Client]
    ) -> None:
        assert client_for(teammate).get("/analytics/escalations?period=zzz").status_code == 200
        assert client_for(viewer).get("/analytics/escalations").status_code == 403
