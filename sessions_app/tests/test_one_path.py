"""
One path per action: the page and the API reach the same service for promote, new session,
preview and outcome, and a domain refusal is mapped to 404 / 403 / toast in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from sessions_app.models import SuggestedFix, TaskItem
from sessions_app.services import chat, fixes, lane, previews, sessions
from sessions_app.tests.chat_support import scripted, start, tasks

pytestmark = pytest.mark.django_db
ClientFor = Callable[[User], Client]
ApiFor = Callable[[User], APIClient]


def _question(monkeypatch: pytest.MonkeyPatch, engineer: User) -> TaskItem:
    client_ai = scripted(monkeypatch, tasks(["Does webmail work?"]))
    session = start(engineer)
    chat.run_reply(session=session, user_step=session.steps.get(), client=client_ai)
    item = TaskItem.objects.get(kind="question")
    item.answer = "Yes, webmail works"
    item.save(update_fields=["answer"])
    return item


@pytest.mark.parametrize("via", ["page", "api"])
def test_promote_saves_the_answer_only_when_it_changed_on_both_paths(
    via: str,
    engineer: User,
    client_for: ClientFor,
    api_client_for: ApiFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same rule on the page and the API: an unchanged answer is not re-saved."""
    item = _question(monkeypatch, engineer)
    session = item.session

    def promote(answer: str) -> int:
        if via == "page":
            url = f"/sessions/{session.pk}/lane/{item.uid}/promote"
            body = {"answer": answer, "text": "Webmail works."}
            return client_for(engineer).post(url, body, HTTP_HX_REQUEST="true").status_code
        url = f"/api/v1/ai-sessions/{session.pk}/facts/promote"
        body = {"task_item_id": str(item.uid), "answer": answer, "text": "Webmail works."}
        return api_client_for(engineer).post(url, body, format="json").status_code

    with mock.patch.object(
        lane, "update_item", autospec=True, side_effect=lane.update_item
    ) as saves:
        assert promote("  Yes, webmail works ") in (200, 201)
        assert saves.call_count == 0
        assert promote("Only on the phone") in (200, 201)
        assert saves.call_count == 1
    assert TaskItem.objects.get(pk=item.pk).answer == "Only on the phone"


def test_page_and_api_start_a_session_through_the_same_service(
    engineer: User, client_for: ClientFor, api_client_for: ApiFor
) -> None:
    with mock.patch.object(
        sessions, "start_session", autospec=True, side_effect=sessions.start_session
    ) as spy:
        client_for(engineer).post("/sessions/new", {"problem": "Printer offline"})
        api_client_for(engineer).post(
            "/api/v1/ai-sessions", {"problem": "Scanner offline"}, format="json"
        )
    assert [call.kwargs["answer"] for call in spy.call_args_list] == [False, True]


def test_page_and_api_read_previews_through_the_same_service(
    engineer: User, client_for: ClientFor, api_client_for: ApiFor
) -> None:
    session = start(engineer)
    with mock.patch.object(
        previews, "preview_for", autospec=True, side_effect=previews.preview_for
    ) as spy:
        page = client_for(engineer).post(
            f"/sessions/{session.pk}/preview/resolution", HTTP_HX_REQUEST="true"
        )
        api = api_client_for(engineer).post(
            f"/api/v1/ai-sessions/{session.pk}/resolution-note/preview", {}, format="json"
        )
    assert page.status_code == 200 and api.status_code == 200
    assert spy.call_count == 2
    # The second read is the cached one, whichever door it came through.
    assert api.json()["from_cache"] is True


def test_the_outcome_page_and_api_share_one_validator(
    engineer: User, client_for: ClientFor, api_client_for: ApiFor
) -> None:
    session = start(engineer)
    fix = SuggestedFix.objects.create(
        account_id=session.account_id, session=session, title="Reset the profile"
    )
    with mock.patch.object(
        fixes, "validate_outcome", autospec=True, side_effect=fixes.validate_outcome
    ) as spy:
        page = client_for(engineer).post(
            f"/sessions/{session.pk}/fix/{fix.pk}/outcome",
            {"outcome": "applied_partial", "notes": "", "dialog": "partial"},
            HTTP_HX_REQUEST="true",
        )
        api = api_client_for(engineer).patch(
            f"/api/v1/ai-sessions/{session.pk}/suggested-fixes/{fix.pk}/outcome",
            {"outcome": "applied_partial", "partial_notes": "x" * (fixes.TEXT_LIMIT + 1)},
            format="json",
        )
    # Each request validated once (the page no longer pre-checks before the service).
    assert spy.call_count == 2
    assert page.status_code == 200 and "Say what worked" in page.content.decode()
    assert api.status_code == 422 and "notes" in api.json()["errors"]


class TestOneErrorMapping:
    def test_page_404_for_a_missing_lane_item_and_403_for_a_viewer(
        self, engineer: User, viewer: User, client_for: ClientFor
    ) -> None:
        session = start(engineer)
        base = f"/sessions/{session.pk}"
        missing = client_for(engineer).post(f"{base}/lane/nope/promote", {"text": "x"})
        assert missing.status_code == 404
        refused = client_for(viewer).post(f"{base}/facts", {"text": "x"})
        assert refused.status_code == 403
