"""Demo seed (idempotent, realistic) and the tenant-scoped admin of sessions_app models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from accounts import demo as accounts_demo
from accounts.models import User
from sessions_app import demo
from sessions_app.models import AISession, Fact, SuggestedFix, TaskItem
from sessions_app.tests.chat_support import start

pytestmark = pytest.mark.django_db


def test_seed_creates_realistic_sessions_once() -> None:
    """The seed plays sessions through the offline assistant; a second run adds nothing."""
    accounts_demo.seed()
    assert demo.seed() == len(demo.DEMO_SESSIONS)
    assert demo.seed() == 0
    outlook = AISession.objects.get(problem_summary__startswith="Outlook keeps asking")
    assert outlook.psa_ticket_id == "48213"
    assert outlook.steps.count() == 4
    assert TaskItem.objects.filter(session=outlook, removed_at__isnull=True).exists()
    assert Fact.objects.filter(session=outlook).count() >= 2
    vpn = AISession.objects.get(problem_summary__startswith="VPN")
    assert SuggestedFix.objects.filter(session=vpn, superseded_at__isnull=True).exists()
    assert AISession.objects.filter(status="escalated").count() == 1
    assert not AISession.objects.filter(account__slug="contoso").exists()


def test_admin_is_tenant_scoped(
    owner: User, engineer: User, stranger: User, client_for: Callable[[User], Client]
) -> None:
    """Owners see their account's sessions and facts in the admin, never another account's."""
    mine = start(engineer, "Our printer")
    theirs = start(stranger, "Their printer")
    client = client_for(owner)
    listing = client.get("/admin/sessions_app/aisession/").content.decode()
    assert "Our printer" in listing and "Their printer" not in listing
    assert client.get(f"/admin/sessions_app/aisession/{theirs.pk}/change/").status_code in (
        302,
        404,
    )
    for model in ("aisessionstep", "taskitem", "fact", "suggestedfix"):
        assert client.get(f"/admin/sessions_app/{model}/").status_code == 200
    assert mine.pk


def test_admin_refuses_to_edit_add_or_delete_a_session_row(
    owner: User, engineer: User, client_for: Callable[[User], Client]
) -> None:
    """Admin shows a session read-only: a POSTed edit changes nothing (403), no add, no delete;
    state_version only moves through the services."""
    session = start(engineer, "Printer offline")
    before = AISession.objects.get(pk=session.pk)
    client = client_for(owner)
    page = client.get(f"/admin/sessions_app/aisession/{session.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    edit = client.post(
        f"/admin/sessions_app/aisession/{session.pk}/change/",
        {"problem_summary": "Edited in admin", "status": "resolved", "state_version": 99},
    )
    assert edit.status_code == 403
    after = AISession.objects.get(pk=session.pk)
    assert (after.problem_summary, after.status, after.state_version) == (
        before.problem_summary,
        before.status,
        before.state_version,
    )
    assert client.get("/admin/sessions_app/aisession/add/").status_code == 403
    assert client.post(f"/admin/sessions_app/aisession/{session.pk}/delete/").status_code == 403
    for model in ("aisessionstep", "taskitem", "fact", "suggestedfix"):
        assert client.get(f"/admin/sessions_app/{model}/add/").status_code == 403


def test_admin_is_branded_with_readable_names(
    owner: User, client_for: Callable[[User], Client]
) -> None:
    html = client_for(owner).get("/admin/").content.decode()
    assert "FlowPilot administration" in html
    for label in ("AI sessions", "Suggested fixes", "Task lane items", "Session steps", "Facts"):
        assert label in html
