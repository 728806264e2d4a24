"""Browser: the palette opens on the dashboard, finds a session by its ticket number, says
"No matches" when nothing fits, and opens the session with Enter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from sessions_app.models import AISession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_palette_finds_by_ticket_and_says_no_matches(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    wanted = AISession.objects.create(
        account=engineer.account,
        user=engineer,
        problem_summary="Outlook keeps asking for a password",
        psa_ticket_id="48213",
    )
    AISession.objects.create(
        account=engineer.account,
        user=engineer,
        problem_summary="Outlook keeps asking for a password",
        psa_ticket_id="50117",
    )
    login_as(page, engineer)
    page.goto(live_server_url + "/")
    page.keyboard.press("Control+k")
    palette = page.get_by_test_id("palette")
    expect(palette).to_be_visible()
    expect(palette.get_by_test_id("palette-session")).to_have_count(2)
    expect(palette.get_by_test_id("palette-ticket").first).to_be_visible()

    palette.locator("[data-palette-input]").fill("#48213")
    expect(palette.get_by_test_id("palette-session").filter(visible=True)).to_have_count(1)
    expect(palette.get_by_test_id("palette-empty")).to_be_hidden()

    palette.locator("[data-palette-input]").fill("no such thing anywhere")
    expect(palette.get_by_test_id("palette-empty")).to_be_visible()
    expect(palette.get_by_test_id("palette-empty")).to_have_text("No matches")

    palette.locator("[data-palette-input]").fill("48213")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/sessions/{wanted.pk}")
