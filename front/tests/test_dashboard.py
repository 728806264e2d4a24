"""The dashboard: panels from the apps below it, in the app shell."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from sessions_app.services import sessions


class TestDashboard:
    def test_it_lists_recent_sessions_and_the_new_session_button(
        self, engineer: User, client_for: Any
    ) -> None:
        """The recent-sessions panel shows the engineer's session and links a new one."""
        sessions.create_session(user=engineer, problem="Teams audio drops")
        html = client_for(engineer).get("/").content.decode()
        assert "Your recent sessions" in html and "Teams audio drops" in html
        assert 'href="/sessions/new"' in html

    def test_it_shows_no_new_session_button_to_a_viewer(
        self, viewer: User, client_for: Any
    ) -> None:
        """Viewers read, never act: the header has no New session button."""
        html = client_for(viewer).get("/").content.decode()
        assert 'class="btn btn-primary" href="/sessions/new"' not in html

    def test_it_does_not_show_another_accounts_sessions(
        self, engineer: User, stranger: User, client_for: Any
    ) -> None:
        """A stranger's session never appears on this account's dashboard."""
        sessions.create_session(user=stranger, problem="Contoso only printer")
        assert "Contoso only printer" not in client_for(engineer).get("/").content.decode()

    def test_the_panel_header_link_uses_a_class_not_an_inline_style(
        self, engineer: User, client_for: Any
    ) -> None:
        """The recent-sessions header link is placed by a stylesheet class."""
        html = client_for(engineer).get("/").content.decode()
        assert 'data-testid="recent-sessions"' in html
        assert 'style="margin-left:auto"' not in html
        assert 'class="small card-head-link"' in html

    def test_query_count_is_flat_with_the_number_of_sessions(
        self, engineer: User, client_for: Any, django_assert_max_num_queries: Any
    ) -> None:
        """Panels read a bounded list: twenty sessions cost what one costs."""
        client = client_for(engineer)
        for index in range(20):
            sessions.create_session(user=engineer, problem=f"Problem {index}")
        with django_assert_max_num_queries(8):
            response = client.get("/")
        assert response.status_code == 200
        for label in (b"Sessions", b"Escalations", b"Scripts", b"Tickets", b"Analytics"):
            assert label in response.content
        assert b'id="bell"' in response.content

    def test_anonymous_visitor_is_sent_to_login(self, client: Any) -> None:
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/login")
