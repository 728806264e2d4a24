"""
Chat turns on one session are serialised by the session's turn lease: a message sent while a
reply is being written is refused with 409 ``reply_in_progress`` (nothing saved), and every
stored reply records the engineer's step it answers.
"""

from __future__ import annotations

import json
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


def lease(session: AISession) -> tuple[str, Any]:
    return AISession.objects.values_list("turn_owner", "turn_lease_until").get(pk=session.pk)


def conversation(session: AISession) -> list[AISessionStep]:
    return list(AISessionStep.objects.filter(session=session).order_by("pk"))


@pytest.mark.django_db
class TestTurnLease:
    def test_a_message_while_a_reply_is_written_is_refused_and_not_saved(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        """The API answers 409 reply_in_progress with the JSON error body; no step is stored."""
        session = start(engineer)
        chat.add_user_step(session=session, user=engineer, content="First, streaming")
        before = session.steps.count()
        response = api_client_for(engineer).post(
            f"/api/v1/ai-sessions/{session.pk}/messages", {"content": "Second"}, format="json"
        )
        assert response.status_code == 409
        assert response.json()["code"] == "reply_in_progress"
        assert "reply is being written" in response.json()["detail"]
        assert session.steps.count() == before

    def test_page_send_while_busy_is_a_toast_and_no_swap(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """HTMX: a 409 (the composer keeps its text), a toast, no swap, nothing saved."""
        session = start(engineer)
        chat.add_user_step(session=session, user=engineer, content="First, streaming")
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/messages", {"content": "Second"}, **HX
        )
        assert response.status_code == 409
        assert response["HX-Reswap"] == "none"
        toast = json.loads(response["HX-Trigger"])["toast"]
        assert "reply is being written" in toast["message"]
        assert not session.steps.filter(content="Second").exists()

    def test_the_stream_takes_over_the_lease_and_gives_it_back(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Posting leaves the lease to the step's stream; the stored reply frees the session."""
        scripted(monkeypatch, "Noted.")
        session = start(engineer)
        client = client_for(engineer)
        client.post(f"/sessions/{session.pk}/messages", {"content": "Webmail works"}, **HX)
        step = session.steps.get(content="Webmail works")
        assert lease(session)[0] == f"step:{step.pk}"
        events = stream(client, session, step)
        assert [name for name, _ in events][-1] == "done"
        assert lease(session) == ("", None)
        reply = AISessionStep.objects.get(session=session, role=StepRole.ASSISTANT)
        assert reply.reply_to_id == step.pk
        response = client.post(f"/sessions/{session.pk}/messages", {"content": "Next"}, **HX)
        assert response.status_code == 200

    def test_a_second_stream_of_a_step_being_answered_fails_cleanly(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Another tab re-opening the stream gets a 'fail' event, and the lease stays put."""
        scripted(monkeypatch, "Noted.")
        session = start(engineer)
        step = chat.add_user_step(session=session, user=engineer, content="Webmail works")
        chat.claim_turn(session=session, user_step=step)  # the first stream is running
        events = stream(client_for(engineer), session, step)
        assert events == [("fail", {"message": chat.BUSY_MESSAGE, "code": "reply_in_progress"})]
        assert lease(session)[0] == f"reply:{step.pk}"

    def test_a_failed_reply_frees_the_session_and_retry_answers_that_step(
        self, engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        session = start(engineer)
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
        session = start(engineer)
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
        session = start(engineer)
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
def test_twenty_concurrent_messages_are_answered_one_at_a_time(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    20 threads send a message each to one session at once, retrying while refused. Every
    message is stored once and answered once, by its own reply, with no two turns interleaved:
    the model always saw the previous turn's reply, and a refusal stored nothing.
    """
    assert connection.vendor == "postgresql"
    session = start(engineer)
    echo = use_client(monkeypatch, EchoClient(pause=0.05))
    chat.run_reply(session=session, user_step=session.steps.get(), client=echo)
    tokens = [api_client_for(engineer) for _ in range(TURNS)]
    barrier = threading.Barrier(TURNS)
    refusals: list[dict[str, Any]] = []
    accepted: dict[int, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            barrier.wait(10)
            for _ in range(400):
                response = tokens[index].post(
                    f"/api/v1/ai-sessions/{session.pk}/messages",
                    {"content": f"message {index}"},
                    format="json",
                )
                if response.status_code == 201:
                    accepted[index] = response.json()
                    return
                assert response.status_code == 409, response.content
                refusals.append(response.json())
                time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(index,)) for index in range(TURNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert sorted(accepted) == list(range(TURNS))
    assert refusals, "the turns never overlapped: the test proves nothing"
    assert {refusal["code"] for refusal in refusals} == {"reply_in_progress"}

    steps = conversation(session)[2:]  # after the first question and its answer
    assert len(steps) == 2 * TURNS
    for user_step, reply in zip(steps[::2], steps[1::2], strict=True):
        assert user_step.role == StepRole.USER and reply.role == StepRole.ASSISTANT
        assert reply.reply_to_id == user_step.pk
        assert reply.content == f"Answer to <{user_step.content}>"
        body = accepted[int(user_step.content.removeprefix("message "))]
        assert body["user_step"]["id"] == user_step.pk
        assert body["assistant_step"]["id"] == reply.pk
        assert body["assistant_step"]["reply_to"] == user_step.pk
        assert body.get("duplicate") in (None, False)
    # Each prompt ended with the previous turn's reply, then this turn's message.
    prompts = echo.requests[1:]
    assert len(prompts) == TURNS
    everything = conversation(session)
    for index, request in enumerate(prompts):
        previous, user_step = everything[1 + 2 * index], everything[2 + 2 * index]
        assert request.messages[-2].content == previous.content
        assert request.messages[-1].content == user_step.content
    assert lease(session) == ("", None)
