"""
The one parameter-schema type of the script library: what a template, a suggested fix, a draft
and the builder declare about their ``{{name}}`` placeholders, how submitted values are coerced
to those types, and how sensitive values are masked before they are stored, shown, sent to a
model or posted to a PSA.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from flowpilot.errors import Unprocessable

ParamType = Literal["string", "int", "bool", "choice", "secret"]
PARAM_TYPES: tuple[ParamType, ...] = ("string", "int", "bool", "choice", "secret")
# Names older payloads (runbooks, the extraction prompt) use for the same types.
TYPE_ALIASES: dict[str, ParamType] = {
    "str": "string",
    "text": "string",
    "integer": "int",
    "number": "int",
    "boolean": "bool",
    "password": "secret",
}
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REDACTED = "[redacted]"
# A safety net for schemas that forgot ``sensitive``: values of parameters whose name says
# secret are masked anyway.
SECRET_NAME_RE = re.compile(r"pass|secret|token|api_?key|credential|pwd|\bpin\b", re.IGNORECASE)
MAX_PARAMETERS = 50
MAX_VALUE_LENGTH = 4000
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "n"})


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    type: ParamType = "string"
    label: str = ""
    required: bool = True
    default: Any = None
    choices: tuple[str, ...] = field(default_factory=tuple)
    sensitive: bool = False
    description: str = ""

    @property
    def is_secret(self) -> bool:
        return self.sensitive or self.type == "secret" or bool(SECRET_NAME_RE.search(self.name))

    @property
    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def has_default(self) -> bool:
        return self.default is not None and self.default != ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "default": None if self.is_secret else self.default,
            "choices": list(self.choices),
            "sensitive": self.is_secret,
            "description": self.description,
        }

    def coerce(self, raw: Any) -> Any:
        """The typed value of ``raw`` for this parameter, or 422 naming the parameter."""
        if self.type == "int":
            if isinstance(raw, bool):
                raise _type_error(self, "a whole number")
            if isinstance(raw, int):
                return raw
            text = str(raw).strip()
            if not re.fullmatch(r"[+-]?\d{1,18}", text):
                raise _type_error(self, "a whole number")
            return int(text)
        if self.type == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise _type_error(self, "true or false")
        text = raw if isinstance(raw, str) else str(raw)
        if len(text) > MAX_VALUE_LENGTH:
            raise Unprocessable(
                f"Parameter '{self.name}' is too long (at most {MAX_VALUE_LENGTH} characters).",
                code="parameter_invalid",
                extra={"parameter": self.name},
            )
        if "\x00" in text:
            raise _type_error(self, "text without NUL characters")
        if self.type == "choice" and text not in self.choices:
            raise Unprocessable(
                f"Parameter '{self.name}' must be one of: {', '.join(self.choices)}.",
                code="parameter_invalid",
                extra={"parameter": self.name},
            )
        return text


def _type_error(spec: ParameterSpec, expected: str) -> Unprocessable:
    return Unprocessable(
        f"Parameter '{spec.name}' must be {expected}.",
        code="parameter_invalid",
        extra={"parameter": spec.name},
    )


def _schema_error(message: str) -> Unprocessable:
    return Unprocessable(message, code="parameters_invalid")


def parse_schema(raw: Any) -> list[ParameterSpec]:
    """
    A validated schema from JSON (a list of objects). Unknown types, duplicate or malformed
    names, a choice without choices or a default of the wrong type answer 422.
    """
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise _schema_error("Parameters must be a list.")
    if len(raw) > MAX_PARAMETERS:
        raise _schema_error(f"At most {MAX_PARAMETERS} parameters.")
    seen: set[str] = set()
    specs: list[ParameterSpec] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise _schema_error("Each parameter must be an object with a name.")
        name = item.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name) or name in seen:
            raise _schema_error(
                "Each parameter needs a unique name made of letters, digits and underscores."
            )
        seen.add(name)
        kind = str(item.get("type") or "string").strip().lower()
        kind = TYPE_ALIASES.get(kind, kind)
        if kind not in PARAM_TYPES:
            raise _schema_error(
                f"Parameter '{name}' has an unknown type {kind!r}; use one of "
                f"{', '.join(PARAM_TYPES)}."
            )
        choices_raw = item.get("choices") or []
        if not isinstance(choices_raw, list | tuple):
            raise _schema_error(f"Parameter '{name}': choices must be a list.")
        choices = tuple(str(choice) for choice in choices_raw if str(choice) != "")
        if kind == "choice" and not choices:
            raise _schema_error(f"Parameter '{name}' is a choice but lists no choices.")
        spec = ParameterSpec(
            name=name,
            type=kind,
            label=str(item.get("label") or "")[:120],
            required=bool(item.get("required", True)),
            default=None,
            choices=choices,
            sensitive=bool(item.get("sensitive", False)) or kind == "secret",
            description=str(item.get("description") or "")[:500],
        )
        default = item.get("default")
        if default is not None and default != "" and not spec.is_secret:
            # A secret never carries a default: it would be stored in clear text.
            spec = replace(spec, default=spec.coerce(default))
        specs.append(spec)
    return specs


def schema_as_json(specs: Iterable[ParameterSpec]) -> list[dict[str, Any]]:
    return [spec.as_dict() for spec in specs]


def clean_schema(raw: Any) -> list[dict[str, Any]]:
    """Validate and normalise a schema for storage."""
    return schema_as_json(parse_schema(raw))


def lenient_schema(raw: Any) -> list[ParameterSpec]:
    """
    The schema of data already stored (a fix the assistant proposed): invalid entries are
    skipped rather than refused, so a malformed proposal never breaks a page.
    """
    if not isinstance(raw, list):
        return []
    specs: list[ParameterSpec] = []
    for item in raw:
        try:
            specs.extend(parse_schema([item]))
        except Unprocessable:
            continue
    names: set[str] = set()
    unique = []
    for spec in specs:
        if spec.name not in names:
            names.add(spec.name)
            unique.append(spec)
    return unique


def redact_sensitive(
    parameters: Mapping[str, Any], schema: Iterable[ParameterSpec] | Any = None
) -> dict[str, Any]:
    """
    ``parameters`` with every sensitive value masked: those declared sensitive (or of type
    secret) in ``schema`` and, as a safety net, those whose name looks like a secret. Applied
    to stored generations, model prompts, previews and PSA notes.
    """
    specs = (
        list(schema)
        if isinstance(schema, list) and all(isinstance(s, ParameterSpec) for s in schema)
        else lenient_schema(schema)
    )
    secret = {spec.name for spec in specs if spec.is_secret}
    return {
        str(name): REDACTED if name in secret or SECRET_NAME_RE.search(str(name)) else value
        for name, value in parameters.items()
    }
