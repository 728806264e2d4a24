"""`manage.py seed_demo`: accounts, users and every app's demo content, safe to run again."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from sessions_app.models import AISession


@pytest.mark.django_db
def test_seed_demo_creates_users_and_sessions_once() -> None:
    """The command prints the logins, seeds sessions, and a second run adds nothing."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "olivia@northwind.example" in out.getvalue()
    assert "Password for every demo user: flowpilot-demo" in out.getvalue()
    users, sessions = User.objects.count(), AISession.objects.count()
    assert users >= 10 and sessions > 0
    call_command("seed_demo", stdout=StringIO())
    assert (User.objects.count(), AISession.objects.count()) == (users, sessions)


@pytest.mark.django_db
def test_seed_demo_prints_the_port_it_is_served_on() -> None:
    """`make demo PORT=8123` seeds with --port 8123: the printed link is the one that works."""
    out = StringIO()
    call_command("seed_demo", "--port", "8123", stdout=out)
    assert "http://127.0.0.1:8123/login" in out.getvalue()
