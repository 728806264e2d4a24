"""
``{{ session.status|status_pill }}``: the status pill of a session, the same markup wherever a
session is listed. A filter over a fixed table rather than an include: the sidebar (up to 40
rows) and the lists show one per row.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_ESCALATED = mark_safe('<span class="pill pill-amber">Escalated</span>')
PILLS: dict[str, SafeString] = {
    "escalated": _ESCALATED,
    "requesting_escalation": _ESCALATED,
    "resolved": mark_safe('<span class="pill pill-emerald">Resolved</span>'),
    "parked": mark_safe('<span class="pill pill-neutral">Parked</span>'),
}
_ACTIVE = mark_safe('<span class="pill pill-neutral">Active</span>')


@register.filter(is_safe=True)
def status_pill(status: object) -> SafeString:
    return PILLS.get(str(status), _ACTIVE)
