"""Escalations nobody picked up are announced once more by the Celery beat sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import User
from flowpilot.celery import app as celery_app
from flowpilot.testing.smtp import Inbox
from handoffs import services, tasks
from handoffs.models import AppNotification, SessionHandoff
from handoffs.tests.support import escalate, make_session
from handoffs.tests.test_notifications import (  # noqa: F401 - the fixtures
    Receiver,
    configure_webhooks,
    receiver,
)
from sessions_app.models import AISession

WAITING = "handoff_waiting"


def age(handoff: SessionHandoff, minutes: int) -> None:
    SessionHandoff.objects.filter(pk=handoff.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_the_sweep_is_on_the_beat_schedule() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["handoffs-renotify-ageing"]
    assert entry["task"] == "handoffs.renotify_ageing" in celery_app.tasks
    assert entry["schedule"] == timedelta(minutes=5)


@pytest.mark.django_db(transaction=True)
def test_an_ageing_escalation_is_announced_once_more_by_bell_and_email_only(
    smtp: Inbox,
    receiver: Receiver,  # noqa: F811
    engineer: User,
    owner: User,
    admin_user: User,
    viewer: User,
) -> None:
    configure_webhooks(engineer, receiver.url)
    handoff = escalate(engineer, session=make_session(engineer, psa_ticket_id="12345"))
    first_mails, first_posts = len(smtp.messages), len(receiver.posts)
    assert first_mails == 2 and first_posts == 2
    age(handoff, settings.ESCALATION_RENOTIFY_MINUTES + 1)

    assert tasks.renotify_ageing.delay().get() == 1

    waiting = AppNotification.objects.filter(kind=WAITING).order_by("user_id")
    assert sorted(n.user_id for n in waiting) == sorted([owner.pk, admin_user.pk])
    assert all(
        n.title.startswith("Still waiting for pick-up · Escalation from Jane · #12345: Outlook")
        and n.link == f"/escalations/{handoff.pk}"
        for n in waiting
    )
    assert len(smtp.messages) == first_mails + 2  # the reminder, once per recipient
    assert len(receiver.posts) == first_posts  # no second Slack/Teams post
    # Idempotent: the next beat (or a redelivered task) announces nothing again.
    assert tasks.renotify_ageing.delay().get() == 0
    assert AppNotification.objects.filter(kind=WAITING).count() == 2
    assert len(smtp.messages) == first_mails + 2


@pytest.mark.django_db
def test_young_claimed_parked_and_closed_escalations_are_left_alone(
    engineer: User, teammate: User, owner: User
) -> None:
    old = settings.ESCALATION_RENOTIFY_MINUTES + 5
    young = escalate(engineer)
    age(young, 1)
    claimed = escalate(engineer)
    services.claim_handoff(actor=teammate, session_id=claimed.session_id, handoff_id=claimed.pk)
    age(claimed, old)
    parked = services.create_handoff(
        session=make_session(engineer), actor=engineer, intent="park"
    ).handoff
    age(parked, old)
    closed = escalate(engineer)
    AISession.objects.filter(pk=closed.session_id).update(status="resolved")
    age(closed, old)
    announced: list[str] = []
    from handoffs.ageing import renotify_ageing

    assert renotify_ageing(announce=announced.append) == 0
    assert announced == []
    assert not AppNotification.objects.filter(kind=WAITING).exists()


@pytest.mark.django_db
def test_a_claim_between_the_read_and_the_update_wins(
    engineer: User, teammate: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep's conditional UPDATE re-checks claimed_by: a senior who picked it up in the
    meantime is not told it is still waiting."""
    from handoffs import ageing

    handoff = escalate(engineer)
    age(handoff, settings.ESCALATION_RENOTIFY_MINUTES + 1)
    original_list = list

    def read_then_claim(rows: Any) -> Any:
        """The sweep's read of due hand-offs, with a senior's claim landing right after it."""
        result = original_list(rows)
        if result and isinstance(result[0], SessionHandoff):
            services.claim_handoff(
                actor=teammate, session_id=handoff.session_id, handoff_id=handoff.pk
            )
        return result

    monkeypatch.setattr(ageing, "list", read_then_claim, raising=False)
    assert ageing.renotify_ageing() == 0
    assert not AppNotification.objects.filter(kind=WAITING).exists()
