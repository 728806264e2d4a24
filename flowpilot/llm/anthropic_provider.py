"""The Anthropic provider: the official SDK, a model per tier, retries and error mapping.

Retries on 408/409/429/5xx and connection errors are the SDK's own (exponential backoff that
honours ``retry-after``), configured through ``max_retries``. What is left after the retries is
mapped onto the ``LLMError`` hierarchy so callers never see SDK or httpx exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import anthropic
import httpx2

from flowpilot.llm.types import (
    LLMBadResponse,
    LLMError,
    LLMRateLimited,
    LLMRequest,
    LLMResult,
    LLMStream,
    LLMTimeout,
    LLMUnavailable,
    Tier,
)

PROVIDER_NAME = "anthropic"
NO_FACT = "NONE"


class AnthropicClient:
    name = PROVIDER_NAME
    label = "Claude (Anthropic)"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        model_heavy: str,
        model_light: str,
        timeout: float,
        max_retries: int,
    ) -> None:
        self.models: dict[Tier, str] = {"heavy": model_heavy, "light": model_light}
        self.timeout = timeout
        self._sdk = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )

    def complete(self, request: LLMRequest) -> LLMResult:
        try:
            message = self._sdk.messages.create(**self._params(request))
        except Exception as exc:
            raise map_error(exc) from exc
        text = "".join(block.text for block in message.content if block.type == "text")
        if message.stop_reason == "refusal" and not text:
            raise LLMBadResponse("The model declined to answer.")
        if request.purpose == "fact_synthesis" and text.strip().upper() == NO_FACT:
            # The prompt asks for NONE rather than an empty message, which models handle badly.
            text = ""
        return LLMResult(
            text=text,
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            model=message.model,
            provider=PROVIDER_NAME,
        )

    def stream(self, request: LLMRequest) -> LLMStream:
        return LLMStream(self._stream(request))

    def _stream(self, request: LLMRequest) -> Generator[str, None, LLMResult]:
        params = self._params(request)
        try:
            with self._sdk.messages.stream(**params) as stream:
                yield from stream.text_stream
                message = stream.get_final_message()
        except LLMError:
            raise
        except GeneratorExit:
            raise
        except Exception as exc:
            raise map_error(exc) from exc
        return LLMResult(
            text="".join(block.text for block in message.content if block.type == "text"),
            input_tokens=message.usage.input_tokens,
            output_tokens=message.usage.output_tokens,
            model=message.model,
            provider=PROVIDER_NAME,
        )

    def _params(self, request: LLMRequest) -> dict[str, Any]:
        messages: list[dict[str, str]] = [
            {"role": message.role, "content": message.content} for message in request.messages
        ]
        if not messages:
            # Document purposes send only context; the API needs at least one user turn.
            messages = [{"role": "user", "content": f"Write the {request.purpose} now."}]
        params: dict[str, Any] = {
            "model": self.models[request.tier],
            "max_tokens": request.max_tokens,
            "messages": messages,
        }
        system = render_system(request)
        if system:
            params["system"] = system
        if request.timeout is not None:
            params["timeout"] = request.timeout
        return params


def render_system(request: LLMRequest) -> str:
    """The system prompt with the request context appended as JSON in ``<context>`` tags."""
    system = request.system.strip()
    if not request.context:
        return system
    context = json.dumps(request.context, ensure_ascii=False, indent=2, default=str)
    return f"{system}\n\n<context>\n{context}\n</context>".strip()


def map_error(exc: BaseException) -> LLMError:
    """Translate an SDK or transport exception into the LLM layer's hierarchy."""
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
        return LLMTimeout("The model did not answer in time.")
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return LLMUnavailable("Could not reach the model provider.")
    if isinstance(exc, anthropic.APIStatusError):
        # Mid-stream SSE errors arrive on a 200 response, so the error type decides too.
        if isinstance(exc, anthropic.RateLimitError) or exc.type == "rate_limit_error":
            return LLMRateLimited(
                "The model provider is rate limiting requests; try again shortly."
            )
        if isinstance(exc, anthropic.RequestTimeoutError) or exc.type == "timeout_error":
            return LLMTimeout("The model did not answer in time.")
        if exc.status_code >= 500 or exc.type in ("api_error", "overloaded_error"):
            return LLMUnavailable(f"The model provider is unavailable (HTTP {exc.status_code}).")
        return LLMError(f"The model provider rejected the request (HTTP {exc.status_code}).")
    if isinstance(exc, anthropic.APIResponseValidationError | ValueError):
        return LLMBadResponse("The model provider sent a response that could not be read.")
    return LLMError(f"Unexpected model provider error: {type(exc).__name__}")
