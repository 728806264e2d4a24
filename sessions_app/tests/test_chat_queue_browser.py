"""Browser: a message sent while a reply streams shows as queued at once, then gets its own
reply, streamed after the one before it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from conftest import PASSWORD
from flowpilot.llm.testing import ScriptedClient
from flowpilot.testing.live import start_live_server
from sessions_app.models import AISessionStep, StepRole
from sessions_app.services import chat
from sessions_app.tests.chat_support import start, use_client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLOW_REPLY = " ".join(f"word{index}" for index in range(60)) + " first reply done."


@pytest.fixture
def slow_server(monkeypatch: pytest.MonkeyPatch, transactional_db: None) -> Iterator[str]:
    """A live server (forked: it inherits the patched model) whose first reply streams slowly."""
    use_client(
        monkeypatch,
        ScriptedClient([SLOW_REPLY, "Second reply done."], chunk_size=2, chunk_delay=0.1),
    )
    server = start_live_server()
    try:
        yield server.url
    finally:
        server.stop()


def test_a_message_sent_while_a_reply_streams_is_queued_then_answered(
    page: Any, slow_server: str, engineer: User
) -> None:
    session = start(engineer)
    chat.run_reply(session=session, user_step=session.steps.get(), client=ScriptedClient(["Hi."]))
    page.goto(f"{slow_server}/login")
    page.fill("input[name=email]", engineer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{slow_server}/sessions/{session.pk}")

    composer = page.get_by_test_id("composer-input")
    composer.fill("First question")
    composer.press("Enter")
    streaming = page.get_by_test_id("streaming-reply")
    expect(streaming.first.locator("[data-stream-text]")).to_contain_text("word1")
    # While the first reply streams, the second message is sent and shows as queued at once.
    composer.fill("Second question")
    composer.press("Enter")
    log = page.get_by_test_id("chat-log")
    expect(log).to_contain_text("Second question")
    expect(composer).to_have_value("")
    queued = streaming.nth(1)
    expect(queued).to_contain_text("Queued — waiting for the reply before it")
    expect(queued).to_have_class(re.compile(r"\bis-queued\b"))
    # The first reply finishes, then the second streams and renders as its own step.
    expect(log).to_contain_text("first reply done.", timeout=20_000)
    expect(log).to_contain_text("Second reply done.", timeout=20_000)
    expect(streaming).to_have_count(0, timeout=20_000)
    steps = list(AISessionStep.objects.filter(session=session).order_by("pk"))
    questions = {step.content: step.pk for step in steps if step.role == StepRole.USER}
    replies = {step.reply_to_id: step.content for step in steps if step.role == StepRole.ASSISTANT}
    assert replies[questions["First question"]] == SLOW_REPLY
    assert replies[questions["Second question"]] == "Second reply done."
    text = log.inner_text()
    assert (
        text.index("First question")
        < text.index("first reply done.")
        < text.index("Second question")
        < text.index("Second reply done.")
    )
