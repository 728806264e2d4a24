"""Browser: one dialogue of the offline assistant's test set played end to end in the session
page — answers become facts with the engineer's words, the fix follows the evidence, a failed
fix confirmed on the fix card is followed by the next cause's fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from flowpilot.llm.offline.playback import load_dialogues
from sessions_app.models import AISession, Fact, SuggestedFix

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DIALOGUE = next(d for d in load_dialogues() if d.id == "printer-spooler-recovery")


def _say(page: Any, text: str) -> Any:
    replies = page.locator(".step-assistant")
    before = replies.count()
    composer = page.get_by_test_id("composer-input")
    composer.fill(text)
    composer.press("Enter")
    expect(replies).to_have_count(before + 1, timeout=20_000)
    expect(page.get_by_test_id("streaming-reply")).to_have_count(0, timeout=20_000)
    return replies.last


def test_a_dialogue_from_the_test_set_plays_end_to_end(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    """Problem, answers (one pasted table), a fix, a failure confirmed on the card, the next
    cause's fix: What we know only ever holds what the engineer wrote."""
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/new")
    page.fill("textarea[name=problem]", DIALOGUE.problem)
    page.get_by_test_id("start-session").click()
    page.wait_for_url(lambda url: "/sessions/new" not in url)
    intro = page.locator(".step-assistant").last
    expect(intro).to_contain_text("This sounds like a problem with printing", timeout=20_000)
    expect(intro).not_to_contain_text("Printing fails or jobs are stuck")
    facts = page.get_by_test_id("facts")
    expect(facts).to_contain_text("Print jobs are stuck in the queue")

    reply = _say(page, "only her, the others print fine to it")
    expect(reply).to_contain_text("only this user cannot print")
    expect(reply).to_contain_text("Likely cause:")
    expect(facts).to_contain_text("(“only her”)")
    card = page.get_by_test_id("fix-card")
    expect(card).to_contain_text("Clear the stuck print queue and restart the Print Spooler")

    _say(page, DIALOGUE.turns[2].say)
    expect(facts).to_contain_text("The Print Spooler service is stopped")

    reply = _say(page, "what now?")
    expect(reply).to_contain_text("is still the suggested fix")
    page.get_by_test_id("fix-apply").click()
    expect(page.get_by_test_id("fix-banner-verifying")).to_be_visible()

    reply = _say(page, "Ran it, it didn't help, the queue is stuck again")
    expect(reply).to_contain_text("didn't fix it")
    page.reload()
    expect(page.get_by_test_id("fix-proposal")).to_be_visible()
    page.get_by_test_id("fix-proposal-confirm").click()
    expect(page.get_by_test_id("fix-banner-failed")).to_be_visible()

    reply = _say(page, "what next?")
    expect(reply).to_contain_text("It replaces the earlier fix that didn't hold")
    expect(page.get_by_test_id("fix-card")).to_contain_text(
        "Point the printer at its current IP address"
    )

    session = AISession.objects.get(user=engineer)
    said = [DIALOGUE.problem, *(turn.say for turn in DIALOGUE.turns)]
    texts = list(Fact.objects.filter(session=session).values_list("text", flat=True))
    assert len(texts) >= 3
    from flowpilot.llm.offline.playback import unsupported

    assert [text for text in texts if unsupported(text, said)] == []
    titles = list(
        SuggestedFix.objects.filter(session=session).order_by("pk").values_list("title", flat=True)
    )
    assert titles == [
        "Clear the stuck print queue and restart the Print Spooler",
        "Point the printer at its current IP address",
    ]
