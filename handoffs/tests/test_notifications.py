"""
Notifications of an escalation: the bell (API and page), e-mail through Django's mail framework
against a real local SMTP server, Slack/Teams through requests against a local HTTP receiver.
Failures of either never fail the hand-off.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.testing.live import free_port
from flowpilot.testing.smtp import Inbox
from handoffs import tasks
from handoffs.models import AppNotification
from handoffs.tests.support import escalate, make_session

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[str, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                receiver.posts.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_INSECURE = True
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = Receiver()
    try:
        yield server
    finally:
        server.stop()


def configure_webhooks(user: User, base: str) -> None:
    account = user.account
    account.preferences = {
        **account.preferences,
        "slack_webhook_url": f"{base}/slack",
        "teams_webhook_url": f"{base}/teams",
    }
    account.save(update_fields=["preferences"])


@pytest.mark.django_db(transaction=True)
class TestDelivery:
    def test_email_and_webhooks_are_delivered_after_commit(
        self,
        smtp: Inbox,
        receiver: Receiver,
        engineer: User,
        owner: User,
        admin_user: User,
        viewer: User,
        api_client_for: ApiFor,
    ) -> None:
        configure_webhooks(engineer, receiver.url)
        session = make_session(engineer, psa_ticket_id="12345")
        response = api_client_for(engineer).post(
            f"/api/v1/ai-sessions/{session.pk}/escalate", {"reason": "Exchange"}, format="json"
        )
        assert response.status_code == 201
        recipients = sorted(rcpt for rcpts, _ in smtp.messages for rcpt in rcpts)
        assert recipients == sorted([owner.email, admin_user.email])
        _, message = smtp.messages[0]
        title = "Escalation from Jane · #12345: Outlook is failing to sync email"
        subject = str(make_header(decode_header(message["Subject"]))).strip()
        assert subject == title
        body = message.get_payload(decode=True).decode()
        assert f"/escalations/{response.json()['id']}" in body
        paths = sorted(path for path, _ in receiver.posts)
        assert paths == ["/slack", "/teams"]
        slack = next(body for path, body in receiver.posts if path == "/slack")
        assert slack["text"].startswith(title)
        assert AppNotification.objects.filter(emailed_at__isnull=False).count() == 2

    def test_smtp_and_webhook_failures_never_fail_the_handoff(
        self, settings: Any, engineer: User, owner: User, api_client_for: ApiFor
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = free_port()  # nothing listens there
        settings.EMAIL_TIMEOUT = 2
        settings.WEBHOOK_ALLOW_INSECURE = True
        settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
        configure_webhooks(engineer, f"http://127.0.0.1:{free_port()}")
        session = make_session(engineer)
        response = api_client_for(engineer).post(
            f"/api/v1/ai-sessions/{session.pk}/escalate", {}, format="json"
        )
        assert response.status_code == 201
        notification = AppNotification.objects.get(user=owner)
        # Released for a later retry, not marked sent.
        assert notification.emailed_at is None

    def test_a_redelivered_email_task_sends_nothing_twice(
        self, smtp: Inbox, engineer: User, owner: User
    ) -> None:
        escalate(engineer)
        assert len(smtp.messages) == 1
        notification = AppNotification.objects.get(user=owner)
        assert tasks.deliver_email(notification.pk) is False
        assert len(smtp.messages) == 1


class TestWebhookGuard:
    @pytest.mark.parametrize(
        "url",
        [
            "http://hooks.slack.com/services/x",
            "https://evil.example/hook",
            "https://hooks.slack.com.evil.example/x",
        ],
    )
    def test_refused_urls(self, url: str) -> None:
        with pytest.raises(tasks.WebhookRefused):
            tasks.check_webhook_url(url)

    def test_private_addresses_are_refused(self, settings: Any) -> None:
        settings.WEBHOOK_ALLOWED_HOSTS = ["localhost"]
        with pytest.raises(tasks.WebhookRefused):
            tasks.check_webhook_url("https://localhost/hook")

    def test_teams_body_is_an_adaptive_card(self, engineer: User) -> None:
        handoff = escalate(engineer)
        body = tasks.webhook_body("teams", handoff, "Title", "https://x/escalations/1")
        assert body["attachments"][0]["content"]["type"] == "AdaptiveCard"


class TestBell:
    def test_api_lists_marks_read_and_read_all(
        self, engineer: User, owner: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        escalate(engineer)
        escalate(engineer)
        client = api_client_for(owner)
        listed = client.get("/api/v1/notifications").json()
        assert listed["unread"] == 2
        assert len(listed["results"]) == 2
        first = listed["results"][0]["id"]
        read = client.post(f"/api/v1/notifications/{first}/read")
        assert read.status_code == 200 and read.json()["read_at"]
        assert client.get("/api/v1/notifications").json()["unread"] == 1
        # Someone else's notification is not found.
        assert (
            api_client_for(stranger).post(f"/api/v1/notifications/{first}/read").status_code == 404
        )
        assert (
            api_client_for(engineer).post(f"/api/v1/notifications/{first}/read").status_code == 404
        )
        assert client.post("/api/v1/notifications/read-all").json() == {"marked": 1, "unread": 0}

    def test_list_query_count_is_flat(
        self, engineer: User, owner: User, api_client_for: ApiFor, django_assert_num_queries: Any
    ) -> None:
        client = api_client_for(owner)
        escalate(engineer)
        with django_assert_num_queries(3):
            client.get("/api/v1/notifications")
        for _ in range(5):
            escalate(engineer)
        with django_assert_num_queries(3):
            client.get("/api/v1/notifications")

    def test_bell_count_on_every_page_and_the_dropdown(
        self, engineer: User, owner: User, client_for: Callable[[User], Client]
    ) -> None:
        escalate(engineer)
        client = client_for(owner)
        page = client.get("/sessions").content.decode()
        assert 'data-testid="bell-count">1</span>' in page
        dropdown = client.get("/notifications", HTTP_HX_REQUEST="true").content.decode()
        assert "Escalation from Jane" in dropdown
        notification = AppNotification.objects.get(user=owner)
        followed = client.post(f"/notifications/{notification.pk}/read")
        assert followed.status_code == 302
        assert followed["Location"] == notification.link
        notification.refresh_from_db()
        assert notification.read_at is not None
        client.post("/notifications/read-all")
        assert 'data-testid="bell-count" hidden' in client.get("/sessions").content.decode()
