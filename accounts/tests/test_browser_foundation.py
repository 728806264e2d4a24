from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from accounts.permissions import OWNER_REQUIRED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_engineer_logs_in_and_sees_the_shell(
    live_server_url: str, page: Any, engineer: User, login_as: Any
) -> None:
    login_as(page, engineer)
    assert page.url.rstrip("/") == live_server_url
    for label in ("Sessions", "Escalations", "Scripts", "Tickets", "Analytics", "Account"):
        assert page.locator(f".sidebar .nav >> text={label}").count() == 1
    assert page.locator("#bell").is_visible()
    assert "Good to see you, Jane" in page.inner_text("h1")


def test_wrong_password_shows_the_error_and_stays(
    live_server_url: str, page: Any, engineer: User
) -> None:
    page.goto(f"{live_server_url}/login")
    page.fill("input[name=email]", engineer.email)
    page.fill("input[name=password]", "not the password")
    page.click("#login-submit")
    assert "do not match an active account" in page.inner_text("#login-error")
    assert "/login" in page.url
    assert page.input_value("input[name=email]") == engineer.email


def test_viewer_opening_an_owner_page_gets_the_403_page(
    live_server_url: str, page: Any, viewer: User, login_as: Any
) -> None:
    login_as(page, viewer)
    response = page.goto(f"{live_server_url}/account/audit")
    assert response is not None and response.status == 403
    assert OWNER_REQUIRED in page.inner_text("#error-message")


def test_logout_returns_to_login(
    live_server_url: str, page: Any, engineer: User, login_as: Any
) -> None:
    login_as(page, engineer)
    page.click("[data-testid=sign-out]")
    page.wait_for_url(f"{live_server_url}/login")
    page.goto(f"{live_server_url}/")
    assert "/login" in page.url
