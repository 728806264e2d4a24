"""``{{ text|highlight:terms }}``: escaped text with the words a search matched in ``<mark>``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sessions_app.memory.text import stem

register = template.Library()


@register.filter(name="highlight")
def highlight(text: str, terms: Iterable[str] | None) -> SafeString:
    value = str(text or "")
    stems = sorted({stem(term) for term in terms or [] if term}, key=len, reverse=True)
    if not stems:
        return mark_safe(escape(value))  # noqa: S308 - escaped just above
    pattern = re.compile(
        r"(?<![A-Za-z0-9])("
        + "|".join(re.escape(s) for s in stems)
        + r")[A-Za-z0-9]{0,4}(?![A-Za-z0-9])",
        re.IGNORECASE,
    )
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(value):
        parts.append(escape(value[last : match.start()]))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(escape(value[last:]))
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped


@register.filter(name="outcome_label")
def outcome_label(outcome: str) -> str:
    return {
        "applied_success": "Worked",
        "applied_partial": "Partly worked",
        "applied_failed": "Didn't work",
        "applied_pending": "Waiting to verify",
        "proposed": "Not verified",
        "dismissed": "Dismissed",
    }.get(outcome or "", "No fix recorded")


@register.filter(name="outcome_tone")
def outcome_tone(outcome: str) -> str:
    return {
        "applied_success": "emerald",
        "applied_partial": "amber",
        "applied_failed": "red",
        "applied_pending": "cyan",
    }.get(outcome or "", "neutral")
