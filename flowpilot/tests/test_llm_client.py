"""Provider selection, prompt files, LLMStream and the ScriptedClient test double."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from flowpilot.llm import (
    PURPOSE_PROMPTS,
    PURPOSES,
    LLMClient,
    LLMRequest,
    LLMTimeout,
    LLMUnavailable,
    Message,
    get_llm_client,
    load_prompt,
    prompt_version,
)
from flowpilot.llm.testing import ScriptedClient


def _request() -> LLMRequest:
    return LLMRequest(purpose="chat", tier="light", system="s", messages=[Message("user", "hi")])


def test_without_a_key_the_default_provider_is_offline() -> None:
    """No LLM_PROVIDER and an empty key selects the offline assistant."""
    with override_settings(LLM_PROVIDER=None, ANTHROPIC_API_KEY=""):
        assert get_llm_client().name == "offline"


def test_explicit_offline_setting_wins_over_a_key() -> None:
    """LLM_PROVIDER=offline is honoured even when a key is configured."""
    with override_settings(LLM_PROVIDER="offline", ANTHROPIC_API_KEY="sk-x"):
        assert get_llm_client().name == "offline"


def test_anthropic_without_key_is_a_configuration_error() -> None:
    """Asking for Anthropic with no key fails loudly instead of calling the API."""
    with (
        override_settings(LLM_PROVIDER="anthropic", ANTHROPIC_API_KEY=""),
        pytest.raises(ImproperlyConfigured),
    ):
        get_llm_client()


def test_unknown_provider_is_a_configuration_error() -> None:
    """A typo in LLM_PROVIDER is reported."""
    with pytest.raises(ImproperlyConfigured, match="LLM_PROVIDER"):
        get_llm_client(provider="openai")


def test_clients_satisfy_the_protocol() -> None:
    """Both providers and the scripted double implement LLMClient."""
    anthropic = get_llm_client(provider="anthropic", api_key="k", base_url="http://127.0.0.1:9")
    for client in (get_llm_client(provider="offline"), anthropic, ScriptedClient()):
        assert isinstance(client, LLMClient)
        assert client.label


def test_every_purpose_has_a_prompt() -> None:
    """Each purpose maps to a prompt file."""
    assert set(PURPOSE_PROMPTS) == set(PURPOSES)


@pytest.mark.parametrize("name", sorted(PURPOSE_PROMPTS.values()))
def test_every_prompt_is_versioned(name: str) -> None:
    """Each prompt file exists and starts with a version line."""
    text = load_prompt(name)

    assert re.match(r"^<!-- version: \d+ -->\n", text)
    assert prompt_version(name) >= 1


def test_chat_prompt_documents_every_marker() -> None:
    """The chat prompt explains each marker with an example and when not to emit it."""
    text = load_prompt("chat_system")

    for marker in ("[TASKS]", "[PROMOTE]", "[SUGGEST_FIX]", "[FIX_OUTCOME]"):
        assert f"### `{marker}`" in text
        assert f"Example: `{marker}{{" in text
    assert text.count("Do NOT") >= 4


def test_document_prompts_name_their_exact_sections() -> None:
    """Resolution note and escalation package prompts list the required headings."""
    note = load_prompt("resolution_note")
    package = load_prompt("escalation_package")

    for heading in ("## Problem", "## What we confirmed", "## Root cause", "## Resolution"):
        assert heading in note
    for heading in (
        "## Problem",
        "## What we've confirmed",
        "## What we've tried",
        "## Current hypothesis",
        "## Suggested next steps",
    ):
        assert heading in package
    assert "pending verification: <pending_reason>" in note


def test_prompt_names_cannot_escape_the_prompt_folder() -> None:
    """Only plain prompt names are accepted."""
    with pytest.raises(ValueError):
        load_prompt("../settings")
    with pytest.raises(ValueError):
        load_prompt("missing_prompt")


def test_scripted_client_replays_queue_and_records_requests() -> None:
    """Queued texts come back in order; each request is recorded."""
    client = ScriptedClient(["first", "second"])

    assert client.complete(_request()).text == "first"
    assert client.complete(_request()).text == "second"
    assert len(client.requests) == 2
    with pytest.raises(AssertionError):
        client.complete(_request())


def test_scripted_client_streams_chunks_and_raises_queued_errors() -> None:
    """Streaming yields word groups; a queued LLMError is raised on its turn."""
    client = ScriptedClient(["one two three four five", LLMTimeout("slow")], chunk_size=2)

    stream = client.stream(_request())
    assert list(stream) == ["one two ", "three four ", "five"]
    assert stream.result.text == "one two three four five"
    with pytest.raises(LLMTimeout):
        list(client.stream(_request()))


def test_scripted_client_can_fail_mid_stream() -> None:
    """fail_after_chunks raises the configured error after that many chunks."""
    client = ScriptedClient(
        default="a b c d e f",
        chunk_size=1,
        fail_after_chunks=2,
        error_mid_stream=LLMUnavailable("gone"),
    )
    received: list[str] = []

    with pytest.raises(LLMUnavailable):
        for chunk in client.stream(_request()):
            received.append(chunk)
    assert received == ["a ", "b "]


def test_scripted_client_error_applies_to_every_call() -> None:
    """error= makes every call raise."""
    client = ScriptedClient(default="x", error=LLMUnavailable("down"))

    with pytest.raises(LLMUnavailable):
        client.complete(_request())


def test_stream_can_only_be_iterated_once() -> None:
    """A second iteration is a programming error."""
    stream = ScriptedClient(["a b"]).stream(_request())
    list(stream)

    with pytest.raises(RuntimeError):
        list(stream)
