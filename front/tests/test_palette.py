"""The Ctrl/Cmd+K palette: on every app page; sessions told apart by ticket number and age."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from sessions_app.models import AISession


def _session(user: User, problem: str, **extra: Any) -> AISession:
    return AISession.objects.create(
        account=user.account, user=user, problem_summary=problem, **extra
    )


class TestPaletteOnEveryPage:
    @pytest.mark.parametrize("path", ["/", "/sessions", "/account", "/notifications"])
    def test_the_palette_and_its_script_are_on_the_page(
        self, path: str, engineer: User, client_for: Callable[[User], Any]
    ) -> None:
        response = client_for(engineer).get(path, follow=True)
        html = response.content.decode()
        assert response.status_code == 200
        assert html.count('data-testid="palette"') == 1
        assert html.count("js/palette.js") == 1
        assert 'data-testid="palette-empty"' in html and "No matches" in html
        assert 'hx-get="/palette/sessions"' in html

    def test_a_viewer_is_offered_no_command_that_answers_403(
        self, viewer: User, client_for: Callable[[User], Any]
    ) -> None:
        html = client_for(viewer).get("/").content.decode()
        palette = html[html.index('data-testid="palette"') :]
        assert "New session" not in palette and "Go to escalations" not in palette


class TestPaletteSessions:
    def test_sessions_show_their_ticket_number_and_age(
        self, engineer: User, client_for: Callable[[User], Any]
    ) -> None:
        _session(
            engineer,
            "Outlook keeps asking for a password",
            psa_ticket_id="48213",
            updated_at=timezone.now() - timedelta(days=3),
        )
        _session(engineer, "Outlook keeps asking for a password", psa_ticket_id="48999")
        response = client_for(engineer).get("/palette/sessions")
        html = response.content.decode()
        assert response.status_code == 200
        assert html.count('data-testid="palette-session"') == 2
        assert "#48213" in html and "#48999" in html
        assert "3 days ago" in html and "just now" in html
        assert html.index("#48999") < html.index("#48213")  # newest activity first

    def test_a_viewer_reads_the_accounts_sessions(
        self, viewer: User, engineer: User, client_for: Callable[[User], Any]
    ) -> None:
        _session(engineer, "Teams audio drops")
        assert "Teams audio drops" in client_for(viewer).get("/palette/sessions").content.decode()

    def test_another_accounts_sessions_never_appear(
        self, engineer: User, stranger: User, client_for: Callable[[User], Any]
    ) -> None:
        _session(stranger, "Contoso only printer")
        html = client_for(engineer).get("/palette/sessions").content.decode()
        assert "Contoso only printer" not in html

    def test_the_list_is_bounded(
        self,
        engineer: User,
        client_for: Callable[[User], Any],
        django_assert_num_queries: Any,
    ) -> None:
        for index in range(12):
            _session(engineer, f"Problem {index}")
        client = client_for(engineer)
        client.get("/palette/sessions")
        with django_assert_num_queries(2):
            html = client.get("/palette/sessions").content.decode()
        assert html.count('data-testid="palette-session"') == 8

    def test_anonymous_is_sent_to_login(self, client: Any) -> None:
        assert client.get("/palette/sessions").status_code == 302
