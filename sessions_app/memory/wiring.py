"""Connects institutional memory to the sessions it learns from (run from ``AppConfig.ready``)."""

from __future__ import annotations

from sessions_app.memory import tasks  # noqa: F401 - its receiver re-indexes on history changes
from sessions_app.memory.assistant import prompt_context_source
from sessions_app.ports import register_prompt_context_source


def connect() -> None:
    register_prompt_context_source(prompt_context_source)
