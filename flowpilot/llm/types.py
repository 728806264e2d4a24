"""Value types, the client protocol and the error hierarchy of the LLM layer.

Nothing here touches Django or the network, so any module may import it cheaply.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Tier = Literal["heavy", "light"]
Purpose = Literal[
    "chat",
    "fact_synthesis",
    "resolution_note",
    "escalation_package",
    "handoff_assessment",
    "template_extraction",
]

PURPOSES: tuple[Purpose, ...] = (
    "chat",
    "fact_synthesis",
    "resolution_note",
    "escalation_package",
    "handoff_assessment",
    "template_extraction",
)


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass
class LLMRequest:
    """One call to a model.

    ``system`` is the instruction prompt (usually ``load_prompt(...)``). ``context`` carries the
    structured session data for the purpose (see ``flowpilot.llm.offline`` for the keys each
    purpose reads). The Anthropic provider appends a non-empty ``context`` to the system prompt
    as JSON inside ``<context>`` tags; the offline provider reads it directly.
    """

    purpose: Purpose
    tier: Tier
    system: str
    messages: list[Message]
    max_tokens: int = 1024
    timeout: float | None = None
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class LLMResult:
    text: str
    input_tokens: int
    output_tokens: int
    model: str
    provider: str


class LLMError(Exception):
    """Base class of every failure the LLM layer raises; callers catch this one."""


class LLMTimeout(LLMError):
    """The model did not answer within the timeout."""


class LLMRateLimited(LLMError):
    """The provider kept answering 429 after the configured retries."""


class LLMUnavailable(LLMError):
    """Connection failures or 5xx answers after the configured retries."""


class LLMBadResponse(LLMError):
    """The provider answered with something that cannot be used."""


class LLMStream:
    """An iterable of text deltas; after exhaustion ``result`` holds the ``LLMResult``.

    Wraps a generator that yields ``str`` deltas and *returns* the ``LLMResult``. Errors are
    raised from iteration (as ``LLMError`` subclasses), never from the provider's ``stream()``
    call itself, so callers need a single ``try`` around the loop. A stream can be iterated
    once; ``close()`` (or leaving a ``with`` block) abandons it and frees the connection.
    """

    def __init__(self, source: Generator[str, None, LLMResult]) -> None:
        self._source = source
        self._result: LLMResult | None = None
        self._started = False
        self._parts: list[str] = []

    def __iter__(self) -> Iterator[str]:
        if self._started:
            raise RuntimeError("An LLMStream can only be iterated once.")
        self._started = True
        self._result = yield from self._collect()

    def _collect(self) -> Generator[str, None, LLMResult]:
        source = self._source
        while True:
            try:
                delta = next(source)
            except StopIteration as stop:
                result: LLMResult = stop.value
                return result
            self._parts.append(delta)
            yield delta

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    @property
    def done(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> LLMResult:
        if self._result is None:
            raise RuntimeError("LLMStream.result is only available after the stream is exhausted.")
        return self._result

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> LLMStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@runtime_checkable
class LLMClient(Protocol):
    name: str
    label: str

    def complete(self, request: LLMRequest) -> LLMResult: ...

    def stream(self, request: LLMRequest) -> LLMStream: ...


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters per token), never below 1 for non-empty text."""
    if not text:
        return 0
    return max(1, (len(text) + 3) // 4)
