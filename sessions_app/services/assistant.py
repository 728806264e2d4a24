"""
The one place the sessions app obtains its LLM client. Tests replace ``llm_client`` (a choke
point) instead of patching the SDK or settings.
"""

from __future__ import annotations

from flowpilot.llm import LLMClient, get_llm_client


def llm_client() -> LLMClient:
    return get_llm_client()


def assistant_label() -> str:
    """The name of the active assistant, shown on the session pages."""
    try:
        return llm_client().label
    except Exception:  # a misconfigured provider must not take the page down
        return "Assistant unavailable"
