"""
The PowerShell grammar (tree-sitter-powershell) shared by rendering and the safety review.

One parser per thread (tree-sitter parsers are not thread-safe); parsing a few hundred lines
takes well under a millisecond.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser, Tree

LANGUAGE = Language(tree_sitter_powershell.language())
_local = threading.local()

SINGLE_STRING = "verbatim_string_characters"
DOUBLE_STRING = "expandable_string_literal"
SINGLE_HERE = "verbatim_here_string_characters"
DOUBLE_HERE = "expandable_here_string_literal"
STRING_TYPES = frozenset({SINGLE_STRING, DOUBLE_STRING, SINGLE_HERE, DOUBLE_HERE})


def parse(source: str | bytes) -> Tree:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = Parser(LANGUAGE)
    data = source.encode("utf-8") if isinstance(source, str) else source
    return parser.parse(data)


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
_BAREWORD_COMMA = re.compile(rb"(?<=[A-Za-z0-9_}]),(?=\s*(?:[A-Za-z_]|@\{))")


def parse_lenient(source: str | bytes) -> Tree:
    """
    Parse, working around two gaps of the grammar where PowerShell itself is fine: upper-case
    numeric multipliers (``1MB``) and bare-word lists in command arguments
    (``Select-Object Name, Id``). Outside strings and comments those are rewritten byte for
    byte (``1mb``, ``Name  Id``), so every offset and line stays where it was.
    """
    data = source.encode("utf-8") if isinstance(source, str) else source
    tree = parse(data)
    if not tree.root_node.has_error:
        return tree
    protected = sorted(
        (node.start_byte, node.end_byte)
        for node in walk(tree.root_node)
        if node.type in ("string_literal", "comment")
    )
    pieces: list[bytes] = []
    position = 0
    for start, end in protected:
        if start < position:
            continue
        pieces.append(_rewrite(data[position:start]))
        pieces.append(data[start:end])
        position = end
    pieces.append(_rewrite(data[position:]))
    retry = parse(b"".join(pieces))
    return retry if len(syntax_errors(retry)) < len(syntax_errors(tree)) else tree


def _rewrite(chunk: bytes) -> bytes:
    chunk = _MULTIPLIER.sub(lambda m: m.group(1).lower(), chunk)
    return _BAREWORD_COMMA.sub(b" ", chunk)
