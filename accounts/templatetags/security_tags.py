from __future__ import annotations

from django import template

register = template.Library()

UNITS = ((1440, "day"), (60, "hour"), (1, "minute"))


@register.filter
def minutes_human(value: int | None) -> str:
    """4320 → "3 days", 90 → "90 minutes": the largest unit that divides the value exactly."""
    if value is None:
        return ""
    minutes = int(value)
    for size, unit in UNITS:
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minutes"
