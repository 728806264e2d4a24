"""The dashboard: panels from the apps below it, in the app shell, each also served alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from handoffs import services as handoff_services
from handoffs.models import AppNotification, NotificationKind
from handoffs.tests.support import escalate
from sessions_app.models import AISession, FixStatus, SessionStatus
from sessions_app.services import fixes, sessions


def _session(user: User, problem: str, **extra: Any) -> AISession:
    return AISession.objects.create(
        account=user.account, user=user, problem_summary=problem, **extra
    )


def _fix(session: AISession) -> Any:
    return fixes.propose_fix(
        session=session,
        step=None,
        title="Restart the print spooler",
        description="Clears stuck jobs.",
        confidence=80,
        script="Restart-Service -Name Spooler -Force",
        parameters=[],
    )


def _notify(user: User, count: int) -> None:
    AppNotification.objects.bulk_create(
        AppNotification(
            account=user.account,
            user=user,
            kind=NotificationKind.HANDOFF_CLAIMED,
            title=f"Notification {index}",
            link="/",
        )
        for index in range(count)
    )


class TestDashboard:
    def test_it_lists_open_sessions_and_the_new_session_button(
        self, engineer: User, client_for: Any
    ) -> None:
        """The open-sessions panel shows the engineer's session and links a new one."""
        sessions.create_session(user=engineer, problem="Teams audio drops")
        html = client_for(engineer).get("/").content.decode()
        assert "My open sessions" in html and "Teams audio drops" in html
        assert 'href="/sessions/new"' in html

    def test_it_shows_no_new_session_button_to_a_viewer(
        self, viewer: User, engineer: User, client_for: Any
    ) -> None:
        """Viewers read, never act: no New session button, the account's recent sessions."""
        sessions.create_session(user=engineer, problem="Teams audio drops")
        html = client_for(viewer).get("/").content.decode()
        assert 'href="/sessions/new"' not in html
        assert 'data-testid="recent-sessions"' in html and "Teams audio drops" in html
        assert 'data-testid="waiting-escalations"' not in html
        assert 'data-testid="my-escalations"' not in html

    def test_it_does_not_show_another_accounts_sessions(
        self, engineer: User, stranger: User, client_for: Any
    ) -> None:
        """A stranger's session never appears on this account's dashboard."""
        sessions.create_session(user=stranger, problem="Contoso only printer")
        assert "Contoso only printer" not in client_for(engineer).get("/").content.decode()

    def test_the_panel_header_link_uses_a_class_not_an_inline_style(
        self, engineer: User, client_for: Any
    ) -> None:
        """The open-sessions header link is placed by a stylesheet class."""
        html = client_for(engineer).get("/").content.decode()
        assert 'data-testid="open-sessions"' in html
        assert 'style="margin-left:auto"' not in html
        assert 'class="small card-head-link"' in html

    def test_anonymous_visitor_is_sent_to_login(self, client: Any) -> None:
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login")


class TestOpenSessionsPanel:
    def test_each_session_says_where_it_stands(self, engineer: User, client_for: Any) -> None:
        """Waiting to verify (with the reason), fix proposed, escalated, parked, idle > 1 day;
        resolved sessions are not open."""
        verify = _session(engineer, "VPN drops hourly")
        fix = _fix(verify)
        fixes.record_outcome(
            session=verify,
            fix=fix,
            outcome=FixStatus.APPLIED_PENDING,
            actor=engineer,
            reason="User is on the road until Friday",
        )
        _fix(_session(engineer, "Printer queue stuck"))
        escalate(engineer, session=_session(engineer, "Exchange mailbox full"))
        _session(engineer, "Laptop is parked", status=SessionStatus.PARKED)
        _session(engineer, "Old idle one", updated_at=timezone.now() - timedelta(days=3))
        _session(engineer, "Done already", status=SessionStatus.RESOLVED)

        html = client_for(engineer).get("/").content.decode()
        panel = html[html.index('data-testid="open-sessions"') :]
        panel = panel[: panel.index("</section>")]
        assert "Waiting to verify" in panel and "User is on the road until Friday" in panel
        assert "Fix proposed" in panel
        assert "Escalated" in panel and "Waiting for a senior to pick it up" in panel
        assert "Parked" in panel
        assert "Idle 3 days" in panel
        assert "Done already" not in panel

    def test_sessions_picked_up_by_me_are_mine_too(
        self, engineer: User, teammate: User, client_for: Any
    ) -> None:
        handoff = escalate(engineer)
        handoff_services.claim_handoff(
            actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk
        )
        html = client_for(teammate).get("/").content.decode()
        panel = html[html.index('data-testid="open-sessions"') :]
        assert "Outlook is failing to sync email" in panel[: panel.index("</section>")]


class TestPickedUpAndNotifications:
    def test_the_escalator_sees_who_picked_it_up(
        self, engineer: User, teammate: User, client_for: Any
    ) -> None:
        handoff = escalate(engineer)
        client = client_for(engineer)
        assert "Nothing picked up yet" in client.get("/").content.decode()
        handoff_services.claim_handoff(
            actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk
        )
        html = client.get("/").content.decode()
        assert "Picked up by Sam Patel" in html

    def test_my_notifications_are_listed_newest_first(
        self, engineer: User, teammate: User, client_for: Any
    ) -> None:
        _notify(engineer, 7)
        _notify(teammate, 1)
        html = client_for(engineer).get("/").content.decode()
        panel = html[html.index('data-testid="dashboard-notifications"') :]
        panel = panel[: panel.index("</section>")]
        assert panel.count('data-testid="bell-item"') == 5
        assert "You're all caught up" not in panel


class TestPanelFragments:
    @pytest.mark.parametrize("key", ["sessions", "waiting", "picked-up", "notifications"])
    def test_each_panel_renders_alone(self, key: str, engineer: User, client_for: Any) -> None:
        """The live refresh target: the panel's section only, not the page."""
        response = client_for(engineer).get(f"/dashboard/panels/{key}")
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith("<section") and f'id="panel-{key}"' in html
        assert "<html" not in html

    def test_a_viewer_does_not_get_the_seniors_panels(self, viewer: User, client_for: Any) -> None:
        client = client_for(viewer)
        assert client.get("/dashboard/panels/waiting").status_code == 404
        assert client.get("/dashboard/panels/picked-up").status_code == 404
        assert client.get("/dashboard/panels/nope").status_code == 404

    def test_anonymous_is_sent_to_login(self, client: Any) -> None:
        response = client.get("/dashboard/panels/sessions")
        assert response.status_code == 302


class TestQueryCounts:
    """Every panel reads a bounded page: the count is pinned and does not grow with the data."""

    def _fill(self, engineer: User, teammate: User, count: int) -> None:
        for index in range(count):
            session = _session(engineer, f"Problem {index}")
            if index % 3 == 0:
                _fix(session)
        for _ in range(count // 4 + 1):
            handoff = escalate(teammate)
            handoff_services.claim_handoff(
                actor=engineer, session_id=handoff.session_id, handoff_id=handoff.pk
            )
        escalate(teammate)
        mine = escalate(engineer)
        handoff_services.claim_handoff(
            actor=teammate, session_id=mine.session_id, handoff_id=mine.pk
        )
        _notify(engineer, count)

    @pytest.mark.parametrize("count", [2, 20])
    def test_the_dashboard_costs_the_same_with_more_data(
        self,
        count: int,
        engineer: User,
        teammate: User,
        client_for: Any,
        django_assert_num_queries: Any,
    ) -> None:
        client = client_for(engineer)
        self._fill(engineer, teammate, count)
        client.get("/")  # the sign-in's activity stamp is written once, not per sample
        with django_assert_num_queries(6):
            response = client.get("/")
        assert response.status_code == 200
        html = response.content.decode()
        for testid in ("open-sessions", "waiting-escalations", "my-escalations"):
            assert f'data-testid="{testid}"' in html
        assert 'data-testid="dashboard-notifications"' in html and 'id="bell"' in html

    @pytest.mark.parametrize(
        ("key", "queries"),
        [("sessions", 2), ("waiting", 2), ("picked-up", 2), ("notifications", 2)],
    )
    def test_each_panel_alone_is_pinned(
        self,
        key: str,
        queries: int,
        engineer: User,
        teammate: User,
        client_for: Any,
        django_assert_num_queries: Any,
    ) -> None:
        client = client_for(engineer)
        self._fill(engineer, teammate, 6)
        client.get(f"/dashboard/panels/{key}")
        with django_assert_num_queries(queries):
            assert client.get(f"/dashboard/panels/{key}").status_code == 200
