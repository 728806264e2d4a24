"""
A small builder for ConnectWise ``conditions`` strings.

User text only ever enters a condition through ``literal``: strings are double-quoted with
backslashes and double quotes escaped, numbers and booleans are rendered from their Python
types, and field paths must look like ``status/name``. Nothing is concatenated unescaped, so a
search for ``he said "stop" or id > 0`` stays one string literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")
OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "contains", "like", "not contains"})

Value = str | int | bool | None | datetime


def literal(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, datetime):
        return f"[{value.strftime('%Y-%m-%dT%H:%M:%SZ')}]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _field(name: str) -> str:
    if not FIELD_RE.match(name):
        raise ValueError(f"not a condition field: {name!r}")
    return name


def compare(field: str, op: str, value: Value) -> str:
    if op not in OPERATORS:
        raise ValueError(f"not a condition operator: {op!r}")
    return f"{_field(field)} {op} {literal(value)}"


def is_in(field: str, values: Iterable[Value]) -> str:
    items = [literal(v) for v in values]
    if not items:
        raise ValueError("an 'in' condition needs at least one value")
    return f"{_field(field)} in ({', '.join(items)})"


def all_of(*parts: str) -> str:
    kept = [p for p in parts if p]
    if len(kept) == 1:
        return kept[0]
    return " and ".join(f"({p})" for p in kept)


def any_of(*parts: str) -> str:
    kept = [p for p in parts if p]
    if len(kept) == 1:
        return kept[0]
    return " or ".join(f"({p})" for p in kept)
