"""Browser: at laptop width a long problem summary keeps the session header compact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from sessions_app.models import AISession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = (
    "Outlook on the shared reception PC keeps asking for a password after the tenant moved to "
    "modern authentication and the credential manager entries were cleared twice already"
)


def test_the_header_stays_within_three_lines_at_1024px(
    page: Any, live_server_url: str, login_as: Callable[[Any, User], None], engineer: User
) -> None:
    session = AISession.objects.create(
        account=engineer.account, user=engineer, problem_summary=LONG, psa_ticket_id="48213"
    )
    page.set_viewport_size({"width": 1024, "height": 768})
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    head = page.locator(".chat-head").bounding_box()
    line = page.locator(".chat-head .row").first.bounding_box()
    assert head is not None and line is not None
    # Title at most two lines, the status/ticket/engineer line one: well under five lines.
    assert head["height"] <= 130, head
    assert line["height"] <= 30, line
