"""
The one Markdown renderer of the product: chat steps, previews, resolution notes and hand-off
packages. Python-Markdown does not sanitise, so its output goes through nh3 (an allowlist)
before it is marked safe. Images are dropped so model output cannot beacon data to a
third-party host.
"""

from __future__ import annotations

import re
from functools import lru_cache

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
    "kbd", "del",
}  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "code": {"class"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Rendering is a pure function of the text: a page of 30 steps renders each text once per
# process, later views read the result from here.
CACHE_SIZE = 4096

_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,3}[.)])\s+\S")
_ORDERED_ITEM = re.compile(r"^\s{0,3}\d{1,3}[.)]\s+\S")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def separate_lists(text: str) -> str:
    """
    Models write "Try this:\\n1. one\\n2. two" without the blank line Markdown needs before a
    list, so the items would run into the paragraph; and "1. one\\n- then" (a bullet straight
    after a numbered item) would run into the item. Insert that blank line (outside code
    fences) so plans and bullets render as lists.
    """
    lines = text.split("\n")
    out: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif (
            not fenced
            and _LIST_ITEM.match(line)
            and out
            and out[-1].strip()
            and not out[-1].startswith((" ", "\t"))
            and (
                not _LIST_ITEM.match(out[-1])
                or (
                    not line.startswith((" ", "\t"))
                    and bool(_ORDERED_ITEM.match(out[-1])) != bool(_ORDERED_ITEM.match(line))
                )
            )
        ):
            out.append("")
        out.append(line)
    return "\n".join(out)


@lru_cache(maxsize=CACHE_SIZE)
def _render(text: str) -> str:
    html = md.markdown(separate_lists(text), extensions=["fenced_code", "sane_lists", "tables"])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str) -> SafeString:
    """Markdown to sanitised HTML: no scripts, event handlers, styles, images or odd schemes."""
    return mark_safe(_render(text or ""))  # noqa: S308 - sanitised by nh3 in _render
