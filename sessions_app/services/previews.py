"""
Resolution-note and escalation-package previews.

A preview is the heavy model's markdown for the session bundle (problem, ticket, facts, the fix
with its outcome fields, earlier fixes already tried, redacted script runs). It is cached in the
shared cache under ``(kind, session_id, state_version)``: every change a preview reads bumps
state_version, so a stale preview is never served and an unchanged session never calls the
model twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.core.cache import cache
from django.db import connection

from flowpilot.errors import UpstreamError
from flowpilot.llm import LLMError, LLMRequest, get_llm_client, load_prompt
from sessions_app.models import AISession, Fact, FixStatus, SuggestedFix

logger = logging.getLogger(__name__)

PreviewKind = Literal["resolution_note", "escalation_package"]
PREVIEW_KINDS: tuple[PreviewKind, ...] = ("resolution_note", "escalation_package")
CACHE_SECONDS = 60 * 60 * 24
MAX_TOKENS = 1500
REDACTED = "[redacted]"
# An earlier fix belongs in "what we've tried" once an outcome was recorded for it.
TRIED_STATUSES = frozenset(
    {
        FixStatus.APPLIED_SUCCESS,
        FixStatus.APPLIED_FAILED,
        FixStatus.APPLIED_PARTIAL,
        FixStatus.APPLIED_PENDING,
    }
)
# Ids are BigAutoField: the largest value a database row id can take.
MAX_ID = 2**63 - 1
_SENSITIVE_NAME_RE = re.compile(r"pass|secret|token|key|credential|pwd|pin", re.IGNORECASE)

# Script runs come from the scripts app, which depends on this one: it registers a source
# (``register_script_run_source``) instead of this module importing it.
ScriptRunSource = Callable[[AISession], list[dict[str, Any]]]
_script_run_sources: list[ScriptRunSource] = []


def register_script_run_source(source: ScriptRunSource) -> None:
    if source not in _script_run_sources:
        _script_run_sources.append(source)


@dataclass(frozen=True)
class Preview:
    kind: PreviewKind
    markdown: str
    from_cache: bool
    state_version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "markdown": self.markdown,
            "from_cache": self.from_cache,
            "state_version": self.state_version,
        }


def cache_key(kind: str, session_id: int, state_version: int) -> str:
    return f"preview:{kind}:{session_id}:{state_version}"


def redact_parameters(
    parameters: dict[str, Any], schema: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """
    Mask values of parameters declared ``sensitive`` and, as a safety net, of any whose name
    looks like a secret, before anything is sent to a model or shown in a note.
    """
    sensitive = {
        str(item.get("name"))
        for item in schema or []
        if isinstance(item, dict) and item.get("sensitive")
    }
    return {
        name: REDACTED if name in sensitive or _SENSITIVE_NAME_RE.search(name) else value
        for name, value in parameters.items()
    }


def script_runs(session: AISession) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for source in _script_run_sources:
        try:
            found = source(session)
        except Exception:
            logger.exception("Script-run source %r failed for session %s", source, session.pk)
            continue
        for run in found:
            parameters = run.get("parameters")
            runs.append(
                {
                    "template": str(run.get("template") or "Script"),
                    "parameters": redact_parameters(parameters, run.get("schema"))
                    if isinstance(parameters, dict)
                    else {},
                }
            )
    return runs


def build_bundle(session: AISession) -> dict[str, Any]:
    """Everything a preview may say, and nothing else: the model is told to use only this."""
    facts = list(Fact.objects.live_in(session).values_list("text", flat=True))
    # Newest first: the first is the fix the preview describes (the active one, or else the
    # newest); earlier fixes with a recorded outcome are what was already tried.
    history = list(
        SuggestedFix.objects.filter(session=session)
        .defer("script", "parameters")
        .order_by("-created_at", "-id")
    )
    fix = history[0] if history else None
    tried = [
        earlier.as_bundle()
        for earlier in reversed(history[1:])
        if earlier.superseded_at is not None and earlier.status in TRIED_STATUSES
    ]
    return {
        "problem": session.problem_summary,
        "ticket": session.psa_ticket_id or None,
        "facts": facts,
        "fix": fix.as_bundle() if fix is not None else None,
        "tried": tried,
        "script_runs": script_runs(session),
    }


def get_preview(*, session: AISession, kind: PreviewKind, refresh: bool = False) -> Preview:
    """
    The preview for the session's current state: from the cache when this state was already
    written up (no model call), else generated by the heavy tier and cached. ``refresh``
    regenerates even when cached.
    """
    if kind not in PREVIEW_KINDS:
        raise ValueError(f"Unknown preview kind {kind!r}")
    version = session.state_version
    key = cache_key(kind, session.pk, version)
    if not refresh:
        cached = cache.get(key)
        if isinstance(cached, str):
            return Preview(kind=kind, markdown=cached, from_cache=True, state_version=version)
    bundle = build_bundle(session)
    text = generate(kind=kind, bundle=bundle)
    # Cache only when nothing changed while the bundle was read, so the key never holds a
    # text built from a newer state than it names.
    current = AISession.objects.filter(pk=session.pk).values_list("state_version", flat=True)
    if current.first() == version:
        cache.set(key, text, CACHE_SECONDS)
    return Preview(kind=kind, markdown=text, from_cache=False, state_version=version)


def cached_preview(*, account_id: int, session_id: int, kind: PreviewKind) -> Preview | None:
    """
    The hot path of an unchanged session: one narrow query for the version (scoped to the
    account, so a foreign session is never answered) and one cache read. None sends the caller
    down the full path (``get_session`` then ``get_preview``), which also answers the 404s.
    """
    if not 0 < session_id <= MAX_ID:
        # The URL converter takes any digits; the raw query below must not see an id the
        # database cannot hold (SQLite raises OverflowError). No such session: not cached.
        return None
    # Plain SQL: this runs on every preview refresh and the ORM's query building costs about
    # as much as the query itself.
    table = connection.ops.quote_name(AISession._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state_version FROM {table} WHERE id = %s AND account_id = %s",  # noqa: S608
            [session_id, account_id],
        )
        versions = [row[0] for row in cursor.fetchall()]
    if not versions:
        return None
    cached = cache.get(cache_key(kind, session_id, versions[0]))
    if not isinstance(cached, str):
        return None
    return Preview(kind=kind, markdown=cached, from_cache=True, state_version=versions[0])


def generate(*, kind: PreviewKind, bundle: dict[str, Any]) -> str:
    request = LLMRequest(
        purpose=kind,
        tier="heavy",
        system=load_prompt(kind),
        messages=[],
        max_tokens=MAX_TOKENS,
        context=bundle,
    )
    try:
        result = get_llm_client().complete(request)
    except LLMError as exc:
        logger.warning("Preview %s failed: %s", kind, exc)
        raise UpstreamError(
            "The assistant could not write this preview just now. Try again in a moment.",
            code="llm_unavailable",
        ) from exc
    text = result.text.strip()
    if not text:
        raise UpstreamError("The assistant returned an empty preview.", code="llm_empty")
    return text + "\n"
