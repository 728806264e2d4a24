"""
Browser: the owner invites a colleague on the People page, the invitation arrives through a
real SMTP server, the invitee sets a password from its link and signs in; and signing out one
of your devices from the account page ends that browser's session live (without waiting for its
next status poll), while this one stays signed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import LoginSession, User
from conftest import PASSWORD
from flowpilot.testing.smtp import Inbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a lighthouse keeps the harbour"


def test_owner_invites_and_the_invitee_sets_a_password_from_the_email(
    smtp: Inbox,  # first: the live server forks with these mail settings
    live_server_url: str,
    new_page: Callable[[], Any],
    login_as: Callable[[Any, User], None],
    owner: User,
) -> None:
    owner_page = new_page()
    login_as(owner_page, owner)
    owner_page.goto(f"{live_server_url}/account/people")
    owner_page.fill("#invite-form input[name=email]", "nina@northwind.example")
    owner_page.fill("#invite-form input[name=name]", "Nina Berg")
    owner_page.select_option("#invite-form select[name=role]", "engineer")
    owner_page.click("#invite-submit")
    expect(owner_page.locator("#people-table")).to_contain_text("Nina Berg")

    for _ in range(50):
        if smtp.messages:
            break
        owner_page.wait_for_timeout(100)
    assert smtp.messages, "no invitation e-mail reached the SMTP server"
    recipients, message = smtp.messages[-1]
    assert recipients == ["nina@northwind.example"]
    body = (message.get_payload(0) if message.is_multipart() else message).get_payload(decode=True)
    match = re.search(r"https?://\S+/invitation/\S+", body.decode())
    assert match, body
    link = re.sub(r"^https?://[^/]+", live_server_url, match.group(0))

    invitee = new_page()
    invitee.goto(link)
    invitee.fill("input[name=new_password1]", NEW_PASSWORD)
    invitee.fill("input[name=new_password2]", NEW_PASSWORD)
    invitee.click("#set-password-submit")
    invitee.wait_for_url(re.compile(r"/login"))
    invitee.fill("input[name=email]", "nina@northwind.example")
    invitee.fill("input[name=password]", NEW_PASSWORD)
    invitee.click("#login-submit")
    invitee.wait_for_url(lambda url: "/login" not in url)
    expect(invitee.locator(".sidebar-foot .who")).to_have_text("Nina Berg")


def test_signing_out_a_device_ends_that_browser_live_and_keeps_this_one(
    live_server_url: str,
    new_page: Callable[[], Any],
    login_as: Callable[[Any, User], None],
    engineer: User,
) -> None:
    laptop, phone = new_page(), new_page()
    login_as(phone, engineer)
    expect(phone.get_by_test_id("bell-socket")).to_have_attribute("data-live", "open")
    login_as(laptop, engineer)
    other = LoginSession.objects.filter(user=engineer).order_by("auth_time").first()
    assert other is not None and PASSWORD

    laptop.goto(f"{live_server_url}/account")
    expect(laptop.locator(".device-row")).to_have_count(2)
    laptop.get_by_test_id(f"revoke-device-{other.pk}").click()
    expect(laptop.locator(".device-row")).to_have_count(1)

    # The phone did nothing: the server closed its socket, the page asked and was told it is
    # signed out (by the person themselves, so a plain login page, no administrator banner).
    phone.wait_for_url(re.compile(r"/login$"), timeout=10_000)
    expect(phone.locator("input[name=email]")).to_be_visible()
    laptop.reload()
    assert "/account" in laptop.url
