"""
Template tags every page uses, registered as builtins (``TEMPLATES`` OPTIONS): no ``{% load %}``.

``{% reltime value %}`` is the one rendering of a moment: ``<time>`` with the ISO value, the
exact time on hover and a relative text that ``static/js/app.js`` keeps fresh. It is plain
Python rather than a template of ``date`` and ``timesince`` filters: list pages render it once
per row, and the filters cost ten times as much.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# The same units and rounding as ``relative()`` in static/js/app.js, so the server's text and
# the refreshed one agree.
UNITS = (
    ("year", 31_536_000),
    ("month", 2_592_000),
    ("week", 604_800),
    ("day", 86_400),
    ("hour", 3_600),
    ("minute", 60),
)


def relative(value: datetime, *, now: datetime | None = None) -> str:
    """ "just now", "5 minutes ago", "in 2 days": one unit, rounded."""
    seconds = round(((now or timezone.now()) - value).total_seconds())
    size_of = abs(seconds)
    if size_of < 45:
        return "just now" if seconds >= 0 else "in a moment"
    for unit, size in UNITS:
        if size_of >= size:
            count = int(size_of / size + 0.5)
            label = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"{label} ago" if seconds >= 0 else f"in {label}"
    return "just now"


# The render-context key of the current time zone: one lookup per rendering, not per moment.
_ZONE = "flowpilot.reltime.zone"


@register.simple_tag(name="reltime", takes_context=True)
def reltime_tag(context: template.Context, value: object) -> SafeString | str:
    """
    ``{% reltime value %}``. The current time zone (an asgiref ``Local`` read, the dearest part
    of the tag) is read once per rendering: a page shows dozens of moments. The first dict of the
    render context lives for the whole rendering, includes too (Django caches included templates
    there).
    """
    if not isinstance(value, datetime):
        return ""
    rendering: dict[Any, Any] = context.render_context.dicts[0]
    zone: tzinfo | None = rendering.get(_ZONE)
    if zone is None:
        zone = rendering[_ZONE] = timezone.get_current_timezone()
    return reltime(value, zone=zone)


def reltime(value: object, *, zone: tzinfo | None = None) -> SafeString | str:
    """The markup of ``{% reltime %}``, in ``zone`` (the current time zone by default)."""
    if not isinstance(value, datetime):
        return ""
    if value.utcoffset() is not None:  # aware, as ``timezone.is_aware`` tests it
        local = value.astimezone(zone or timezone.get_current_timezone())
    else:
        local = value
    iso = local.isoformat()
    # "YYYY-MM-DD HH:MM:SS" cut from the ISO value: strftime's text for years 1000-9999.
    stamp = f"{iso[:10]} {iso[11:19]}" if local.year >= 1000 else f"{local:%Y-%m-%d %H:%M:%S}"
    exact = f"{stamp} {local.tzname() or ''}".rstrip()
    # Every part is made from the datetime itself: nothing to escape.
    return mark_safe(  # noqa: S308
        f'<time datetime="{iso}" title="{exact}" data-relative>{relative(value)}</time>'
    )


# Every icon's markup, rendered once per name from ``partials/icon.html`` (it depends on the
# name only): the shell shows a dozen icons on every page, and an include per icon costs a
# template render each time.
_ICONS: dict[str, SafeString] = {}


@register.simple_tag
def icon(name: object) -> SafeString:
    """``{% icon "bell" %}``: the SVG of ``partials/icon.html`` for that name ("" if unknown)."""
    key = str(name)
    markup = _ICONS.get(key)
    if markup is None:
        from django.template.loader import render_to_string

        markup = mark_safe(render_to_string("partials/icon.html", {"name": key}))  # noqa: S308
        _ICONS[key] = markup
    return markup
