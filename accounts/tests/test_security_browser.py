"""The session security page and the expiry warning, driven in Chromium against daphne."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account, LoginSession, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_sets_a_custom_policy_with_inline_validation(
    live_server_url: str, page: Any, owner: User, login_as: Any
) -> None:
    login_as(page, owner)
    page.goto(f"{live_server_url}/account")
    page.click("[data-testid=settings-security]")
    expect(page.locator("h1")).to_have_text("Session security")
    idle = page.locator("#id_idle_minutes")
    expect(page.locator("#preset-strict")).to_be_checked()
    expect(idle).to_be_disabled()
    page.check("#preset-custom")
    expect(idle).to_be_enabled()
    idle.fill("5")
    page.fill("#id_absolute_minutes", "240")
    page.click("#policy-save")
    expect(page.locator("#policy-card .field-error")).to_contain_text(
        "Must be between 15 and 43200 minutes."
    )
    expect(page.locator("#preset-custom")).to_be_checked()
    page.fill("#id_idle_minutes", "60")
    page.click("#policy-save")
    expect(page.locator("#policy-saved")).to_be_visible()
    expect(page.locator("#effective-policy")).to_have_text("1 hour idle · 4 hours absolute")
    expect(page.locator("#toasts")).to_contain_text("applies at next login")
    account = Account.objects.get(pk=owner.account_id)
    assert (account.idle_minutes, account.absolute_minutes) == (60, 240)


def test_owner_signs_out_everyone_else_and_the_engineer_lands_on_login(
    live_server_url: str,
    new_page: Callable[[], Any],
    owner: User,
    engineer: User,
    login_as: Any,
) -> None:
    owner_page, engineer_page = new_page(), new_page()
    login_as(engineer_page, engineer)
    login_as(owner_page, owner)
    owner_page.goto(f"{live_server_url}/account/security")
    expect(owner_page.locator("#active-users")).to_contain_text("Jane Cooper")
    expect(owner_page.locator("#active-users")).to_contain_text("(you)")
    owner_page.click("#revoke-others-btn")
    dialog = owner_page.locator("#revoke-others-modal")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Sign out everyone except you?")
    owner_page.click("#revoke-others-confirm")
    expect(owner_page.locator("#toasts")).to_contain_text("Signed out 1 session.")
    expect(owner_page.locator("#sessions-copy")).to_contain_text("Only you are signed in.")
    expect(owner_page.locator("#revoke-others-btn")).to_have_count(0)

    # The engineer's open page hears it on its socket and goes to the login page by itself;
    # a page asked for afterwards is refused too.
    engineer_page.wait_for_url("**/login**", timeout=10000)
    engineer_page.goto(f"{live_server_url}/account")
    assert "/login" in engineer_page.url
    expect(engineer_page.locator("#session-expired-banner")).to_have_count(0)
    owner_page.reload()
    assert "/account/security" in owner_page.url


def test_sign_me_out_and_everyone_else_ends_on_login_without_banner(
    live_server_url: str, page: Any, owner: User, engineer: User, login_as: Any
) -> None:
    login_as(page, owner)
    page.goto(f"{live_server_url}/account/security")
    page.click("#revoke-all-btn")
    expect(page.locator("#revoke-all-modal")).to_contain_text("including you")
    page.click("#revoke-all-confirm")
    # Its own sign-in ends with the others: the socket close sends this page to the login page
    # straight away (the "Signed out 1 session." toast may not live long enough to be seen).
    page.wait_for_url(f"{live_server_url}/login", timeout=10000)
    expect(page.locator("#session-expired-banner")).to_have_count(0)
    assert not LoginSession.objects.filter(user=owner, revoked_at__isnull=True).exists()


def _near_idle_expiry(user: User, minutes: float = 4) -> LoginSession:
    login_session = LoginSession.objects.filter(user=user).latest("pk")
    LoginSession.objects.filter(pk=login_session.pk).update(
        # Active less than a minute ago, so a page load does not write activity (and the deadline
        # stays put), yet the idle deadline is only minutes away.
        last_activity_at=timezone.now() - timedelta(seconds=30),
        idle_expires_at=timezone.now() + timedelta(minutes=minutes),
    )
    return login_session


def test_expiry_toast_appears_near_idle_expiry_and_stay_signed_in_extends(
    live_server_url: str, page: Any, engineer: User, login_as: Any
) -> None:
    engineer.account.idle_minutes, engineer.account.absolute_minutes = 15, 60
    engineer.account.save()
    login_as(page, engineer)
    page.clock.install()
    page.goto(f"{live_server_url}/account")
    # Loading a page is activity; the polling that follows is not, so age the session now and
    # let the 30 s re-check find it.
    login_session = _near_idle_expiry(engineer)
    page.clock.run_for(31_000)
    toast = page.locator("#expiry-toast")
    expect(toast).to_be_visible()
    expect(toast).to_have_class("toast expiry-toast toast-amber")
    expect(toast).to_contain_text("Your session ends in 4 minutes")
    page.click("#expiry-stay")
    expect(toast).to_have_count(0)
    login_session.refresh_from_db()
    assert login_session.idle_expires_at > timezone.now() + timedelta(minutes=14)


def test_dismissed_warning_does_not_come_back(
    live_server_url: str, page: Any, engineer: User, login_as: Any
) -> None:
    login_as(page, engineer)
    page.clock.install()
    page.goto(f"{live_server_url}/account")
    _near_idle_expiry(engineer)
    page.clock.run_for(31_000)
    expect(page.locator("#expiry-toast")).to_be_visible()
    page.click("#expiry-dismiss")
    expect(page.locator("#expiry-toast")).to_have_count(0)
    page.clock.run_for(31_000)  # the next 30 s re-check
    page.wait_for_timeout(300)
    expect(page.locator("#expiry-toast")).to_have_count(0)
    # Another page, same deadline: the server remembers the dismissal.
    with page.expect_response(lambda r: "/account/session-status" in r.url) as status:
        page.goto(f"{live_server_url}/")
    assert status.value.json()["dismissed"] is True
    expect(page.locator("#expiry-toast")).to_have_count(0)


def test_absolute_expiry_warning_is_cyan_with_sign_in_now(
    live_server_url: str, page: Any, engineer: User, login_as: Any
) -> None:
    login_as(page, engineer)
    LoginSession.objects.filter(user=engineer).update(
        absolute_expires_at=timezone.now() + timedelta(minutes=3)
    )
    page.goto(f"{live_server_url}/account")
    toast = page.locator("#expiry-toast")
    expect(toast).to_have_class("toast expiry-toast toast-cyan")
    expect(page.locator("#expiry-stay")).to_have_count(0)
    page.click("#expiry-sign-in")
    page.wait_for_url(f"{live_server_url}/login")
    expect(page.locator("#login-submit")).to_be_visible()
