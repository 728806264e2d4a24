"""Browser: a streaming reply shows clean text (no raw Markdown markers), the final message
renders its lists as lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records every text the streaming placeholder showed, before the final render replaces it.
RECORD_STREAM = """
window.__streamed = [];
new MutationObserver(() => {
  document.querySelectorAll("[data-stream-text]").forEach((el) => {
    if (el.textContent) window.__streamed.push(el.textContent);
  });
}).observe(document, { childList: true, subtree: true, characterData: true });
"""


def test_streaming_shows_clean_text_and_the_reply_renders_lists(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    login_as(page, engineer)
    page.add_init_script(RECORD_STREAM)
    page.goto(f"{live_server_url}/sessions/new")
    page.fill(
        "textarea[name=problem]", "Outlook keeps asking for a password and mail is not syncing"
    )
    page.get_by_test_id("start-session").click()
    page.wait_for_url(lambda url: "/sessions/new" not in url)
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=15_000)
    reply = page.locator(".step-assistant").last
    # The final message has Markdown (bold, a list) ...
    expect(reply.locator("strong").first).to_be_visible()
    expect(reply.locator("ol li, ul li").first).to_be_visible()
    # ... which never showed as raw markers while it streamed.
    streamed: list[str] = page.evaluate("window.__streamed")
    assert streamed, "no token was shown while streaming"
    assert not [text for text in streamed if "**" in text or "`" in text]
    assert "Outlook" in streamed[-1]
