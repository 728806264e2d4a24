"""
Rendering ``{{name}}`` placeholders into PowerShell so that no value can leave its string.

The template is parsed once (cached by its text) to learn the context of every placeholder:
inside a single-quoted string, a double-quoted string, a here-string, a comment, or bare code.
Each value is then quoted for that context:

- single-quoted strings (and bare code, which gets wrapped in single quotes): every quote
  character PowerShell treats as a single quote — ``'`` and the typographic ``‘ ’ ‚ ‛`` — is
  doubled, and nothing expands inside;
- double-quoted strings: the backtick escapes `` ` ``, ``$`` and every double quote character
  (``"`` and ``“ ” „``), so nothing expands and the string cannot close;
- here-strings: their terminator can only follow a line break, so values there refuse line
  breaks; in the expandable kind ``$`` and the backtick are escaped as well;
- comments: line breaks become spaces and ``#>`` cannot close a block comment.

Whole numbers and true/false render as PowerShell literals in bare code (``42``, ``$true``).
The tests parse rendered scripts with hostile values and check that each value is still one
string literal and no command appeared.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from flowpilot.errors import Unprocessable
from scripts import powershell
from scripts.parameters import ParameterSpec

Context = Literal["single", "double", "here_single", "here_double", "comment", "bare", "embedded"]
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_PLACEHOLDER_BYTES_RE = re.compile(rb"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"
DOUBLE_QUOTES = '"\u201c\u201d\u201e'
_CONTEXT_OF_NODE: dict[str, Context] = {
    powershell.SINGLE_STRING: "single",
    powershell.DOUBLE_STRING: "double",
    powershell.SINGLE_HERE: "here_single",
    powershell.DOUBLE_HERE: "here_double",
    "comment": "comment",
}


@dataclass(frozen=True)
class Slot:
    """One placeholder occurrence: its character span in the template and its context."""

    start: int
    end: int
    name: str
    context: Context
    # The same span in the template's UTF-8 bytes (what the parser's offsets count).
    byte_start: int = 0
    byte_end: int = 0


@dataclass(frozen=True)
class Rendered:
    script: str
    missing: tuple[str, ...]
    values: dict[str, Any]
    # The template's parse and the byte replacements that made ``script`` from it: the
    # review re-parses only what the values changed (see ``parsed``).
    template: powershell.LenientParse | None = field(default=None, repr=False, compare=False)
    replacements: tuple[tuple[int, int, bytes], ...] = field(default=(), repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.script.encode("utf-8")).hexdigest()

    def parsed(self) -> powershell.LenientParse:
        """
        The lenient parse of ``script``: the template's tree re-parsed incrementally where the
        values went (each one inside a string or a comment, so nothing around it changes), or
        a full parse when that does not apply (a value in bare code, a template the grammar
        needed the slow rewrites for, a script that does not parse cleanly).
        """
        if self.template is not None:
            found = powershell.reparse(self.template, list(self.replacements))
            if found is not None:
                return found
        return powershell.lenient_parse(self.script)


def placeholders(body: str) -> list[str]:
    """Placeholder names in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER_RE.findall(body)))


def slots(body: str) -> tuple[Slot, ...]:
    """Every placeholder of ``body`` with its PowerShell context (cached per template text)."""
    return _template(body)[0]


@lru_cache(maxsize=512)
def _template(body: str) -> tuple[tuple[Slot, ...], powershell.LenientParse | None]:
    """The template's placeholders and its parse, once per template text."""
    data = body.encode("utf-8")
    matches = list(_PLACEHOLDER_BYTES_RE.finditer(data))
    if not matches:
        return (), None
    parsed = powershell.lenient_parse(data)
    root = parsed.tree.root_node
    found: list[Slot] = []
    # Byte offsets from the parser, character offsets for str slicing.
    for match in matches:
        node = root.descendant_for_byte_range(match.start(), match.end())
        context: Context = "bare"
        while node is not None:
            kind = _CONTEXT_OF_NODE.get(node.type)
            if kind is not None:
                context = kind
                break
            node = node.parent
        if context == "bare" and _glued(data, match.start(), match.end()):
            # ``\\{{server}}\share``: PowerShell would splice a quoted value into the word,
            # but the word is ambiguous to read and review. Such templates must quote it.
            context = "embedded"
        start = len(data[: match.start()].decode("utf-8"))
        end = start + len(match.group(0).decode("utf-8"))
        found.append(
            Slot(
                start=start,
                end=end,
                name=match.group(1).decode(),
                context=context,
                byte_start=match.start(),
                byte_end=match.end(),
            )
        )
    return tuple(found), parsed


_WORD_BREAKS = b" \t\r\n(),;|{}[]=+:"


def _glued(data: bytes, start: int, end: int) -> bool:
    before = data[start - 1 : start] if start else b" "
    after = data[end : end + 1] or b" "
    return before not in _WORD_BREAKS or after not in _WORD_BREAKS


def quote(value: Any, context: Context, *, name: str = "value") -> str:
    """``value`` written for ``context`` so that it stays data."""
    if context == "embedded":
        raise Unprocessable(
            f"Put '{{{{{name}}}}}' inside quotes in the script: it is glued to other text, "
            "so its value would not stay one argument.",
            code="placeholder_unquoted",
            extra={"parameter": name},
        )
    if context == "bare":
        if value is None:
            return "$null"
        if isinstance(value, bool):
            return "$true" if value else "$false"
        if isinstance(value, int):
            return str(value)
        return "'" + _escape_single(str(value)) + "'"
    text = _as_text(value)
    if context == "single":
        return _escape_single(text)
    if context == "double":
        return _escape_double(text)
    if context == "comment":
        return re.sub(r"[\r\n]+", " ", text).replace("#>", "# >")
    if "\n" in text or "\r" in text:
        raise Unprocessable(
            f"Parameter '{name}' cannot contain a line break where this script uses it.",
            code="parameter_invalid",
            extra={"parameter": name},
        )
    if context == "here_double":
        return _escape_double(text, quotes=False)
    return text


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _escape_single(text: str) -> str:
    return "".join(ch + ch if ch in SINGLE_QUOTES else ch for ch in text)


def _escape_double(text: str, *, quotes: bool = True) -> str:
    special = "`$" + (DOUBLE_QUOTES if quotes else "")
    return "".join("`" + ch if ch in special else ch for ch in text)


def resolve_values(
    schema: Iterable[ParameterSpec], values: Mapping[str, Any] | None, *, strict: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """
    The typed value of every declared parameter: the submitted one, else the default, else
    ``None`` for optional ones. Answers the values and the names still missing (required, no
    value, no default). ``strict`` refuses unknown names.
    """
    specs = {spec.name: spec for spec in schema}
    given = dict(values or {})
    if strict:
        unknown = [name for name in given if name not in specs]
        if unknown:
            raise Unprocessable(
                f"Unknown parameter '{unknown[0]}'.",
                code="parameter_unknown",
                extra={"parameter": unknown[0]},
            )
    resolved: dict[str, Any] = {}
    missing: list[str] = []
    for name, spec in specs.items():
        raw = given.get(name)
        if raw is not None and raw != "":
            resolved[name] = spec.coerce(raw)
        elif spec.type == "bool" and raw == "" and not spec.required:
            resolved[name] = False
        elif spec.has_default:
            resolved[name] = spec.default
        elif spec.required:
            missing.append(name)
        else:
            resolved[name] = None
    return resolved, missing


def render(
    body: str,
    schema: Iterable[ParameterSpec],
    values: Mapping[str, Any] | None = None,
    *,
    strict: bool = True,
) -> Rendered:
    """
    Fill the placeholders of ``body``. Strict (generation, one-off decisions): a placeholder no
    parameter declares, an unknown value name, a missing required value or a value of the
    wrong type answers 422 naming it. Not strict (the fix card while it is being filled in):
    what is missing stays as a ``{{placeholder}}`` and is reported in ``missing``.
    """
    specs = list(schema)
    declared = {spec.name for spec in specs}
    if strict:
        undeclared = [name for name in placeholders(body) if name not in declared]
        if undeclared:
            raise Unprocessable(
                f"The script uses '{{{{{undeclared[0]}}}}}' but no parameter declares it.",
                code="placeholder_unknown",
                extra={"parameter": undeclared[0]},
            )
    resolved, missing = resolve_values(specs, values, strict=strict)
    if strict and missing:
        raise Unprocessable(
            f"Missing required parameter '{missing[0]}'.",
            code="parameter_missing",
            extra={"parameter": missing[0], "missing": missing},
        )
    parts: list[str] = []
    replacements: list[tuple[int, int, bytes]] = []
    position = 0
    found, parsed = _template(body)
    # The template's tree can be re-used when every value lands inside a string or comment.
    reusable = parsed is not None
    for slot in found:
        parts.append(body[position : slot.start])
        if slot.name in resolved and (strict or slot.context != "embedded"):
            value = quote(resolved[slot.name], slot.context, name=slot.name)
            if slot.context == "bare" and value.startswith("'"):
                reusable = False  # a new string literal in code: parse it all again
            replacements.append((slot.byte_start, slot.byte_end, value.encode("utf-8")))
            parts.append(value)
        else:
            parts.append(body[slot.start : slot.end])
        position = slot.end
    parts.append(body[position:])
    used = set(placeholders(body))
    return Rendered(
        script="".join(parts),
        missing=tuple(name for name in missing if name in used),
        values=resolved,
        template=parsed if reusable else None,
        replacements=tuple(replacements) if reusable else (),
    )
