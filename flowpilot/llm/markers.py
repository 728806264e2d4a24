"""Parse the structured marker blocks out of an assistant chat reply.

A marker is ``[NAME]`` immediately followed by one JSON object (whitespace and newlines inside
the object are fine)::

    [TASKS]{"questions": [{"text": "..."}], "checks": [{"label": "...", "command": "..."}],
            "actions": [{"label": "..."}]}
    [PROMOTE]{"text": "...", "source": "question|check|ai", "ref": "<item text or label>"}
    [SUGGEST_FIX]{"title": "...", "description": "...", "confidence": 0-100, "script": "...",
                  "parameters": [{"name": "...", "type": "string", "required": true,
                                  "default": null, "sensitive": false, "description": "..."}]}
    [FIX_OUTCOME]{"outcome": "applied_success|applied_failed|applied_partial", "reason": "..."}

``parse_markers`` never raises: a malformed block is stripped from the display text, ignored and
described in ``ParsedReply.errors``. The last valid ``[TASKS]``, ``[SUGGEST_FIX]`` and
``[FIX_OUTCOME]`` win; every valid ``[PROMOTE]`` counts.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast

MarkerName = Literal["TASKS", "PROMOTE", "SUGGEST_FIX", "FIX_OUTCOME"]
MARKER_NAMES: tuple[MarkerName, ...] = ("TASKS", "PROMOTE", "SUGGEST_FIX", "FIX_OUTCOME")

PromotionSource = Literal["question", "check", "ai"]
ProposedOutcome = Literal["applied_success", "applied_failed", "applied_partial"]
PROMOTION_SOURCES: tuple[PromotionSource, ...] = ("question", "check", "ai")
PROPOSED_OUTCOMES: tuple[ProposedOutcome, ...] = (
    "applied_success",
    "applied_failed",
    "applied_partial",
)

_MARKER_RE = re.compile(r"\[(TASKS|PROMOTE|SUGGEST_FIX|FIX_OUTCOME)\]")
_PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MARKER_TAGS = tuple(f"[{name}]" for name in MARKER_NAMES)
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class TaskQuestion:
    text: str


@dataclass(frozen=True)
class TaskCheck:
    label: str
    command: str = ""


@dataclass(frozen=True)
class TaskAction:
    label: str


@dataclass
class TaskLane:
    questions: list[TaskQuestion] = field(default_factory=list)
    checks: list[TaskCheck] = field(default_factory=list)
    actions: list[TaskAction] = field(default_factory=list)


@dataclass(frozen=True)
class Promotion:
    text: str
    source: PromotionSource = "ai"
    ref: str = ""


@dataclass(frozen=True)
class FixParameter:
    name: str
    type: str = "string"
    required: bool = True
    default: str | int | float | bool | None = None
    sensitive: bool = False
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "default": self.default,
            "sensitive": self.sensitive,
            "description": self.description,
        }


@dataclass
class FixProposal:
    title: str
    description: str
    confidence: int
    script: str = ""
    parameters: list[FixParameter] = field(default_factory=list)


@dataclass(frozen=True)
class OutcomeProposal:
    outcome: ProposedOutcome
    reason: str = ""


@dataclass
class ParsedReply:
    display_text: str
    tasks: TaskLane | None = None
    promotions: list[Promotion] = field(default_factory=list)
    fix: FixProposal | None = None
    outcome: OutcomeProposal | None = None
    errors: list[str] = field(default_factory=list)


class _InvalidBlock(ValueError):
    pass


def format_marker(name: MarkerName, payload: dict[str, Any]) -> str:
    """Render one marker line, the inverse of what ``parse_markers`` reads."""
    return f"[{name}]{json.dumps(payload, ensure_ascii=False)}"


def parse_markers(text: str) -> ParsedReply:
    """Split an assistant reply into display text and typed marker payloads."""
    reply = ParsedReply(display_text="")
    kept: list[str] = []
    pos = 0
    for match in _MARKER_RE.finditer(text):
        if match.start() < pos:
            # Inside a block already consumed (a tag quoted in a JSON string, say).
            continue
        kept.append(text[pos : match.start()])
        name = cast(MarkerName, match.group(1))
        payload, end, error = _read_json_object(text, match.end())
        pos = end
        if error is not None:
            reply.errors.append(f"[{name}] ignored: {error}")
            continue
        try:
            _apply(reply, name, payload)
        except _InvalidBlock as exc:
            reply.errors.append(f"[{name}] ignored: {exc}")
    kept.append(text[pos:])
    reply.display_text = _tidy("".join(kept))
    return reply


def visible_prefix(text_so_far: str) -> str:
    """The part of a streaming reply that is safe to show: everything before the first ``[``
    that begins (or, at the end of the text, could still begin) a marker tag."""
    start = 0
    while True:
        idx = text_so_far.find("[", start)
        if idx == -1:
            return text_so_far
        tail = text_so_far[idx:]
        for tag in _MARKER_TAGS:
            if tail.startswith(tag) or (len(tail) < len(tag) and tag.startswith(tail)):
                return text_so_far[:idx]
        start = idx + 1


def _read_json_object(text: str, start: int) -> tuple[dict[str, Any], int, str | None]:
    """Decode the JSON object starting at ``start`` (after optional whitespace).

    Returns the object, the index just past the consumed block and an error (or None). On a
    decode failure the consumed block is the balanced ``{...}`` span when one exists, else the
    rest of the line, so broken JSON never leaks into the display text.
    """
    idx = start
    while idx < len(text) and text[idx] in " \t\r\n":
        idx += 1
    if idx >= len(text) or text[idx] != "{":
        return {}, _end_of_line(text, start), "no JSON object after the marker"
    try:
        value, end = _DECODER.raw_decode(text, idx)
    except json.JSONDecodeError as exc:
        balanced = _balanced_end(text, idx)
        end = balanced if balanced is not None else _end_of_line(text, idx)
        return {}, end, f"invalid JSON ({exc.msg})"
    if not isinstance(value, dict):
        return {}, end, "the JSON value is not an object"
    return cast(dict[str, Any], value), end, None


def _end_of_line(text: str, start: int) -> int:
    newline = text.find("\n", start)
    return len(text) if newline == -1 else newline


def _balanced_end(text: str, start: int) -> int | None:
    depth = 0
    in_string = False
    escaped = False
    for idx in range(start, len(text)):
        char = text[idx]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return idx + 1
    return None


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    tidied = "\n".join(lines)
    tidied = re.sub(r"\n{3,}", "\n\n", tidied)
    return tidied.strip()


def _apply(reply: ParsedReply, name: MarkerName, payload: dict[str, Any]) -> None:
    if name == "TASKS":
        reply.tasks = _parse_tasks(payload, reply.errors)
    elif name == "PROMOTE":
        reply.promotions.append(_parse_promotion(payload))
    elif name == "SUGGEST_FIX":
        reply.fix = _parse_fix(payload, reply.errors)
    else:
        reply.outcome = _parse_outcome(payload)


def _text(payload: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = payload.get(key)
    if value is None:
        if required:
            raise _InvalidBlock(f"{key!r} is required")
        return ""
    if not isinstance(value, str):
        raise _InvalidBlock(f"{key!r} must be a string")
    value = value.strip()
    if required and not value:
        raise _InvalidBlock(f"{key!r} must not be empty")
    return value


def _list(payload: dict[str, Any], key: str) -> list[Any]:
    value = payload.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _InvalidBlock(f"{key!r} must be a list")
    return value


def _parse_tasks(payload: dict[str, Any], errors: list[str]) -> TaskLane:
    lane = TaskLane()
    for item in _list(payload, "questions"):
        text = _item_text(item, "text")
        if text:
            lane.questions.append(TaskQuestion(text=text))
        else:
            errors.append("[TASKS] question without text skipped")
    for item in _list(payload, "checks"):
        label = _item_text(item, "label")
        if not label:
            errors.append("[TASKS] check without label skipped")
            continue
        command = item.get("command") if isinstance(item, dict) else None
        lane.checks.append(
            TaskCheck(label=label, command=command.strip() if isinstance(command, str) else "")
        )
    for item in _list(payload, "actions"):
        label = _item_text(item, "label")
        if label:
            lane.actions.append(TaskAction(label=label))
        else:
            errors.append("[TASKS] action without label skipped")
    return lane


def _item_text(item: object, key: str) -> str:
    # Models sometimes write a bare string instead of {"text": ...}; both mean the same item.
    if isinstance(item, str):
        return item.strip()
    if isinstance(item, dict):
        value = cast(dict[str, Any], item).get(key)
        if isinstance(value, str):
            return value.strip()
    return ""


def _parse_promotion(payload: dict[str, Any]) -> Promotion:
    text = _text(payload, "text", required=True)
    source = payload.get("source") or "ai"
    if source not in PROMOTION_SOURCES:
        raise _InvalidBlock(f"unknown source {source!r}")
    return Promotion(text=text, source=cast(PromotionSource, source), ref=_text(payload, "ref"))


def _parse_fix(payload: dict[str, Any], errors: list[str]) -> FixProposal:
    title = _text(payload, "title", required=True)
    confidence = _confidence(payload.get("confidence"))
    parameters: list[FixParameter] = []
    seen: set[str] = set()
    for item in _list(payload, "parameters"):
        try:
            parameter = _parse_parameter(item)
        except _InvalidBlock as exc:
            errors.append(f"[SUGGEST_FIX] parameter skipped: {exc}")
            continue
        if parameter.name in seen:
            errors.append(f"[SUGGEST_FIX] duplicate parameter {parameter.name!r} skipped")
            continue
        seen.add(parameter.name)
        parameters.append(parameter)
    return FixProposal(
        title=title,
        description=_text(payload, "description"),
        confidence=confidence,
        script=_script(payload),
        parameters=parameters,
    )


def _script(payload: dict[str, Any]) -> str:
    value = payload.get("script")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _InvalidBlock("'script' must be a string")
    # Keep indentation; only trim blank lines around the body.
    return value.strip("\n").rstrip()


def _confidence(value: object) -> int:
    if isinstance(value, bool) or value is None:
        raise _InvalidBlock("'confidence' must be a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().rstrip("%"))
        except ValueError:
            raise _InvalidBlock("'confidence' must be a number") from None
    else:
        raise _InvalidBlock("'confidence' must be a number")
    if math.isnan(number) or math.isinf(number):
        raise _InvalidBlock("'confidence' must be a finite number")
    return max(0, min(100, round(number)))


def _parse_parameter(item: object) -> FixParameter:
    if not isinstance(item, dict):
        raise _InvalidBlock("a parameter must be an object")
    data = cast(dict[str, Any], item)
    name = data.get("name")
    if not isinstance(name, str) or not _PARAM_NAME_RE.match(name.strip()):
        raise _InvalidBlock(f"invalid parameter name {name!r}")
    type_ = data.get("type", "string")
    default = data.get("default")
    if default is not None and not isinstance(default, str | int | float | bool):
        raise _InvalidBlock(f"parameter {name!r} has a non-scalar default")
    return FixParameter(
        name=name.strip(),
        type=type_ if isinstance(type_, str) and type_ else "string",
        required=_bool(data.get("required"), default=True),
        default=default,
        sensitive=_bool(data.get("sensitive"), default=False),
        description=data["description"] if isinstance(data.get("description"), str) else "",
    )


def _bool(value: object, *, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _parse_outcome(payload: dict[str, Any]) -> OutcomeProposal:
    outcome = payload.get("outcome")
    if outcome not in PROPOSED_OUTCOMES:
        raise _InvalidBlock(f"unknown outcome {outcome!r}")
    return OutcomeProposal(outcome=cast(ProposedOutcome, outcome), reason=_text(payload, "reason"))
