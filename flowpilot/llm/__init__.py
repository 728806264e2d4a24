"""FlowPilot's LLM layer: one client interface, two providers (Anthropic and offline).

Typical use::

    from flowpilot.llm import LLMRequest, Message, get_llm_client, load_prompt

    client = get_llm_client()
    result = client.complete(
        LLMRequest(
            purpose="resolution_note",
            tier="heavy",
            system=load_prompt("resolution_note"),
            messages=[],
            context=bundle,
        )
    )

The context keys each purpose reads are documented in ``flowpilot.llm.offline``; marker
formats in ``flowpilot.llm.markers``; test doubles live in ``flowpilot.llm.testing``.

**One choke point.** Every model call in the product gets its client from
``flowpilot.llm.client.get_llm_client``; ``get_llm_client`` here looks it up at call time, so
a test replaces the model everywhere with one patch::

    mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=fake)
"""

from typing import Any

from flowpilot.llm import client as _client
from flowpilot.llm.loader import PURPOSE_PROMPTS, load_prompt, prompt_for, prompt_version
from flowpilot.llm.types import (
    PURPOSES,
    LLMBadResponse,
    LLMClient,
    LLMError,
    LLMRateLimited,
    LLMRequest,
    LLMResult,
    LLMStream,
    LLMTimeout,
    LLMUnavailable,
    Message,
    Purpose,
    Tier,
    estimate_tokens,
)


def get_llm_client(**options: Any) -> LLMClient:
    """The configured client (see ``flowpilot.llm.client.get_llm_client``, the choke point)."""
    return _client.get_llm_client(**options)


__all__ = [
    "PURPOSES",
    "PURPOSE_PROMPTS",
    "LLMBadResponse",
    "LLMClient",
    "LLMError",
    "LLMRateLimited",
    "LLMRequest",
    "LLMResult",
    "LLMStream",
    "LLMTimeout",
    "LLMUnavailable",
    "Message",
    "Purpose",
    "Tier",
    "estimate_tokens",
    "get_llm_client",
    "load_prompt",
    "prompt_for",
    "prompt_version",
]
