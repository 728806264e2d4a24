"""``{% reltime %}``: the one rendering of a moment, with the same words as static/js/app.js."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import engines
from django.utils import timezone

from flowpilot.templating import relative, reltime

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(seconds=-10), "in a moment"),
        (timedelta(minutes=1), "1 minute ago"),
        (timedelta(minutes=5, seconds=40), "6 minutes ago"),
        (timedelta(hours=5), "5 hours ago"),
        (timedelta(days=3), "3 days ago"),
        (timedelta(days=-2), "in 2 days"),
        (timedelta(days=400), "1 year ago"),
    ],
)
def test_relative_words(delta: timedelta, words: str) -> None:
    assert relative(NOW - delta, now=NOW) == words


def test_the_tag_carries_the_iso_value_and_the_exact_time_on_hover() -> None:
    html = str(reltime(datetime(2026, 11, 30, 8, 15, 2, tzinfo=UTC)))
    assert html.startswith('<time datetime="2026-11-30T08:15:02+00:00" ')
    assert 'title="2026-11-30 08:15:02 UTC" data-relative>' in html
    assert html.endswith("ago</time>")


def test_anything_but_a_datetime_renders_nothing() -> None:
    assert reltime(None) == "" and reltime("yesterday") == ""


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 11, 30, 8, 15, 2, tzinfo=UTC),
        datetime(2026, 11, 30, 8, 15, 2, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 23, 59, 59, 1, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
    ],
)
def test_the_exact_time_reads_as_localtime_and_strftime_write_it(value: datetime) -> None:
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    exact = f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()
    assert str(reltime(value)) == (
        f'<time datetime="{local.isoformat()}" title="{exact}" data-relative>'
        f"{relative(value)}</time>"
    )


def test_the_tag_shows_the_current_time_zone_of_each_rendering() -> None:
    page = engines["django"].from_string("{% reltime a %}|{% reltime b %}")
    moment = datetime(2026, 11, 30, 8, 15, 2, tzinfo=UTC)
    context = {"a": moment, "b": moment + timedelta(hours=1)}
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        tokyo = page.render(context)
    utc = page.render(context)
    assert tokyo.count("+09:00") == 2 and 'title="2026-11-30 17:15:02 JST"' in tokyo
    assert utc.count("+00:00") == 2 and 'title="2026-11-30 09:15:02 UTC"' in utc
