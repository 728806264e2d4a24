"""Prompt files: ``flowpilot/llm/prompts/<name>.md``, each starting ``<!-- version: N -->``."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from flowpilot.llm.types import Purpose

PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"

PURPOSE_PROMPTS: dict[Purpose, str] = {
    "chat": "chat_system",
    "fact_synthesis": "fact_synthesis",
    "resolution_note": "resolution_note",
    "escalation_package": "escalation_package",
    "handoff_assessment": "handoff_assessment",
    "template_extraction": "template_extraction",
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION_RE = re.compile(r"^<!--\s*version:\s*(\d+)\s*-->")


@functools.cache
def load_prompt(name: str) -> str:
    """The text of prompt ``name`` (file name without ``.md``); unknown names raise ValueError."""
    if not _NAME_RE.match(name):
        raise ValueError(f"Invalid prompt name {name!r}.")
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise ValueError(f"Unknown prompt {name!r}.")
    return path.read_text(encoding="utf-8")


def prompt_version(name: str) -> int:
    """The version declared on the first line of prompt ``name``."""
    match = _VERSION_RE.match(load_prompt(name))
    if match is None:
        raise ValueError(f"Prompt {name!r} has no version line.")
    return int(match.group(1))


def prompt_for(purpose: Purpose) -> str:
    """The system prompt text for a purpose."""
    return load_prompt(PURPOSE_PROMPTS[purpose])
