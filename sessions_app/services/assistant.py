"""
The assistant as the session pages name it. The model itself is reached through the LLM
layer's one choke point, ``flowpilot.llm.get_llm_client`` (tests patch
``flowpilot.llm.client.get_llm_client``).
"""

from __future__ import annotations

from flowpilot.llm import get_llm_client


def assistant_label() -> str:
    """The name of the active assistant, shown on the session pages."""
    try:
        return get_llm_client().label
    except Exception:  # a misconfigured provider must not take the page down
        return "Assistant unavailable"
