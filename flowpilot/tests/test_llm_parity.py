"""Parity of the two providers: the chat system prompt carries the offline assistant's rules,
and the dialogue set played through the real Anthropic SDK against the fake Messages API
(with the offline replies scripted) yields the same facts, lane, fix and outcomes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from flowpilot.llm import LLMClient, LLMRequest, LLMResult, LLMStream, get_llm_client, prompt_for
from flowpilot.llm.offline import OfflineClient
from flowpilot.llm.offline.playback import Dialogue, load_dialogues, play
from flowpilot.llm.testing import FakeMessagesServer, FakeReply

DIALOGUES = load_dialogues()


class RecordingClient:
    """The offline provider, keeping every raw reply (markers included) it gave."""

    name = "recording"
    label = "Recording offline assistant"

    def __init__(self) -> None:
        self.inner = OfflineClient()
        self.texts: list[str] = []

    def complete(self, request: LLMRequest) -> LLMResult:
        result = self.inner.complete(request)
        self.texts.append(result.text)
        return result

    def stream(self, request: LLMRequest) -> LLMStream:
        raise NotImplementedError


@pytest.fixture(scope="module")
def server() -> Iterator[FakeMessagesServer]:
    with FakeMessagesServer() as fake:
        yield fake


def _anthropic(server: FakeMessagesServer) -> LLMClient:
    return get_llm_client(
        provider="anthropic",
        api_key="sk-test",
        base_url=server.base_url,
        model_heavy="claude-heavy-test",
        model_light="claude-light-test",
        timeout=5,
        max_retries=0,
    )


@pytest.mark.parametrize(
    "rule",
    [
        "Record only what the engineer said",
        "Never record\n   an option listed in a question",
        "never suggest the same fix again",
        "name the next most\n   likely cause",
        "naming the evidence",
        "it's broken\n   again",
        "not on the hotspot either",
        "`cause_boosts`",
        "no internal titles or ids",
    ],
)
def test_the_chat_prompt_carries_the_offline_rules(rule: str) -> None:
    """The Anthropic path is told the same rules the offline assistant follows."""
    assert rule in prompt_for("chat")


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=lambda dialogue: dialogue.id)
def test_a_dialogue_through_the_messages_api_reaches_the_same_state(
    dialogue: Dialogue, server: FakeMessagesServer
) -> None:
    """Scripted with the offline replies, the SDK path produces identical session state and
    therefore the same figures (understood, invented, right fix, recovery)."""
    recorder = RecordingClient()
    offline = play(dialogue, recorder)
    server.enqueue(*(FakeReply(text=text) for text in recorder.texts))
    before = len(server.requests)

    claude = play(dialogue, _anthropic(server), system=prompt_for("chat"))

    assert claude.player.facts == offline.player.facts
    assert (claude.player.questions, claude.player.checks) == (
        offline.player.questions,
        offline.player.checks,
    )
    assert claude.player.active_fix == offline.player.active_fix
    assert [r.reply.outcome for r in claude.player.records] == [
        r.reply.outcome for r in offline.player.records
    ]
    assert (claude.understood, claude.invented, claude.right_fix, claude.recovered) == (
        offline.understood,
        offline.invented,
        offline.right_fix,
        offline.recovered,
    )
    requests = server.requests[before:]
    assert len(requests) == len(dialogue.turns)
    last = requests[-1].body
    system = last["system"] if isinstance(last["system"], str) else json.dumps(last["system"])
    assert "Record only what the engineer said" in system
    assert "<context>" in system and dialogue.problem.replace('"', '\\"')[:30] in system
    assert [message["role"] for message in last["messages"]][-1] == "user"
