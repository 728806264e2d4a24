"""
The PowerShell grammar (tree-sitter-powershell) shared by rendering and the safety review.

One parser per thread (tree-sitter parsers are not thread-safe). A clean parse of 200 lines
takes about 2 ms; a rendered template re-uses its template's tree (``reparse``: tree-sitter's
incremental parsing of the edited regions only), about 1 ms; the grammar's error recovery is
what is slow (10 ms and more), hence the quick rewrite before the first parse.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser, Point, Tree

LANGUAGE = Language(tree_sitter_powershell.language())
_local = threading.local()

SINGLE_STRING = "verbatim_string_characters"
DOUBLE_STRING = "expandable_string_literal"
SINGLE_HERE = "verbatim_here_string_characters"
DOUBLE_HERE = "expandable_here_string_literal"
STRING_TYPES = frozenset({SINGLE_STRING, DOUBLE_STRING, SINGLE_HERE, DOUBLE_HERE})


def _parser() -> Parser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = Parser(LANGUAGE)
    return parser


def parse(source: str | bytes) -> Tree:
    data = source.encode("utf-8") if isinstance(source, str) else source
    return _parser().parse(data)


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), depth first, in source order."""
    cursor = node.walk()
    visited_children = False
    while True:
        if not visited_children:
            current = cursor.node
            if current is not None:
                yield current
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            return
        visited_children = True


def text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def syntax_errors(tree: Tree) -> list[Node]:
    """ERROR and MISSING nodes, outermost first (an error inside an error is not repeated)."""
    if not tree.root_node.has_error:
        return []
    found: list[Node] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    return sorted(found, key=lambda node: node.start_byte)


_MULTIPLIER = re.compile(rb"(?<=\d)(KB|MB|GB|TB|PB)\b", re.IGNORECASE)
# A comma between bare words: ``Select-Object Name, Id, @{...}``; and between a bare word and
# a string (``-Properties Name, 'msDS-X'``), tried separately: in expressions a comma between
# two strings must stay.
_BAREWORD_COMMA = re.compile(rb"(?<=[A-Za-z0-9_}]),(?=\s*(?:[A-Za-z_]|@\{))")
_MIXED_COMMA = re.compile(rb"(?<=[A-Za-z0-9_]),(?=\s*['\"])|(?<=['\"]),(?=\s*[A-Za-z_])")
# A native argument glued to a string: ``netsh wlan add profile filename="$path"``.
_GLUED_STRING = re.compile(rb"(?<=[A-Za-z0-9_])=(?=[\"'])")


def parse_lenient(source: str | bytes) -> Tree:
    """The tree of :func:`lenient_parse`."""
    return lenient_parse(source).tree


@dataclass(frozen=True)
class LenientParse:
    """A lenient parse: the bytes the grammar saw (rewritten or not) and their tree."""

    data: bytes
    tree: Tree
    # The quick rewrite alone gave this clean tree: a script that differs only inside strings
    # and comments gets its tree by re-parsing incrementally (:func:`reparse`).
    quick: bool


def lenient_parse(source: str | bytes) -> LenientParse:
    """
    Parse, working around gaps of the grammar where PowerShell itself is fine: upper-case
    numeric multipliers (``1MB``), bare-word lists in command arguments
    (``Select-Object Name, Id``) and native arguments glued to a string (``name="$x"``).
    Only inside the regions the grammar rejected, and outside strings and comments, those are
    rewritten byte for byte (``1mb``, ``Name  Id``, ``name "$x"``), so every offset and line
    stays where it was; the rewrite is kept only when it leaves fewer errors.
    """
    data = source.encode("utf-8") if isinstance(source, str) else source
    # Most scripts list properties somewhere (``Select-Object Name, Id``): rewriting those
    # first, outside what a quick scan sees as strings and comments, usually leaves one clean
    # parse, which is far cheaper than the grammar's error recovery.
    quick = _quick_rewrite(data)
    if quick is not None:
        tree = parse(quick)
        if not tree.root_node.has_error:
            return LenientParse(quick, tree, quick=True)
    tree = parse(data)
    if not tree.root_node.has_error:
        # Nothing to rewrite (the quick rewrite would give these very bytes) or it did not help.
        return LenientParse(data, tree, quick=quick is None or quick == data)
    errors = syntax_errors(tree)
    masked = bytearray(data)
    for node in walk(tree.root_node):
        if node.type in ("string_literal", "comment"):
            _mask(masked, node.start_byte, node.end_byte)
    best, best_data = tree, data
    fewest = len(errors)
    base = ((_MULTIPLIER, None), (_BAREWORD_COMMA, b" "))
    for patterns in (
        base,
        (*base, (_MIXED_COMMA, b" ")),
        (*base, (_GLUED_STRING, b" ")),
        (*base, (_MIXED_COMMA, b" "), (_GLUED_STRING, b" ")),
    ):
        attempt = _rewrite(data, bytes(masked), errors, patterns)
        retry = parse(attempt)
        count = len(syntax_errors(retry))
        if count < fewest:
            best, best_data, fewest = retry, attempt, count
        if not count:
            break
    return LenientParse(best_data, best, quick=False)


def reparse(base: LenientParse, replacements: list[tuple[int, int, bytes]]) -> LenientParse | None:
    """
    The lenient parse of ``base``'s bytes with ``replacements`` (``(start, end, new bytes)``,
    in order, not overlapping) applied, by tree-sitter's incremental parsing: the unchanged
    parts of the tree are reused, so only the edited regions are parsed again. For edits inside
    strings and comments (rendered parameter values) the bytes are what the quick rewrite of
    the edited script gives, so the tree is the one :func:`lenient_parse` would build. None when
    ``base`` cannot be reused or the edited script does not parse cleanly (the caller then
    parses it in full, with every fallback).
    """
    if not base.quick:
        return None
    data = base.data
    tree = base.tree.copy()
    # Last edit first: the offsets of everything before it stay those of ``data``.
    for start, end, new in reversed(replacements):
        row = data.count(b"\n", 0, start)
        column = start - (data.rfind(b"\n", 0, start) + 1)
        end_row = row + data.count(b"\n", start, end)
        end_column = end - (data.rfind(b"\n", 0, end) + 1)
        breaks = new.count(b"\n")
        new_column = len(new) - (new.rfind(b"\n") + 1) if breaks else column + len(new)
        tree.edit(
            start_byte=start,
            old_end_byte=end,
            new_end_byte=start + len(new),
            start_point=Point(row, column),
            old_end_point=Point(end_row, end_column),
            new_end_point=Point(row + breaks, new_column),
        )
    pieces: list[bytes] = []
    position = 0
    for start, end, new in replacements:
        pieces += (data[position:start], new)
        position = end
    pieces.append(data[position:])
    edited = b"".join(pieces)
    result = _parser().parse(edited, tree)
    if result.root_node.has_error:
        return None
    return LenientParse(edited, result, quick=True)


def _rewrite(
    data: bytes,
    masked: bytes,
    errors: list[Node],
    patterns: tuple[tuple[re.Pattern[bytes], bytes | None], ...],
) -> bytes:
    rewritten = bytearray(data)
    for node in errors:
        # A statement the grammar rejected: look at its whole lines and the next one (a list
        # may go on there).
        start = data.rfind(b"\n", 0, node.start_byte) + 1
        end = data.find(b"\n", node.end_byte)
        end = data.find(b"\n", end + 1) if end >= 0 else -1
        end = len(data) if end < 0 else end
        region = masked[start:end]
        for pattern, replacement in patterns:
            for match in pattern.finditer(region):
                at = start + match.start()
                piece = replacement or data[at : at + len(match.group(0))].lower()
                rewritten[at : at + len(piece)] = piece
    return bytes(rewritten)


# Strings, here-strings and comments as a quick scan sees them (the parse decides for real).
_OPAQUE = re.compile(
    rb"@'.*?\n'@|@\".*?\n\"@|'(?:[^']|'')*'|\"(?:[^\"`]|`.)*\"|<#.*?#>|#[^\n]*",
    re.DOTALL,
)


def _quick_rewrite(data: bytes) -> bytes | None:
    """``data`` with the bare-word commas and upper-case multipliers rewritten outside what
    looks like strings and comments; None when there is nothing to rewrite."""
    if not (_BAREWORD_COMMA.search(data) or _MULTIPLIER.search(data)):
        return None
    # One left-to-right scan: a string or comment is consumed whole (what is inside is never
    # rewritten); a multiplier or a bare-word comma outside them is.
    rewritten = bytearray(data)
    for match in _QUICK_SCAN.finditer(data):
        kind = match.lastgroup
        if kind == "multiplier":
            rewritten[match.start() : match.end()] = match.group(0).lower()
        elif kind == "comma":
            rewritten[match.start()] = 0x20
    return bytes(rewritten)


_QUICK_SCAN = re.compile(
    rb"(?P<opaque>" + _OPAQUE.pattern + rb")"
    rb"|(?P<multiplier>(?<=\d)(?:KB|MB|GB|TB|PB)\b)"
    rb"|(?P<comma>" + _BAREWORD_COMMA.pattern + rb")",
    re.DOTALL | re.IGNORECASE,
)


_VISIBLE = re.compile(rb"[^\r\n]")


def _mask(buffer: bytearray, start: int, end: int) -> None:
    """Hide what is between a string's or comment's delimiters (line breaks stay)."""
    if end - start > 2:
        buffer[start + 1 : end - 1] = _VISIBLE.sub(b"x", bytes(buffer[start + 1 : end - 1]))
