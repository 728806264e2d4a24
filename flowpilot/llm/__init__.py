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
"""

from flowpilot.llm.client import get_llm_client
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
