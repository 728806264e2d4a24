"""The Anthropic provider, driven through the real SDK against a local fake Messages API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from django.test import override_settings

from flowpilot.llm import (
    LLMClient,
    LLMError,
    LLMRateLimited,
    LLMRequest,
    LLMTimeout,
    LLMUnavailable,
    Message,
    get_llm_client,
)
from flowpilot.llm.testing import FakeMessagesServer, FakeReply


@pytest.fixture
def server() -> Iterator[FakeMessagesServer]:
    with FakeMessagesServer() as fake:
        yield fake


def _client(server: FakeMessagesServer, *, timeout: float = 5, retries: int = 2) -> LLMClient:
    return get_llm_client(
        provider="anthropic",
        api_key="sk-test",
        base_url=server.base_url,
        model_heavy="claude-heavy-test",
        model_light="claude-light-test",
        timeout=timeout,
        max_retries=retries,
    )


def _credential(headers: dict[str, str]) -> str:
    # SDK versions differ on the header that carries the key.
    return headers.get("x-api-key") or headers.get("authorization", "")


def _request(tier: str = "heavy", **overrides: object) -> LLMRequest:
    request = LLMRequest(
        purpose="chat",
        tier="heavy" if tier == "heavy" else "light",
        system="You are FlowPilot.",
        messages=[Message("user", "Outlook keeps prompting"), Message("assistant", "Since when?")]
        + [Message("user", "Since yesterday")],
    )
    for key, value in overrides.items():
        setattr(request, key, value)
    return request


def test_complete_returns_text_usage_and_model(server: FakeMessagesServer) -> None:
    """A non-streaming call returns the text, token usage and the tier's model."""
    server.enqueue(FakeReply(text="Check OWA first.", input_tokens=31, output_tokens=9))

    result = _client(server).complete(_request())

    assert result.text == "Check OWA first."
    assert (result.input_tokens, result.output_tokens) == (31, 9)
    assert result.model == "claude-heavy-test"
    assert result.provider == "anthropic"
    sent = server.requests[-1]
    assert sent.path == "/v1/messages"
    assert "sk-test" in _credential(sent.headers)
    assert sent.body["model"] == "claude-heavy-test"
    assert sent.body["system"] == "You are FlowPilot."
    assert [message["role"] for message in sent.body["messages"]] == [
        "user",
        "assistant",
        "user",
    ]


def test_light_tier_uses_the_light_model(server: FakeMessagesServer) -> None:
    """The light tier sends the light model."""
    result = _client(server).complete(_request(tier="light"))

    assert server.requests[-1].body["model"] == "claude-light-test"
    assert result.model == "claude-light-test"


def test_context_is_appended_to_the_system_prompt(server: FakeMessagesServer) -> None:
    """A request context travels as JSON in <context> tags; no messages → one user turn."""
    request = LLMRequest(
        purpose="resolution_note",
        tier="heavy",
        system="Write the note.",
        messages=[],
        context={"problem": "Printer offline", "facts": ["Only one printer"]},
    )

    _client(server).complete(request)

    body = server.requests[-1].body
    assert body["system"].startswith("Write the note.\n\n<context>")
    assert '"problem": "Printer offline"' in body["system"]
    assert body["messages"][0]["role"] == "user"


def test_stream_yields_deltas_then_result_with_usage(server: FakeMessagesServer) -> None:
    """Streaming yields each text delta in order and exposes the final usage afterwards."""
    server.enqueue(
        FakeReply(chunks=["Check ", "OWA ", "first."], input_tokens=40, output_tokens=12)
    )

    stream = _client(server).stream(_request())
    deltas = list(stream)

    assert deltas == ["Check ", "OWA ", "first."]
    assert stream.text == "Check OWA first."
    assert stream.result.text == "Check OWA first."
    assert (stream.result.input_tokens, stream.result.output_tokens) == (40, 12)
    assert stream.result.model == "claude-heavy-test"
    assert server.requests[-1].body["stream"] is True


def test_stream_result_is_unavailable_before_exhaustion(server: FakeMessagesServer) -> None:
    """Reading .result mid-stream is a programming error, not a silent empty result."""
    stream = _client(server).stream(_request())
    iterator = iter(stream)
    next(iterator)

    with pytest.raises(RuntimeError):
        _ = stream.result
    stream.close()


def test_rate_limit_is_retried_then_succeeds(server: FakeMessagesServer) -> None:
    """A 429 with retry-after is retried by the client and the next answer is returned."""
    server.enqueue(FakeReply(status=429, retry_after=0.01), FakeReply(text="Recovered"))

    result = _client(server).complete(_request())

    assert result.text == "Recovered"
    assert len(server.requests) == 2
    assert server.requests[1].headers["x-stainless-retry-count"] == "1"


def test_rate_limit_after_retries_raises_rate_limited(server: FakeMessagesServer) -> None:
    """429s that outlast the retries surface as LLMRateLimited."""
    server.default = FakeReply(status=429, retry_after=0.01)

    with pytest.raises(LLMRateLimited):
        _client(server, retries=1).complete(_request())
    assert len(server.requests) == 2


def test_slow_answer_raises_timeout(server: FakeMessagesServer) -> None:
    """A response slower than the timeout raises LLMTimeout quickly."""
    server.enqueue(FakeReply(delay=3))
    client = _client(server, timeout=0.3, retries=0)
    started = time.monotonic()

    with pytest.raises(LLMTimeout):
        client.complete(_request())
    assert time.monotonic() - started < 2.5


def test_per_request_timeout_overrides_the_client_timeout(server: FakeMessagesServer) -> None:
    """LLMRequest.timeout applies to that call only."""
    server.enqueue(FakeReply(delay=3))

    with pytest.raises(LLMTimeout):
        _client(server, timeout=30, retries=0).complete(_request(timeout=0.3))


def test_slow_stream_raises_timeout_from_iteration(server: FakeMessagesServer) -> None:
    """Streaming errors are raised while iterating, already mapped to LLMError types."""
    server.enqueue(FakeReply(delay=3))
    stream = _client(server, timeout=0.3, retries=0).stream(_request())

    with pytest.raises(LLMTimeout):
        list(stream)


def test_server_errors_raise_unavailable_after_retries(server: FakeMessagesServer) -> None:
    """Repeated 500s are retried and then raise LLMUnavailable."""
    server.default = FakeReply(status=500, retry_after=0.01)

    with pytest.raises(LLMUnavailable):
        _client(server, retries=2).complete(_request())
    assert len(server.requests) == 3


def test_streaming_server_errors_raise_unavailable(server: FakeMessagesServer) -> None:
    """A 529 overloaded answer to a streaming call raises LLMUnavailable."""
    server.default = FakeReply(status=529, retry_after=0.01)

    with pytest.raises(LLMUnavailable):
        list(_client(server, retries=1).stream(_request()))


def test_connection_refused_raises_unavailable() -> None:
    """Nothing listening on the port raises LLMUnavailable."""
    with FakeMessagesServer() as fake:
        base_url = fake.base_url
    client = get_llm_client(
        provider="anthropic",
        api_key="k",
        base_url=base_url,
        model_heavy="claude-heavy-test",
        max_retries=0,
    )

    with pytest.raises(LLMUnavailable):
        client.complete(_request())


def test_client_errors_raise_plain_llm_error(server: FakeMessagesServer) -> None:
    """A 400 is not retried and surfaces as the base LLMError."""
    server.enqueue(FakeReply(status=400))

    with pytest.raises(LLMError) as excinfo:
        _client(server).complete(_request())
    assert type(excinfo.value) is LLMError
    assert len(server.requests) == 1


def test_fact_synthesis_none_becomes_empty_text(server: FakeMessagesServer) -> None:
    """The prompt's NONE answer for fact synthesis is returned as an empty string."""
    server.enqueue(FakeReply(text="NONE"))

    result = _client(server).complete(_request(purpose="fact_synthesis", tier="light"))

    assert result.text == ""


def test_settings_choose_and_configure_the_provider(server: FakeMessagesServer) -> None:
    """get_llm_client reads the LLM settings at call time."""
    with override_settings(
        LLM_PROVIDER=None,
        ANTHROPIC_API_KEY="sk-from-settings",
        ANTHROPIC_BASE_URL=server.base_url,
        LLM_MODEL_HEAVY="claude-settings-heavy",
        LLM_MAX_RETRIES=0,
    ):
        client = get_llm_client()
        client.complete(_request())

    assert client.name == "anthropic"
    assert client.label == "Claude (Anthropic)"
    assert "sk-from-settings" in _credential(server.requests[-1].headers)
    assert server.requests[-1].body["model"] == "claude-settings-heavy"
