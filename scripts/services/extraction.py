"""
Template extraction: the heavy model tier drafts a parameter schema for a concrete script,
conservatively. Its answer is only used when it round-trips: the templated body references
only declared parameters, every placeholder lines up with a piece of the original, and
rendering the templated body with those pieces reproduces the original. Anything else — a
model failure, unparsable JSON, an invalid schema, a mismatch — falls back to the original
script with no parameters.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from flowpilot.errors import Unprocessable
from flowpilot.llm import LLMError, LLMRequest, get_llm_client, load_prompt
from scripts.parameters import REDACTED, parse_schema
from scripts.rendering import Slot, placeholders, quote, render, slots

logger = logging.getLogger(__name__)
MAX_TOKENS = 4000
_FENCE_RE = re.compile(r"^```(?:json)?\s*|\s*```$")
_BARE_TOKEN_RE = re.compile(r"^[\w.\-@:\\/]+$")


@dataclass(frozen=True)
class Extraction:
    templated_body: str
    parameters: list[dict[str, Any]]
    values: dict[str, Any] = field(default_factory=dict)
    extracted: bool = False
    reason: str = ""

    def redacted_original(self, original: str) -> str:
        """The original script with the values of sensitive parameters masked."""
        if not self.extracted:
            return original
        schema = parse_schema(self.parameters)
        masked = {
            name: REDACTED if spec.is_secret else self.values[name]
            for spec in schema
            for name in [spec.name]
            if name in self.values
        }
        if masked == self.values:
            return original
        return render(self.templated_body, schema, masked).script


def fallback(script: str, reason: str) -> Extraction:
    logger.info("Template extraction fell back to the original script: %s", reason)
    return Extraction(templated_body=script, parameters=[], reason=reason)


def extract_template(script: str) -> Extraction:
    request = LLMRequest(
        purpose="template_extraction",
        tier="heavy",
        system=load_prompt("template_extraction"),
        messages=[],
        max_tokens=MAX_TOKENS,
        context={"script": script},
    )
    try:
        answer = get_llm_client().complete(request).text
    except LLMError as exc:
        return fallback(script, f"model failed: {exc}")
    return check_extraction(script, answer)


def check_extraction(script: str, answer: str) -> Extraction:
    """Validate the model's JSON answer against ``script`` (see the module docstring)."""
    try:
        data = json.loads(_FENCE_RE.sub("", answer.strip()))
    except ValueError:
        return fallback(script, "answer is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        return fallback(script, "answer has no body")
    body: str = data["body"]
    try:
        schema = parse_schema(data.get("parameters") or [])
    except Unprocessable as exc:
        return fallback(script, f"invalid schema: {exc.detail}")
    declared = {spec.name for spec in schema}
    used = set(placeholders(body))
    if used - declared:
        return fallback(script, f"undeclared placeholders {sorted(used - declared)}")
    schema = [spec for spec in schema if spec.name in used]
    if not schema:
        if body != script:
            return fallback(script, "body changed without parameters")
        return Extraction(templated_body=script, parameters=[], extracted=True)
    aligned = _align(body, script)
    if aligned is None:
        return fallback(script, "templated body does not line up with the script")
    values, pieces = aligned
    try:
        typed = {spec.name: spec.coerce(values[spec.name]) for spec in schema}
        rendered = render(body, schema, typed).script
    except (Unprocessable, KeyError) as exc:
        return fallback(script, f"proposed values do not render: {exc}")
    if rendered != _normalised(body, pieces, typed):
        return fallback(script, "rendering does not reproduce the script")
    # A secret never keeps a default; the others do not either: defaults would carry this
    # customer's values into the library.
    parameters = [{**spec.as_dict(), "default": None} for spec in schema]
    return Extraction(templated_body=body, parameters=parameters, values=typed, extracted=True)


def _align(body: str, script: str) -> tuple[dict[str, Any], list[str]] | None:
    """
    The piece of ``script`` under each placeholder of ``body`` (raw, in slot order) and its
    value decoded for the placeholder's context; None when they do not line up.
    """
    found = slots(body)
    pattern = ["^"]
    position = 0
    for index, slot in enumerate(found):
        pattern.append(re.escape(body[position : slot.start]))
        pattern.append(f"(?P<g{index}>.*?)")
        position = slot.end
    pattern.append(re.escape(body[position:]) + "$")
    match = re.match("".join(pattern), script, re.DOTALL)
    if match is None:
        return None
    values: dict[str, Any] = {}
    pieces: list[str] = []
    for index, slot in enumerate(found):
        raw = match.group(f"g{index}")
        decoded = _decode(raw, slot)
        if decoded is None or (slot.name in values and values[slot.name] != decoded):
            return None
        values[slot.name] = decoded
        pieces.append(raw)
    return values, pieces


def _decode(raw: str, slot: Slot) -> str | None:
    if slot.context == "single":
        return raw.replace("''", "'")
    if slot.context == "double":
        return re.sub(r"`(.)", r"\1", raw)
    if slot.context == "bare":
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":
            return raw[1:-1].replace("''", "'")
        return raw if _BARE_TOKEN_RE.match(raw) else None
    if slot.context == "embedded":
        return None
    return raw


def _normalised(body: str, pieces: list[str], values: dict[str, Any]) -> str:
    """
    The original script rebuilt from ``body`` and its own pieces, where a bare word the model
    turned into a placeholder is written as the renderer quotes it (``-Identity jdoe`` →
    ``-Identity 'jdoe'``: the same argument to PowerShell). Every other piece stays exactly
    as the original had it, so a value that does not survive quoting shows up as a mismatch.
    """
    parts: list[str] = []
    position = 0
    for slot, raw in zip(slots(body), pieces, strict=True):
        parts.append(body[position : slot.start])
        bare_word = slot.context == "bare" and not raw.startswith("'")
        parts.append(quote(values[slot.name], "bare") if bare_word else raw)
        position = slot.end
    parts.append(body[position:])
    return "".join(parts)
