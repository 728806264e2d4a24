"""
A real SMTP server for the tests that prove an e-mail leaves through Django's SMTP backend
(aiosmtpd on a free loopback port). The ``smtp`` fixture (top-level conftest) starts one and
points the mail settings at it; what arrives is kept in the ``Inbox``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller

from flowpilot.testing.live import free_port


class Inbox:
    """What the server received: ``(recipients, parsed message)`` per e-mail, in order."""

    def __init__(self) -> None:
        # The parsed messages are ``email.message.Message`` (typed loosely: tests read their
        # decoded payloads, which the stubs type as a union).
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@contextmanager
def smtp_server(settings: Any) -> Iterator[Inbox]:
    """Start the server and point Django's SMTP backend at it (``settings``: pytest-django's
    fixture, so the mail settings are restored afterwards); stopped on exit."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield inbox
    finally:
        controller.stop()
