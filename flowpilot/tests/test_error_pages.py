"""403 and 404 pages: inside the app shell for a signed-in person, plain for anyone else, and the
product's own 404 in the demo too (DEBUG on), never Django's technical page."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from sessions_app.models import AISession

SIDEBAR = 'aria-label="Main navigation"'


@pytest.fixture(params=[False, True], ids=["production", "demo"])
def debug(request: Any, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


class TestNotFound:
    def test_an_unknown_page_keeps_the_app_shell(
        self, debug: bool, engineer: User, client_for: Any
    ) -> None:
        response = client_for(engineer).get("/no-such-page")
        html = response.content.decode()
        assert response.status_code == 404
        assert "Nothing here" in html and SIDEBAR in html
        assert 'data-testid="error-in-shell"' in html
        assert "technical_404" not in html and "Django tried these URL patterns" not in html

    def test_another_accounts_session_is_a_404_in_the_shell(
        self, debug: bool, engineer: User, stranger: User, client_for: Any
    ) -> None:
        theirs = AISession.objects.create(
            account=stranger.account, user=stranger, problem_summary="Contoso VPN"
        )
        response = client_for(engineer).get(f"/sessions/{theirs.pk}")
        html = response.content.decode()
        assert response.status_code == 404
        assert "Nothing here" in html and SIDEBAR in html and "Contoso VPN" not in html

    def test_anonymous_gets_a_plain_page(self, debug: bool, client: Any) -> None:
        response = client.get("/no-such-page")
        html = response.content.decode()
        assert response.status_code == 404
        assert "Nothing here" in html and SIDEBAR not in html

    def test_the_api_still_answers_json(self, debug: bool, engineer: User, client: Any) -> None:
        client.force_login(engineer)
        response = client.get("/api/v1/no-such-endpoint")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_the_trailing_slash_redirect_still_works(
        self, debug: bool, engineer: User, client_for: Any
    ) -> None:
        """``/admin`` is only a route with its slash: CommonMiddleware still redirects to it."""
        response = client_for(engineer).get("/admin")
        assert response.status_code == 301 and response["Location"] == "/admin/"


class TestForbidden:
    def test_a_viewer_sees_the_403_inside_the_shell(
        self, debug: bool, viewer: User, client_for: Any
    ) -> None:
        response = client_for(viewer).get("/sessions/new")
        html = response.content.decode()
        assert response.status_code == 403
        assert "You can't open this page" in html and SIDEBAR in html
        assert "Engineer or admin access required" in html
