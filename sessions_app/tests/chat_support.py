"""Helpers shared by the chat, facts, lane and sessions tests (not a test module)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from accounts.models import User
from flowpilot.llm import client as llm_client
from flowpilot.llm.markers import format_marker
from flowpilot.llm.testing import ScriptedClient
from sessions_app.models import AISession
from sessions_app.services import sessions

# Taken at import, before any test patches it: the spec of every patch of the choke point.
REAL_GET_LLM_CLIENT = llm_client.get_llm_client
OUTLOOK = "Outlook keeps asking for a password and mail is not syncing"


def start(user: User, problem: str = OUTLOOK) -> AISession:
    session, _ = sessions.create_session(user=user, problem=problem)
    return session


def version(session: AISession) -> int:
    return AISession.objects.values_list("state_version", flat=True).get(pk=session.pk)


def tasks(
    questions: tuple[str, ...] | list[str] = (),
    checks: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    actions: tuple[str, ...] | list[str] = (),
) -> str:
    return format_marker(
        "TASKS",
        {
            "questions": [{"text": q} for q in questions],
            "checks": [{"label": label, "command": cmd} for label, cmd in checks],
            "actions": [{"label": a} for a in actions],
        },
    )


def use_client(monkeypatch: pytest.MonkeyPatch, client: Any) -> Any:
    """Make every model call use ``client``: the LLM layer's one choke point, autospecced."""
    monkeypatch.setattr(
        llm_client,
        "get_llm_client",
        mock.create_autospec(REAL_GET_LLM_CLIENT, return_value=client),
    )
    return client


def scripted(monkeypatch: pytest.MonkeyPatch, *replies: Any, **options: Any) -> ScriptedClient:
    return use_client(monkeypatch, ScriptedClient(replies, **options))
