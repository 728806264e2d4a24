"""Time from pick-up to first action: the analytics API and page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from handoffs import selectors
from handoffs.models import SessionHandoff
from handoffs.tests.support import escalate, make_session
from sessions_app.models import AISessionStep

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]
URL = "/api/v1/analytics/flowpilot/escalations"


def claimed(user: User, by: User, *, ago: timedelta, action_after: float | None) -> SessionHandoff:
    """A hand-off claimed ``ago`` in the past, with a step ``action_after`` seconds later."""
    session = make_session(user)
    handoff = escalate(user, session=session)
    when = timezone.now() - ago
    SessionHandoff.objects.filter(pk=handoff.pk).update(claimed_by=by, claimed_at=when)
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

    def test_uses_sql_percentiles_on_postgresql(self) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("PostgreSQL only")
        base, _ = selectors._deltas_sql()
        assert "GREATEST" in base


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
