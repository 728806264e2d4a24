"""API: /ai-sessions list/create/detail/ticket, messages (one turn), retry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.llm import LLMTimeout
from sessions_app.models import AISession
from sessions_app.services import chat, steps
from sessions_app.tests.chat_support import OUTLOOK, scripted, start, tasks, version

pytestmark = pytest.mark.django_db
ApiFor = Callable[[User], APIClient]


def test_create_runs_the_first_turn(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST /ai-sessions creates the session and answers its first message."""
    scripted(monkeypatch, "Looks like Outlook.\n" + tasks(["Webmail?"]))
    response = api_client_for(engineer).post(
        "/api/v1/ai-sessions", {"problem": OUTLOOK, "psa_ticket_id": "4821"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["problem_summary"] == OUTLOOK and body["psa_ticket_id"] == "4821"
    assert body["turn"]["assistant_step"]["content"] == "Looks like Outlook."
    assert [item["text"] for item in body["lane"]] == ["Webmail?"]
    assert AISession.objects.get(pk=body["id"]).user == engineer


def test_create_with_provider_down_keeps_the_session(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed first reply still answers 201 with the error; retry then answers it."""
    scripted(monkeypatch, LLMTimeout("slow"), "Late answer.")
    client = api_client_for(engineer)
    body = client.post("/api/v1/ai-sessions", {"problem": "VPN drops"}, format="json").json()
    assert body["turn"] is None and body["reply_error"]["code"] == "llm_timeout"
    assert body["awaiting_reply"] is True
    retried = client.post(f"/api/v1/ai-sessions/{body['id']}/messages/retry")
    assert retried.status_code == 201
    assert retried.json()["assistant_step"]["content"] == "Late answer."
    again = client.post(f"/api/v1/ai-sessions/{body['id']}/messages/retry")
    assert again.status_code == 409 and again.json()["code"] == "nothing_to_retry"


def test_list_is_mine_and_picked_up(
    engineer: User, teammate: User, stranger: User, api_client_for: ApiFor
) -> None:
    """The list holds my sessions and those I picked up, never others'."""
    mine = start(engineer, "Mine")
    picked = start(teammate, "Picked")
    AISession.objects.filter(pk=picked.pk).update(escalated_to=engineer)
    start(teammate, "Theirs")
    start(stranger, "Foreign")
    ids = [
        row["id"] for row in api_client_for(engineer).get("/api/v1/ai-sessions").json()["results"]
    ]
    assert sorted(ids) == sorted([mine.pk, picked.pk])


def test_messages_turn_and_field_errors(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn answers step, lane and facts; empty or over-long content → 400 field error."""
    client_ai = scripted(monkeypatch, "Hi.", 'Noted.\n[PROMOTE]{"text": "Webmail works."}')
    session = start(engineer)
    chat.run_reply(session=session, user_step=session.steps.get(), client=client_ai)
    client = api_client_for(engineer)
    url = f"/api/v1/ai-sessions/{session.pk}/messages"
    response = client.post(url, {"content": "webmail works"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["assistant_step"]["content"] == "Noted."
    assert [fact["text"] for fact in body["facts"]] == ["Webmail works."]
    assert body["state_version"] == version(session)
    for content in ("", "x" * (steps.MESSAGE_LIMIT + 1)):
        bad = client.post(url, {"content": content}, format="json")
        assert bad.status_code == 400 and "content" in bad.json()
    assert session.steps.count() == 4


def test_message_timeout_is_502_with_saved_step(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model timing out answers 502 llm_timeout; the user step is saved."""
    scripted(monkeypatch, LLMTimeout("slow"))
    session = AISession.objects.create(account=engineer.account, user=engineer, problem_summary="x")
    response = api_client_for(engineer).post(
        f"/api/v1/ai-sessions/{session.pk}/messages", {"content": "hello"}, format="json"
    )
    assert response.status_code == 502 and response.json()["code"] == "llm_timeout"
    assert response.json()["user_step_id"] == session.steps.get().pk


def test_patch_links_ticket(engineer: User, api_client_for: ApiFor) -> None:
    """PATCH psa_ticket_id links the ticket and bumps state_version; junk → 422."""
    session = start(engineer)
    client = api_client_for(engineer)
    v0 = version(session)
    url = f"/api/v1/ai-sessions/{session.pk}"
    assert (
        client.patch(url, {"psa_ticket_id": "#77"}, format="json").json()["psa_ticket_id"] == "77"
    )
    assert version(session) == v0 + 1
    assert client.patch(url, {"psa_ticket_id": "no way"}, format="json").status_code == 422


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("get", "", None),
        ("patch", "", {"psa_ticket_id": "1"}),
        ("post", "/messages", {"content": "x"}),
        ("post", "/messages/retry", None),
        ("get", "/facts", None),
        ("post", "/facts", {"text": "x"}),
    ],
)
def test_foreign_session_is_404(
    engineer: User, stranger: User, api_client_for: ApiFor, method: str, suffix: str, payload: Any
) -> None:
    """Another account's session is not found on every endpoint."""
    session = start(engineer)
    response = getattr(api_client_for(stranger), method)(
        f"/api/v1/ai-sessions/{session.pk}{suffix}", payload, format="json"
    )
    assert response.status_code == 404
    assert session.steps.count() == 1


@pytest.mark.parametrize(
    ("suffix", "payload"),
    [("/messages", {"content": "x"}), ("/messages/retry", None), ("/facts", {"text": "x"})],
)
def test_viewer_writes_are_403(
    engineer: User, viewer: User, api_client_for: ApiFor, suffix: str, payload: Any
) -> None:
    """Viewers read but every write is 403 with the role message."""
    session = start(engineer)
    client = api_client_for(viewer)
    assert client.get(f"/api/v1/ai-sessions/{session.pk}").status_code == 200
    response = client.post(f"/api/v1/ai-sessions/{session.pk}{suffix}", payload, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Engineer or admin access required"
    create = client.post("/api/v1/ai-sessions", {"problem": "x"}, format="json")
    assert create.status_code == 403
    assert session.steps.count() == 1 and AISession.objects.count() == 1


@pytest.mark.django_db
def test_turn_body_matches_the_documented_serializers(engineer, api_client_for) -> None:
    """The hot-path dicts of a chat turn answer have exactly the serializers' shapes and values."""
    from sessions_app.api import serializers as s
    from sessions_app.models import AISessionStep, Fact, TaskItem

    client = api_client_for(engineer)
    created = client.post(
        "/api/v1/ai-sessions", {"problem": "Outlook keeps asking for a password"}, format="json"
    )
    assert created.status_code == 201, created.content
    session_id = created.json()["id"]
    client.post(
        f"/api/v1/ai-sessions/{session_id}/messages",
        {"content": "Only this user. Webmail works. Password changed yesterday."},
        format="json",
    )
    steps = list(AISessionStep.objects.filter(session_id=session_id))
    items = list(TaskItem.objects.filter(session_id=session_id))
    facts = list(Fact.objects.filter(session_id=session_id).select_related("task_item"))
    assert len(steps) >= 4 and items
    for step in steps:
        assert s._step_dict(step) == dict(s.StepSerializer(step).data)
    for item in items:
        assert s._task_dict(item) == dict(s.TaskItemSerializer(item).data)
    for fact in facts:
        assert s._fact_dict(fact) == dict(s.FactSerializer(fact).data)
