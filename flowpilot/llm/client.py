"""Choose and build the configured ``LLMClient``.

Settings are read when ``get_llm_client`` is called, never at import, so ``override_settings``
works and importing this module stays cheap (the Anthropic SDK is imported only when needed).
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from flowpilot.llm.types import LLMClient

PROVIDERS = ("anthropic", "offline")
DEFAULT_MODEL_HEAVY = "claude-sonnet-4-6"
DEFAULT_MODEL_LIGHT = "claude-haiku-4-5"
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_RETRIES = 2


def _setting(name: str, default: Any) -> Any:
    # Pure-Python callers (scripts, DB-free tests) may run without configured settings; the
    # documented defaults apply then.
    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        return default


def get_llm_client(
    *,
    provider: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    model_heavy: str | None = None,
    model_light: str | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
) -> LLMClient:
    """The client for ``LLM_PROVIDER`` (default: Anthropic when a key is set, else offline).

    Keyword arguments override the matching settings, so tests can build a provider without
    touching settings.
    """
    key = api_key if api_key is not None else (_setting("ANTHROPIC_API_KEY", "") or "")
    chosen = provider or _setting("LLM_PROVIDER", None) or ("anthropic" if key else "offline")
    if chosen == "offline":
        return _offline_client()
    if chosen != "anthropic":
        raise ImproperlyConfigured(
            f"LLM_PROVIDER must be one of {', '.join(PROVIDERS)}, not {chosen!r}."
        )
    if not key:
        raise ImproperlyConfigured("LLM_PROVIDER is 'anthropic' but ANTHROPIC_API_KEY is empty.")
    return _anthropic_client(
        api_key=key,
        base_url=base_url if base_url is not None else _setting("ANTHROPIC_BASE_URL", None),
        model_heavy=model_heavy or _setting("LLM_MODEL_HEAVY", DEFAULT_MODEL_HEAVY),
        model_light=model_light or _setting("LLM_MODEL_LIGHT", DEFAULT_MODEL_LIGHT),
        timeout=float(
            timeout
            if timeout is not None
            else _setting("LLM_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        ),
        max_retries=int(
            max_retries
            if max_retries is not None
            else _setting("LLM_MAX_RETRIES", DEFAULT_MAX_RETRIES)
        ),
    )


@functools.cache
def _offline_client() -> LLMClient:
    from flowpilot.llm.offline import OfflineClient

    return OfflineClient()


# One SDK client (and its connection pool) per distinct configuration.
@functools.lru_cache(maxsize=8)
def _anthropic_client(
    *,
    api_key: str,
    base_url: str | None,
    model_heavy: str,
    model_light: str,
    timeout: float,
    max_retries: int,
) -> LLMClient:
    from flowpilot.llm.anthropic_provider import AnthropicClient

    return AnthropicClient(
        api_key=api_key,
        base_url=base_url or None,
        model_heavy=model_heavy,
        model_light=model_light,
        timeout=timeout,
        max_retries=max_retries,
    )
