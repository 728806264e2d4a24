"""Passwords: forgot/reset by e-mail (same answer for any address, throttled), change password."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import AuditEvent, LoginSession, RefreshToken, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a lighthouse keeps the harbour"


def forgot(client: Client, email: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post("/password/forgot", {"email": email})


class TestForgotPassword:
    def test_login_page_links_to_it(self, db: None) -> None:
        assert 'href="/password/forgot"' in Client().get("/login").content.decode()

    def test_reset_by_email_signs_every_device_out(
        self,
        engineer: User,
        client_for: Callable[[User], Client],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        old_page = client_for(engineer)
        api = APIClient().post(
            "/api/v1/auth/login/json",
            {"email": engineer.email, "password": PASSWORD},
            format="json",
        )
        response = forgot(Client(), engineer.email, django_capture_on_commit_callbacks)
        assert response.status_code == 302
        assert response["Location"] == "/password/forgot/sent"
        assert len(mail.outbox) == 1
        link = re.search(r"http://testserver(/password/reset/\S+)", str(mail.outbox[0].body))
        assert link, mail.outbox[0].body
        browser = Client()
        form = browser.get(link.group(1), follow=True)
        assert "Choose a new password" in form.content.decode()
        done = browser.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert done["Location"] == "/login?reason=password_set"
        assert (
            Client().post("/login", {"email": engineer.email, "password": NEW_PASSWORD}).status_code
            == 302
        )
        assert old_page.get("/account").status_code == 302
        refreshed = APIClient().post(
            "/api/v1/auth/refresh", {"refresh": api.json()["refresh"]}, format="json"
        )
        assert refreshed.status_code == 401
        assert AuditEvent.objects.filter(type="user.password_reset", actor=engineer).exists()

    def test_unknown_address_gets_the_same_answer_and_no_mail(
        self, db: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        response = forgot(Client(), "nobody@nowhere.example", django_capture_on_commit_callbacks)
        assert (response.status_code, response["Location"]) == (302, "/password/forgot/sent")
        assert not mail.outbox
        page = Client().get("/password/forgot/sent").content.decode()
        assert "If that address belongs to an active FlowPilot login" in page

    def test_requests_per_address_are_throttled_silently(
        self, engineer: User, settings: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        settings.PASSWORD_RESETS_PER_EMAIL = 2
        for _ in range(4):
            response = forgot(Client(), engineer.email, django_capture_on_commit_callbacks)
            assert response["Location"] == "/password/forgot/sent"
        assert len(mail.outbox) == 2

    def test_requests_per_client_address_are_refused_with_a_message(
        self, db: None, settings: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        settings.PASSWORD_RESETS_PER_IP = 2
        client = Client()
        for index in range(2):
            forgot(client, f"a{index}@x.example", django_capture_on_commit_callbacks)
        response = forgot(client, "a9@x.example", django_capture_on_commit_callbacks)
        assert response.status_code == 200
        assert "Too many reset requests" in response.content.decode()

    def test_a_garbage_link_is_explained(self, db: None) -> None:
        html = Client().get("/password/reset/xx/yy-zz", follow=True).content.decode()
        assert "This link no longer works" in html
        assert "Ask for a new link" in html


class TestChangePassword:
    def test_change_keeps_this_device_and_signs_out_the_others(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        here = client_for(engineer)
        there = client_for(engineer)
        api = APIClient().post(
            "/api/v1/auth/login/json",
            {"email": engineer.email, "password": PASSWORD},
            format="json",
        )
        response = here.post(
            "/account/password",
            {
                "old_password": PASSWORD,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200
        assert "Password changed. 2 other devices signed out." in response["HX-Trigger"]
        assert here.get("/account").status_code == 200
        gone = there.get("/account")
        assert gone["Location"] == "/login?reason=password_changed"
        assert "Your password was changed" in there.get(gone["Location"]).content.decode()
        assert not RefreshToken.objects.filter(user=engineer, revoked_at__isnull=True).exists()
        assert LoginSession.objects.filter(user=engineer, revoked_at__isnull=True).count() == 1
        refreshed = APIClient().post(
            "/api/v1/auth/refresh", {"refresh": api.json()["refresh"]}, format="json"
        )
        assert refreshed.status_code == 401
        assert AuditEvent.objects.filter(type="user.password_changed").count() == 1

    def test_wrong_current_password_or_weak_new_one_is_a_field_error(
        self, viewer: User, client_for: Callable[[User], Client]
    ) -> None:
        page = client_for(viewer)
        wrong = page.post(
            "/account/password",
            {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert wrong.status_code == 200
        assert "Your old password was entered incorrectly" in wrong.content.decode()
        weak = page.post(
            "/account/password",
            {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
            HTTP_HX_REQUEST="true",
        )
        assert "at least 12 characters" in weak.content.decode()
        viewer.refresh_from_db()
        assert viewer.check_password(PASSWORD)

    def test_signed_out_visitors_are_sent_to_login(self, db: None) -> None:
        response = Client().post("/account/password", {})
        assert response.status_code == 302
        assert response["Location"].startswith("/login")
