"""The status pill filter of session lists."""

from __future__ import annotations

from django.template import Context, Template

from sessions_app.models import SessionStatus
from sessions_app.templatetags.session_rows import status_pill


def test_every_status_has_its_pill() -> None:
    expected = {
        SessionStatus.ESCALATED: 'pill-amber">Escalated<',
        SessionStatus.RESOLVED: 'pill-emerald">Resolved<',
        SessionStatus.PARKED: 'pill-neutral">Parked<',
        SessionStatus.ACTIVE: 'pill-neutral">Active<',
    }
    for status, markup in expected.items():
        assert markup in status_pill(status)
    html = Template("{% load session_rows %}{{ s|status_pill }}").render(Context({"s": "parked"}))
    assert html == '<span class="pill pill-neutral">Parked</span>'
