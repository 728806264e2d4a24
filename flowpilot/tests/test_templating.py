"""``{% reltime %}``: the one rendering of a moment, with the same words as static/js/app.js."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

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
