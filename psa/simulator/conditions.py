"""
The ConnectWise ``conditions`` grammar, parsed into a predicate over the simulator's records.

Strings are double-quoted (a backslash escapes the next character), integers and ``true`` /
``false`` / ``null`` are bare, datetimes are ``[...]``, fields are slash paths. Operators are
``= != < <= > >= contains like in`` and ``not`` before ``contains`` / ``like`` / ``in``;
``and`` / ``or`` in any case, with parentheses. Strings compare case-insensitively; ``like``
treats ``*`` and ``%`` as wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Record = dict[str, Any]
Predicate = Callable[[Record], bool]


class ConditionError(ValueError):
    pass


TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>"(?:\\.|[^"\\])*")
      | (?P<date>\[[^\]]*\])
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<lparen>\()
      | (?P<rparen>\))
      | (?P<comma>,)
      | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_/]))
      | (?P<word>[A-Za-z_][A-Za-z0-9_/]*)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise ConditionError(f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


def getter(path: str) -> Callable[[Record], Any]:
    """A fast reader of ``path`` (split once); names match case-insensitively as a fallback."""
    parts = path.split("/")

    def get(record: Record) -> Any:
        value: Any = record
        for part in parts:
            if not isinstance(value, dict):
                return None
            if part in value:
                value = value[part]
            else:
                lowered = part.lower()
                value = next((v for k, v in value.items() if k.lower() == lowered), None)
        return value

    return get


def lookup(record: Record, path: str) -> Any:
    return getter(path)(record)


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _like(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"([*%])", pattern)
    body = "".join(".*" if p in ("*", "%") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda record: True
        predicate = self.expr()
        if self.peek()[0] != "end":
            raise ConditionError(f"unexpected {self.peek()[1]!r}")
        return predicate

    def expr(self) -> Predicate:
        parts = [self.term()]
        while self.peek()[0] == "word" and self.peek()[1].lower() == "or":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def term(self) -> Predicate:
        parts = [self.factor()]
        while self.peek()[0] == "word" and self.peek()[1].lower() == "and":
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def factor(self) -> Predicate:
        if self.peek()[0] == "lparen":
            self.take()
            inner = self.expr()
            if self.take()[0] != "rparen":
                raise ConditionError("missing ')'")
            return inner
        return self.comparison()

    def value(self) -> Any:
        kind, raw = self.take()
        if kind == "string":
            return _unquote(raw)
        if kind == "date":
            return raw[1:-1]
        if kind == "number":
            return float(raw) if "." in raw else int(raw)
        if kind == "word" and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if kind == "word" and raw.lower() == "null":
            return None
        raise ConditionError(f"expected a value, got {raw!r}")

    def comparison(self) -> Predicate:
        kind, path = self.take()
        if kind != "word":
            raise ConditionError(f"expected a field, got {path!r}")
        kind, op = self.take()
        negate = False
        if kind == "word" and op.lower() == "not":
            negate = True
            kind, op = self.peek()
            if kind == "word" and op.lower() in ("contains", "like", "in"):
                self.take()
            else:
                kind, op = "op", "="
        if kind == "word":
            op = op.lower()
            if op not in ("contains", "like", "in"):
                raise ConditionError(f"unknown operator {op!r}")
        elif kind != "op":
            raise ConditionError(f"expected an operator after {path!r}")
        if op == "in":
            if self.take()[0] != "lparen":
                raise ConditionError("'in' needs a list in parentheses")
            values = [self.value()]
            while self.peek()[0] == "comma":
                self.take()
                values.append(self.value())
            if self.take()[0] != "rparen":
                raise ConditionError("missing ')' after the 'in' list")
            wanted = {_norm(v) for v in values}
            get = getter(path)
            test: Predicate = lambda r: _norm(get(r)) in wanted  # noqa: E731
        else:
            test = self._compare(path, op, self.value())
        return (lambda r: not test(r)) if negate else test

    @staticmethod
    def _compare(path: str, op: str, expected: Any) -> Predicate:
        want = _norm(expected)
        get = getter(path)
        if op == "contains":
            needle = str(expected).lower()
            return lambda r: needle in str(get(r) or "").lower()
        if op == "like":
            pattern = _like(str(expected))
            return lambda r: bool(pattern.match(str(get(r) or "")))
        if op == "=":
            return lambda r: _equal(get(r), want)
        if op == "!=":
            return lambda r: not _equal(get(r), want)

        def ordered(r: Record) -> bool:
            got = _norm(get(r))
            if got is None or want is None:
                return False
            try:
                if op == "<":
                    return bool(got < want)
                if op == "<=":
                    return bool(got <= want)
                if op == ">":
                    return bool(got > want)
                return bool(got >= want)
            except TypeError:
                return False

        return ordered


def _equal(got: Any, want: Any) -> bool:
    if want is None:
        return got is None or got == ""
    if type(got) is bool or type(want) is bool:
        return type(got) is bool and got is want
    if type(got) is str:
        return bool(got.lower() == want)
    return bool(got == want)


def parse(text: str) -> Predicate:
    """A predicate for ``text``; malformed text raises ``ConditionError``."""
    return _Parser(text or "").parse()
