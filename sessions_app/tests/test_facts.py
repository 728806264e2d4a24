"""What we know: CRUD, editability, promote (text and synthesised), 422, state_version."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.errors import UpstreamError
from flowpilot.llm import LLMError, get_llm_client
from sessions_app.models import AISession, Fact, FactSource, TaskItem, TaskStatus
from sessions_app.services import facts
from sessions_app.tests.chat_support import scripted, start, use_client, version

pytestmark = pytest.mark.django_db
ApiFor = Callable[[User], APIClient]


def item(
    session: AISession, kind: str = "question", text: str = "Does webmail work?", answer: str = ""
) -> TaskItem:
    return TaskItem.objects.create(
        account_id=session.account_id, session=session, kind=kind, text=text, answer=answer
    )


def test_note_crud_bumps_state_version_each_time(engineer: User, api_client_for: ApiFor) -> None:
    """Create, edit and delete a note: each change +1; deleted facts disappear from the list."""
    session = start(engineer)
    client = api_client_for(engineer)
    base = f"/api/v1/ai-sessions/{session.pk}/facts"
    v0 = version(session)
    created = client.post(base, {"text": "User is on hotel Wi-Fi"}, format="json")
    assert created.status_code == 201 and created.json()["editable"] is True
    fid = created.json()["id"]
    assert version(session) == v0 + 1
    edited = client.patch(f"{base}/{fid}", {"text": "User is at home"}, format="json")
    assert edited.json()["text"] == "User is at home" and version(session) == v0 + 2
    assert client.delete(f"{base}/{fid}").status_code == 204
    assert version(session) == v0 + 3
    assert client.get(base).json()["results"] == []
    assert Fact.objects.get(pk=fid).deleted_at is not None
    assert client.patch(f"{base}/{fid}", {"text": "again"}, format="json").status_code == 404


def test_unchanged_edit_does_not_bump(engineer: User) -> None:
    """Saving the same text is a no-op."""
    session = start(engineer)
    fact = facts.add_note(session=session, user=engineer, text="Same")
    v1 = version(session)
    facts.update_fact(session=session, fact=fact, text="Same")
    assert version(session) == v1


def test_question_fact_is_not_directly_editable(engineer: User, api_client_for: ApiFor) -> None:
    """A fact from a question answers 403 with "edit the source"; nothing changes."""
    session = start(engineer)
    source = item(session)
    fact = Fact.objects.create(
        account=engineer.account, session=session, text="Webmail works.",
        source=FactSource.QUESTION, task_item=source,
    )  # fmt: skip
    response = api_client_for(engineer).patch(
        f"/api/v1/ai-sessions/{session.pk}/facts/{fact.pk}", {"text": "x"}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "edit_the_source"
    assert "edit its answer" in response.json()["detail"]
    fact.refresh_from_db()
    assert fact.text == "Webmail works."


def test_promote_with_text(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given text is stored as is; the item is done; no model call."""
    client_ai = scripted(monkeypatch)
    session = start(engineer)
    source = item(session)
    v0 = version(session)
    response = api_client_for(engineer).post(
        f"/api/v1/ai-sessions/{session.pk}/facts/promote",
        {"task_item_id": str(source.uid), "text": "Webmail works for the user."},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["text"] == "Webmail works for the user." and body["source"] == "question"
    assert body["editable"] is False and body["task_item_id"] == str(source.uid)
    source.refresh_from_db()
    assert source.status == TaskStatus.DONE and version(session) == v0 + 1
    assert client_ai.requests == []


def test_promote_synthesised_by_light_tier(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without text the light tier writes the fact from the item and its answer."""
    client_ai = scripted(monkeypatch, '"Outlook on the web works."')
    session = start(engineer)
    source = item(session, answer="yes, fine in the browser")
    response = api_client_for(engineer).post(
        f"/api/v1/ai-sessions/{session.pk}/facts/promote",
        {"task_item_id": str(source.uid)},
        format="json",
    )
    assert response.status_code == 201 and response.json()["text"] == "Outlook on the web works."
    request = client_ai.requests[0]
    assert request.purpose == "fact_synthesis" and request.tier == "light"
    assert request.context == {
        "kind": "question",
        "item": "Does webmail work?",
        "answer": "yes, fine in the browser",
    }


def test_promote_with_offline_synthesis(engineer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline assistant synthesises a fact from an answered question."""
    use_client(monkeypatch, get_llm_client(provider="offline"))
    session = start(engineer)
    source = item(session, answer="The user says it happens only in Outlook desktop")
    fact = facts.promote_item(session=session, user=engineer, item=source)
    assert fact.text and fact.source == FactSource.QUESTION


@pytest.mark.parametrize("reply", ["", "NONE", "none."])
def test_nothing_synthesised_is_422(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch, reply: str
) -> None:
    """An empty synthesis answers 422 and creates nothing."""
    scripted(monkeypatch, reply)
    session = start(engineer)
    source = item(session)
    v0 = version(session)
    response = api_client_for(engineer).post(
        f"/api/v1/ai-sessions/{session.pk}/facts/promote",
        {"task_item_id": str(source.uid)},
        format="json",
    )
    assert response.status_code == 422 and response.json()["code"] == "nothing_synthesised"
    assert not Fact.objects.exists() and version(session) == v0


def test_synthesis_failure_is_502(engineer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider failure during synthesis is an upstream error, nothing stored."""
    scripted(monkeypatch, error=LLMError("down"))
    session = start(engineer)
    with pytest.raises(UpstreamError):
        facts.promote_item(session=session, user=engineer, item=item(session, answer="yes"))
    assert not Fact.objects.exists()


def test_promoting_again_updates_the_same_fact(engineer: User) -> None:
    """Re-promoting an item edits its fact in place: the "edit the source" path."""
    session = start(engineer)
    source = item(session, kind="check", text="Ping Exchange")
    first = facts.promote_item(session=session, user=engineer, item=source, text="Reachable.")
    second = facts.promote_item(
        session=session, user=engineer, item=source, text="Reachable on 443."
    )
    assert first.pk == second.pk
    assert Fact.objects.get(pk=first.pk).text == "Reachable on 443."
    assert Fact.objects.filter(session=session).count() == 1


def test_promote_errors(
    engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
) -> None:
    """Unknown uid 404, action items 422, viewer 403, stranger 404; an empty note 400."""
    session = start(engineer)
    action = item(session, kind="action", text="Run the fix")
    url = f"/api/v1/ai-sessions/{session.pk}/facts/promote"
    client = api_client_for(engineer)
    missing = client.post(
        url, {"task_item_id": "00000000-0000-0000-0000-000000000000", "text": "x"}, format="json"
    )
    assert missing.status_code == 404
    assert (
        client.post(url, {"task_item_id": str(action.uid), "text": "x"}, format="json").status_code
        == 422
    )
    assert (
        api_client_for(viewer)
        .post(url, {"task_item_id": str(action.uid), "text": "x"}, format="json")
        .status_code
        == 403
    )
    assert (
        api_client_for(stranger)
        .post(url, {"task_item_id": str(action.uid), "text": "x"}, format="json")
        .status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/ai-sessions/{session.pk}/facts", {"text": ""}, format="json"
        ).status_code
        == 400
    )
    other = start(engineer, "Other session")
    foreign_item = item(other)
    assert (
        client.post(
            url, {"task_item_id": str(foreign_item.uid), "text": "x"}, format="json"
        ).status_code
        == 404
    )
    assert not Fact.objects.exists()


def test_fact_of_another_session_is_404(engineer: User, api_client_for: ApiFor) -> None:
    """A fact id from another session is not found through this session."""
    session = start(engineer)
    other = start(engineer, "Other")
    fact = facts.add_note(session=other, user=engineer, text="Elsewhere")
    client = api_client_for(engineer)
    assert (
        client.patch(
            f"/api/v1/ai-sessions/{session.pk}/facts/{fact.pk}", {"text": "x"}, format="json"
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/ai-sessions/{session.pk}/facts/{fact.pk}").status_code == 404
    fact.refresh_from_db()
    assert fact.deleted_at is None
