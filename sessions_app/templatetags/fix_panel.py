"""``{% fix_panel %}``: renders the suggested-fix panel from the including page's context."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from sessions_app.fix_context import render_fix_panel
from sessions_app.selectors import active_fix

register = template.Library()
_MISSING = object()


@register.simple_tag(takes_context=True)
def fix_panel(context: template.Context) -> SafeString:
    """
    The session page includes the panel with ``session`` and ``fix`` (the active fix or None);
    without ``fix`` in the context the active one is looked up.
    """
    session = context["session"]
    fix: Any = context.get("fix", _MISSING)
    if fix is _MISSING:
        fix = active_fix(session)
    html = render_fix_panel(context.get("request"), session, fix)
    return mark_safe(html)  # noqa: S308 - a rendered, auto-escaped template
