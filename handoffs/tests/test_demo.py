"""Demo seeding leaves an escalation waiting for pick-up, with its assessment, exactly once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from handoffs import selectors
from handoffs.models import AppNotification, AssessmentStatus, SessionHandoff


@pytest.mark.django_db
def test_seed_demo_leaves_a_waiting_escalation_once() -> None:
    call_command("seed_demo", stdout=StringIO())
    handoff = SessionHandoff.objects.get()
    assert handoff.from_user.email == "sam@northwind.example"
    assert handoff.claimed_by is None
    assert handoff.assessment_status == AssessmentStatus.READY
    assert handoff.package_markdown.startswith("## Problem")
    jane = User.objects.get(email="jane@northwind.example")
    assert [h.pk for h in selectors.escalation_queue(jane).items] == [handoff.pk]
    assert AppNotification.objects.filter(user=jane, handoff=handoff).exists()
    call_command("seed_demo", stdout=StringIO())
    assert SessionHandoff.objects.count() == 1
