from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEvent, User
from accounts.services.auth import GENERIC_LOGIN_ERROR
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


class TestLoginPage:
    def test_engineer_logs_in_and_lands_on_dashboard(self, engineer: User) -> None:
        """A correct e-mail and password signs in, records auth.login and redirects home."""
        client = Client()
        response = client.post("/login", {"email": engineer.email, "password": PASSWORD})
        assert response.status_code == 302
        assert response["Location"] == "/"
        page = client.get("/")
        assert page.status_code == 200
        assert b"Jane" in page.content
        assert AuditEvent.objects.filter(type="auth.login", actor=engineer).count() == 1

    @pytest.mark.parametrize(
        "email,password",
        [
            ("nobody@northwind.example", PASSWORD),
            ("jane@northwind.example", "wrong password"),
        ],
    )
    def test_bad_credentials_give_the_same_generic_error(
        self, engineer: User, email: str, password: str
    ) -> None:
        """Unknown e-mail and wrong password answer identically: no user enumeration."""
        client = Client()
        response = client.post("/login", {"email": email, "password": password})
        assert response.status_code == 200
        assert GENERIC_LOGIN_ERROR in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_inactive_user_gets_the_generic_error(self, engineer: User) -> None:
        engineer.is_active = False
        engineer.save(update_fields=["is_active"])
        response = Client().post("/login", {"email": engineer.email, "password": PASSWORD})
        assert GENERIC_LOGIN_ERROR in response.content.decode()

    def test_failed_login_is_audited_for_a_known_user(self, engineer: User) -> None:
        Client().post("/login", {"email": engineer.email, "password": "nope"})
        event = AuditEvent.objects.get(type="auth.login_failed")
        assert event.account_id == engineer.account_id
        assert "password" not in str(event.payload).lower().replace("email", "")

    def test_repeated_failures_are_throttled(self, engineer: User, settings) -> None:
        """After the per-address-and-IP limit even the right password from that IP gets 429."""
        settings.LOGIN_FAILURES_PER_PAIR = 3
        client = Client()
        for _ in range(3):
            client.post("/login", {"email": engineer.email, "password": "nope"})
        response = client.post("/login", {"email": engineer.email, "password": PASSWORD})
        assert response.status_code == 429
        assert "Too many failed sign-in attempts" in response.content.decode()

    def test_next_is_followed_only_on_this_site(self, engineer: User) -> None:
        ok = Client().post("/login?next=/account", {"email": engineer.email, "password": PASSWORD})
        assert ok["Location"] == "/account"
        evil = Client().post(
            "/login",
            {"email": engineer.email, "password": PASSWORD, "next": "https://evil.example/"},
        )
        assert evil["Location"] == "/"

    def test_overlong_email_is_a_field_error(self, db: None) -> None:
        response = Client().post("/login", {"email": "a" * 300 + "@x.example", "password": "x"})
        assert response.status_code == 200
        assert "has-error" in response.content.decode()

    def test_session_expired_reason_shows_the_info_banner(self, db: None) -> None:
        response = Client().get("/login?reason=session_expired")
        assert b'id="session-expired-banner"' in response.content
        assert b"banner-cyan" in response.content

    def test_logout_ends_the_session(self, engineer: User, client_for) -> None:
        client = client_for(engineer)
        response = client.post("/logout")
        assert response.status_code == 302
        assert client.get("/")["Location"].startswith("/login")
        assert AuditEvent.objects.filter(type="auth.logout", actor=engineer).exists()

    def test_anonymous_is_sent_to_login(self, db: None) -> None:
        response = Client().get("/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login?next=/")


class TestLoginApi:
    def test_form_login_returns_a_token_pair(self, engineer: User) -> None:
        response = Client().post(
            "/api/v1/auth/login", {"email": engineer.email, "password": PASSWORD}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["access"] and body["refresh"]
        assert body["user"] == {
            "id": engineer.pk,
            "email": engineer.email,
            "name": "Jane Cooper",
            "role": "engineer",
        }

    def test_json_login_works_with_a_trailing_slash_too(self, engineer: User) -> None:
        for path in ("/api/v1/auth/login/json", "/api/v1/auth/login/json/"):
            response = Client().post(
                path,
                {"email": engineer.email, "password": PASSWORD},
                content_type="application/json",
            )
            assert response.status_code == 200, path
            assert "access" in response.json()

    def test_bad_credentials_answer_401_with_a_code(self, engineer: User) -> None:
        response = Client().post(
            "/api/v1/auth/login/json",
            {"email": engineer.email, "password": "nope"},
            content_type="application/json",
        )
        assert response.status_code == 401
        assert response.json() == {"detail": GENERIC_LOGIN_ERROR, "code": "invalid_credentials"}

    def test_malformed_json_is_a_400_with_a_code(self, db: None) -> None:
        response = Client().post(
            "/api/v1/auth/login/json", "{not json", content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_json"

    def test_missing_fields_are_field_errors(self, db: None) -> None:
        response = Client().post("/api/v1/auth/login/json", {}, content_type="application/json")
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid"
        assert "email" in body and "password" in body

    def test_api_throttles_repeated_failures(self, engineer: User, settings) -> None:
        settings.LOGIN_FAILURES_PER_PAIR = 2
        for _ in range(2):
            Client().post(
                "/api/v1/auth/login/json",
                {"email": engineer.email, "password": "x"},
                content_type="application/json",
            )
        response = Client().post(
            "/api/v1/auth/login/json",
            {"email": engineer.email, "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 429
        assert response.json()["code"] == "too_many_attempts"


class TestClientAddress:
    def test_forwarded_for_is_ignored_without_trusted_proxies(self, rf, settings) -> None:
        from accounts.services.auth import client_ip

        settings.TRUSTED_PROXY_HOPS = 0
        request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="10.0.0.9")
        assert client_ip(request) == "10.0.0.9"

    def test_trusted_proxy_hop_is_used_and_forged_entries_ignored(self, rf, settings) -> None:
        from accounts.services.auth import client_ip

        settings.TRUSTED_PROXY_HOPS = 1
        request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.9")
        assert client_ip(request) == "203.0.113.7"
