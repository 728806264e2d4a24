"""
Chat-turn query budget: the API turn and the streamed page turn cost a fixed number of queries,
the same at 5 and at 100 steps, and the shortcuts behind those numbers keep the turn's results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.llm import LLMResult
from flowpilot.llm.markers import format_marker
from sessions_app import views
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    StepRole,
    SuggestedFix,
    TaskItem,
    TaskStatus,
)
from sessions_app.services import chat
from sessions_app.tests.chat_support import scripted, start, tasks, version

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]

# A plain turn: auth (user, account), the session, the engineer's step (transaction: step,
# session touch), the prompt (steps, facts, lane, fix), the reply (transaction: lock and touch,
# answered-already check, step) and the answer (lane, facts). Institutional memory's past
# sessions for the prompt add up to 3 (the account's lexicon, typo corrections, candidates).
MEMORY_QUERIES = 3
PLAIN_TURN_QUERIES = 18 + MEMORY_QUERIES
# A turn that also rewrites the lane, promotes a fact and suggests a fix.
FULL_TURN_QUERIES = 30 + MEMORY_QUERIES
# The page's streamed turn after the model: store the reply, render the step and the lane.
PLAIN_FINISH_QUERIES = 8

QUESTION = "Does webmail work?"
CHECK = ("Test the port", "Test-NetConnection outlook.office365.com -Port 443")
PROMOTE = format_marker(
    "PROMOTE", {"text": "Webmail works for the user.", "source": "question", "ref": QUESTION}
)
FIX = format_marker(
    "SUGGEST_FIX",
    {"title": "Reset the Outlook profile", "confidence": 70, "script": "Remove-Item x"},
)
FULL_REPLY = "\n".join(
    ["Webmail works, so the mailbox is fine.", tasks([QUESTION], [CHECK]), PROMOTE, FIX]
)


def grow(session: AISession, user: User, steps: int) -> None:
    """
    Bring the session to ``steps`` steps, alternating assistant and engineer and ending with an
    assistant step; every engineer step has its reply (``reply_to``), so no turn has queued
    steps to answer first.
    """
    have = session.steps.count()
    count = steps - have
    rows = AISessionStep.objects.bulk_create(
        AISessionStep(
            account_id=user.account_id,
            session=session,
            role=StepRole.ASSISTANT if index % 2 == 0 or index == count - 1 else StepRole.USER,
            content=f"Earlier message {index}: checked the **cached credentials**.",
            author=None if index % 2 == 0 else user,
        )
        for index in range(count)
    )
    previous = session.steps.filter(pk__lt=rows[0].pk).order_by("-pk").first()
    for row in rows:
        if (
            row.role == StepRole.ASSISTANT
            and previous is not None
            and previous.role == StepRole.USER
            and not hasattr(previous, "reply")
        ):
            row.reply_to = previous
        previous = row
    AISessionStep.objects.bulk_update(rows, ["reply_to"])


def api_turn(client: APIClient, session: AISession, content: str) -> Any:
    response = client.post(
        f"/api/v1/ai-sessions/{session.pk}/messages", {"content": content}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def warm(client: APIClient, session: AISession) -> None:
    """One turn first, so one-off work (content types, URL maps) is not counted."""
    api_turn(client, session, "warming up")


QUERIES: dict[tuple[str, int], int] = {}


def record(kind: str, steps: int, count: int) -> None:
    QUERIES[(kind, steps)] = count
    if (kind, 5) in QUERIES and (kind, 100) in QUERIES:
        assert QUERIES[(kind, 5)] == QUERIES[(kind, 100)], QUERIES


@pytest.mark.parametrize("steps", [5, 100])
def test_plain_api_turn_query_count_is_pinned_and_flat(
    engineer: User,
    api_client_for: ApiFor,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Any,
    steps: int,
) -> None:
    """A plain API turn costs at most 18 queries, the same at 5 and at 100 steps."""
    scripted(monkeypatch, default="Thanks, noted.")
    session = start(engineer)
    grow(session, engineer, steps)
    client = api_client_for(engineer)
    warm(client, session)
    with django_assert_max_num_queries(PLAIN_TURN_QUERIES) as ctx:
        body = api_turn(client, session, "Only this user is affected.")
    assert body["assistant_step"]["content"] == "Thanks, noted."
    assert body["state_version"] == version(session)
    assert session.steps.count() == steps + 4
    record("plain", steps, len(ctx.captured_queries))


@pytest.mark.parametrize("steps", [5, 100])
def test_full_api_turn_query_count_is_pinned_and_flat(
    engineer: User,
    api_client_for: ApiFor,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Any,
    steps: int,
) -> None:
    """Lane, promotion and fix in one turn: at most 30 queries, the same at 5 and 100 steps."""
    scripted(monkeypatch, "Hello.", FULL_REPLY)
    session = start(engineer)
    grow(session, engineer, steps)
    client = api_client_for(engineer)
    warm(client, session)
    before = version(session)
    with django_assert_max_num_queries(FULL_TURN_QUERIES) as ctx:
        body = api_turn(client, session, "Webmail works in the browser.")
    # One bump for the facts, one for the fix, as before; the answer carries the stored value.
    assert version(session) == before + 2 == body["state_version"]
    lane = {item["text"]: item for item in body["lane"]}
    assert set(lane) == {QUESTION, CHECK[0]} and lane[QUESTION]["status"] == TaskStatus.DONE
    [fact] = body["facts"]
    assert fact["task_item_id"] == lane[QUESTION]["uid"]
    assert body["fix_id"] == SuggestedFix.objects.get(session=session).pk
    record("full", steps, len(ctx.captured_queries))


@pytest.mark.parametrize("steps", [5, 100])
def test_streamed_turn_finish_query_count_is_pinned_and_flat(
    engineer: User, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries: Any, steps: int
) -> None:
    """Storing a streamed reply and rendering step and lane costs at most 8 queries."""
    scripted(monkeypatch, "Hello.\n" + tasks([QUESTION]))
    session = start(engineer)
    chat.run_reply(session=session, user_step=session.steps.get(), fresh=True)
    grow(session, engineer, steps)
    request = RequestFactory().get(f"/sessions/{session.pk}")
    request.user = engineer
    for index in range(2):
        step = chat.add_user_step(session=session, user=engineer, content=f"Message {index}")
        result = LLMResult(f"Reply {index}.", 10, 5, "scripted-model", "scripted")
        with django_assert_max_num_queries(PLAIN_FINISH_QUERIES) as ctx:
            turn = chat.record_reply(session=session, user_step=step, result=result)
            payload = views._render_turn(request, session, turn)  # type: ignore[arg-type]
    assert f"Reply {index}." in payload["html"] and QUESTION in payload["lane_html"]
    assert payload["step_id"] == turn.assistant_step.pk
    record("finish", steps, len(ctx.captured_queries))


def test_reply_to_an_answered_step_returns_it_with_the_current_version(
    engineer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second reply to one step stores nothing and hands back the first, with state_version."""
    client = scripted(monkeypatch, "First answer.")
    session = start(engineer)
    step = session.steps.get()
    first = chat.run_reply(session=session, user_step=step, client=client, fresh=True)
    stale = AISession.objects.get(pk=session.pk)
    AISession.objects.filter(pk=session.pk).update(state_version=41)
    again = chat.record_reply(
        session=stale, user_step=step, result=LLMResult("Second answer.", 1, 1, "m", "p")
    )
    assert again.duplicate and again.assistant_step.pk == first.assistant_step.pk
    assert again.state_version == stale.state_version == 41
    assert session.steps.filter(role=StepRole.ASSISTANT).count() == 1


def test_turn_moves_updated_at_and_keeps_the_instance_in_step(
    engineer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reply moves the session's activity time; the instance holds the stored values."""
    client = scripted(monkeypatch, "Noted.\n" + PROMOTE)
    session = start(engineer)
    before = AISession.objects.get(pk=session.pk)
    turn = chat.run_reply(session=session, user_step=session.steps.get(), client=client)
    stored = AISession.objects.get(pk=session.pk)
    assert stored.updated_at > before.updated_at
    assert (session.state_version, session.updated_at) == (
        stored.state_version,
        stored.updated_at,
    )
    assert turn.state_version == stored.state_version == before.state_version + 1


def test_promotion_links_the_item_the_same_turn_listed(
    engineer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[TASKS] and [PROMOTE] in one reply: the fact points at the item that reply created."""
    client = scripted(monkeypatch, tasks([QUESTION]) + "\n" + PROMOTE)
    session = start(engineer)
    turn = chat.run_reply(session=session, user_step=session.steps.get(), client=client)
    item = TaskItem.objects.get(session=session)
    [fact] = turn.facts
    assert Fact.objects.get(pk=fact.pk).task_item_id == item.pk
    assert item.status == TaskStatus.DONE


def test_answer_names_the_item_of_a_fact_whose_item_left_the_lane(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fact promoted from an item the lane no longer shows still reports that item's uid."""
    scripted(monkeypatch, tasks([QUESTION]) + "\n" + PROMOTE, default="Okay.")
    session = start(engineer)
    chat.run_reply(session=session, user_step=session.steps.get(), fresh=True)
    item = TaskItem.objects.get(session=session)
    TaskItem.objects.filter(pk=item.pk).update(removed_at=item.created_at)
    body = api_turn(api_client_for(engineer), session, "Anything else?")
    assert body["lane"] == []
    assert [fact["task_item_id"] for fact in body["facts"]] == [str(item.uid)]
