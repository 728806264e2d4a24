"""
Chat turns on one session are serialised by the session's turn lease, and every message gets its
own reply: a message sent while a reply is being written is saved and queued, the lease holder
answers the oldest unanswered step first, and every stored reply records the step it answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.llm import LLMError, LLMRequest, LLMResult
from flowpilot.llm.testing import ScriptedClient
from sessions_app import selectors
from sessions_app.models import AISession, AISessionStep, StepRole
from sessions_app.services import chat
from sessions_app.tests.chat_support import scripted, start, use_client
from sessions_app.tests.test_sessions_pages import stream

ApiFor = Callable[[User], APIClient]
ClientFor = Callable[[User], Client]
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


class EchoClient:
    """Answers the last engineer message after a pause (long enough for turns to overlap)."""

    name = "echo"
    label = "Echo"

    def __init__(self, pause: float = 0.0) -> None:
        self.pause = pause
        self.requests: list[LLMRequest] = []
        self._lock = threading.Lock()

    def complete(self, request: LLMRequest) -> LLMResult:
        with self._lock:
            self.requests.append(request)
        time.sleep(self.pause)
        return LLMResult(f"Answer to <{request.messages[-1].content}>", 10, 5, "echo-1", "echo")

    def stream(self, request: LLMRequest) -> Any:  # pragma: no cover - the API turn only
        raise NotImplementedError


def answered(user: User) -> AISession:
    """A session whose first message (the problem) already has its reply."""
    session = start(user)
    chat.run_reply(session=session, user_step=session.steps.get(), client=ScriptedClient(["Hi."]))
    return session


def lease(session: AISession) -> tuple[str, Any]:
    return AISession.objects.values_list("turn_owner", "turn_lease_until").get(pk=session.pk)


def conversation(session: AISession) -> list[AISessionStep]:
    return list(AISessionStep.objects.filter(session=session).order_by("pk"))


@pytest.mark.django_db
class TestTurnLease:
    def test_a_message_while_a_reply_is_written_is_saved_and_queued(
        self, engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Never refused for being busy: the step is stored; when the reply ahead outlasts the wait
        the API answers 202 ``queued`` with the step, and a retry later answers it.
        """
        monkeypatch.setattr(chat, "queue_wait_seconds", lambda: 0.2)
        scripted(monkeypatch, "Answer to the first.", "Answer to the second.")
        session = answered(engineer)
        first = chat.add_user_step(session=session, user=engineer, content="First, streaming")
        api = api_client_for(engineer)
        response = api.post(
            f"/api/v1/ai-sessions/{session.pk}/messages", {"content": "Second"}, format="json"
        )
        assert response.status_code == 202, response.content
        body = response.json()
        second = session.steps.get(content="Second")
        assert body["queued"] is True and body["reply"] is None and body["code"] == "queued"
        assert body["user_step"]["id"] == second.pk
        assert lease(session)[0] == f"step:{first.pk}"  # the stream ahead still holds it
        AISession.objects.filter(pk=session.pk).update(turn_owner="", turn_lease_until=None)
        # The retry answers the oldest unanswered step first: the session's own first message.
        order = []
        for _ in range(2):
            retried = api.post(f"/api/v1/ai-sessions/{session.pk}/messages/retry")
            assert retried.status_code == 201
            order.append(retried.json()["user_step"]["id"])
        assert order == [first.pk, second.pk]
        assert api.post(f"/api/v1/ai-sessions/{session.pk}/messages/retry").status_code == 409

    def test_page_send_while_a_reply_streams_is_saved_with_its_own_stream(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """HTMX: the message is stored and swapped in with its own (waiting) reply stream."""
        session = answered(engineer)
        chat.add_user_step(session=session, user=engineer, content="First, streaming")
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/messages", {"content": "Second"}, **HX
        )
        assert response.status_code == 200
        second = session.steps.get(content="Second")
        html = response.content.decode()
        assert "Second" in html
        assert f"/sessions/{session.pk}/steps/{second.pk}/stream" in html

    def test_a_second_message_during_a_stream_is_answered_after_it(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Posted while the first reply streams, the second message is stored, its stream waits
        for the first reply, and its reply follows that one, with it in the prompt.
        """
        client_ai = scripted(monkeypatch, "Reply one.", "Reply two.")
        session = answered(engineer)
        client = client_for(engineer)
        client.post(f"/sessions/{session.pk}/messages", {"content": "One"}, **HX)
        client.post(f"/sessions/{session.pk}/messages", {"content": "Two"}, **HX)
        one, two = session.steps.get(content="One"), session.steps.get(content="Two")
        assert lease(session)[0] == f"step:{one.pk}"
        assert [name for name, _ in stream(client, session, one)][-1] == "done"
        assert [name for name, _ in stream(client, session, two)][-1] == "done"
        reply_one = AISessionStep.objects.get(content="Reply one.")
        reply_two = AISessionStep.objects.get(content="Reply two.")
        assert (reply_one.reply_to_id, reply_two.reply_to_id) == (one.pk, two.pk)
        assert one.pk < two.pk < reply_one.pk < reply_two.pk
        last_prompt = [message.content for message in client_ai.requests[-1].messages]
        assert last_prompt[-3:] == ["One", "Reply one.", "Two"]
        assert lease(session) == ("", None)
        # The page reads as the conversation went: each reply under its message.
        order = [step.pk for step in selectors.recent_steps(session)[0]]
        assert order[-4:] == [one.pk, reply_one.pk, two.pk, reply_two.pk]

    def test_a_stream_waits_for_an_earlier_unanswered_message_and_answers_it_first(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The first message's stream never opened: the second's turn answers both, in order."""
        scripted(monkeypatch, "Reply one.", "Reply two.")
        session = answered(engineer)
        one = chat.add_user_step(session=session, user=engineer, content="One")
        AISession.objects.filter(pk=session.pk).update(turn_owner="", turn_lease_until=None)
        two = chat.add_user_step(session=session, user=engineer, content="Two")
        events = stream(client_for(engineer), session, two)
        assert [name for name, _ in events][-1] == "done"
        assert AISessionStep.objects.get(content="Reply one.").reply_to_id == one.pk
        assert AISessionStep.objects.get(content="Reply two.").reply_to_id == two.pk

    def test_the_stream_takes_over_the_lease_and_gives_it_back(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Posting leaves the lease to the step's stream; the stored reply frees the session."""
        scripted(monkeypatch, "Noted.")
        session = answered(engineer)
        client = client_for(engineer)
        client.post(f"/sessions/{session.pk}/messages", {"content": "Webmail works"}, **HX)
        step = session.steps.get(content="Webmail works")
        assert lease(session)[0] == f"step:{step.pk}"
        events = stream(client, session, step)
        assert [name for name, _ in events][-1] == "done"
        assert lease(session) == ("", None)
        reply = AISessionStep.objects.get(session=session, content="Noted.")
        assert reply.reply_to_id == step.pk
        response = client.post(f"/sessions/{session.pk}/messages", {"content": "Next"}, **HX)
        assert response.status_code == 200

    def test_a_second_stream_of_a_step_being_answered_waits_queued(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Another tab re-opening the stream is told it is queued, and the lease stays put."""
        monkeypatch.setattr(chat, "queue_wait_seconds", lambda: 0.3)
        scripted(monkeypatch, "Noted.")
        session = answered(engineer)
        step = chat.add_user_step(session=session, user=engineer, content="Webmail works")
        assert chat.claim_turn(session=session, user_step=step)  # the first stream is running
        events = stream(client_for(engineer), session, step)
        assert events[0] == ("queued", {"message": chat.QUEUED_MESSAGE})
        assert events[-1] == ("fail", {"message": chat.QUEUED_MESSAGE, "code": "queued"})
        assert lease(session)[0] == f"reply:{step.pk}"

    def test_a_failed_reply_frees_the_session_and_retry_answers_that_step(
        self, engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        session = answered(engineer)
        api = api_client_for(engineer)
        scripted(monkeypatch, LLMError("down"))
        first = api.post(
            f"/api/v1/ai-sessions/{session.pk}/messages", {"content": "Hello"}, format="json"
        )
        assert first.status_code == 502
        assert lease(session) == ("", None)
        scripted(monkeypatch, "Back again.")
        retried = api.post(f"/api/v1/ai-sessions/{session.pk}/messages/retry")
        assert retried.status_code == 201
        hello = session.steps.get(content="Hello")
        assert AISessionStep.objects.get(content="Back again.").reply_to_id == hello.pk
        assert lease(session) == ("", None)

    def test_an_expired_lease_is_free_again(self, engineer: User) -> None:
        """A turn whose process died leaves a lease that runs out instead of blocking forever."""
        session = answered(engineer)
        chat.add_user_step(session=session, user=engineer, content="Lost stream")
        AISession.objects.filter(pk=session.pk).update(
            turn_lease_until=timezone.now() - timedelta(seconds=1)
        )
        step = chat.add_user_step(session=session, user=engineer, content="Anyone there?")
        assert lease(session)[0] == f"step:{step.pk}"

    def test_the_lease_outlasts_every_attempt_of_the_model_call(
        self, settings: Any, engineer: User
    ) -> None:
        settings.LLM_TIMEOUT_SECONDS = 60
        settings.LLM_MAX_RETRIES = 2
        assert chat.turn_lease_seconds() == 210
        session = answered(engineer)
        chat.add_user_step(session=session, user=engineer, content="Hi")
        until = lease(session)[1]
        assert timedelta(seconds=200) < until - timezone.now() <= timedelta(seconds=210)

    def test_a_reply_records_the_step_it_answers(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        client = use_client(monkeypatch, ScriptedClient(["One.", "Two."]))
        session = start(engineer)
        first = chat.run_reply(session=session, user_step=session.steps.get(), client=client)
        second = chat.send_message(session=session, user=engineer, content="And then?")
        assert first.assistant_step.reply_to_id == first.user_step.pk
        assert second.assistant_step.reply_to_id == second.user_step.pk
        assert second.user_step.content == "And then?"


TURNS = 20


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_messages_each_get_their_own_reply_in_order(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    20 threads send a message each to one session at once. None is refused: every message is
    stored once and answered once, by its own reply (``reply_to``), replies are stored in
    message order, each API call returns the reply to its own message, and no two turns
    interleaved: each prompt ended with the previous message's reply, then this message.
    """
    assert connection.vendor == "postgresql"
    session = start(engineer)
    echo = use_client(monkeypatch, EchoClient(pause=0.05))
    chat.run_reply(session=session, user_step=session.steps.get(), client=echo)
    tokens = [api_client_for(engineer) for _ in range(TURNS)]
    barrier = threading.Barrier(TURNS)
    accepted: dict[int, dict[str, Any]] = {}
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            barrier.wait(10)
            response = tokens[index].post(
                f"/api/v1/ai-sessions/{session.pk}/messages",
                {"content": f"message {index}"},
                format="json",
            )
            statuses.append(response.status_code)
            accepted[index] = response.json()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(TURNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert statuses == [201] * TURNS
    assert sorted(accepted) == list(range(TURNS))

    steps = conversation(session)[2:]  # after the first question and its answer
    assert len(steps) == 2 * TURNS
    questions = [step for step in steps if step.role == StepRole.USER]
    replies = [step for step in steps if step.role == StepRole.ASSISTANT]
    assert len(questions) == len(replies) == TURNS
    # Replies stored in message order, each to its own message, with its own text.
    assert [reply.reply_to_id for reply in replies] == [question.pk for question in questions]
    for question, reply in zip(questions, replies, strict=True):
        assert reply.content == f"Answer to <{question.content}>"
        body = accepted[int(question.content.removeprefix("message "))]
        assert body["user_step"]["id"] == question.pk
        assert body["assistant_step"]["id"] == reply.pk
        assert body["assistant_step"]["reply_to"] == question.pk
    # Each prompt ended with the previous message's reply, then this turn's message.
    prompts = echo.requests[1:]
    assert len(prompts) == TURNS
    first_reply = conversation(session)[1]
    previous = [first_reply, *replies[:-1]]
    for request, before, question in zip(prompts, previous, questions, strict=True):
        assert request.messages[-2].content == before.content
        assert request.messages[-1].content == question.content
    assert lease(session) == ("", None)
