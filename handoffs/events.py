"""
Live events of the hand-off flow, published only after the surrounding transaction commits.

Every event carries a JSON payload for API clients and, under ``html``, the fragments a page
swaps in (the same partials the pages render, with ``hx-swap-oob`` wrappers for the htmx
websocket extension). The consumers strip ``html`` for JSON clients.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string

from accounts.models import User
from flowpilot.realtime import account_group, publish, user_group
from handoffs.models import AppNotification, SessionHandoff
from sessions_app.markdown import render_markdown

HANDOFF_CREATED = "handoff_created"
HANDOFF_CLAIMED = "handoff_claimed"
ASSESSMENT_READY = "handoff_assessment_ready"
NOTIFICATION = "notification"
NOTIFICATIONS_CHANGED = "notifications_changed"


def escalations_group(account_id: int) -> str:
    return account_group(account_id, "escalations")


def _user_ref(user: User | None) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name} if user is not None else None


def created_payload(handoff: SessionHandoff) -> dict[str, Any]:
    session = handoff.session
    card = render_to_string(
        "handoffs/_card.html", {"handoff": handoff, "unread": True, "live": True}
    )
    return {
        "handoff_id": str(handoff.pk),
        "session_id": session.pk,
        "problem_summary": session.problem_summary,
        "psa_ticket_id": session.psa_ticket_id or None,
        "from_user": _user_ref(handoff.from_user),
        "from_user_id": handoff.from_user_id,
        "target_user": _user_ref(handoff.target_user),
        "reason": handoff.reason,
        "created_at": handoff.created_at.isoformat(),
        "url": handoff.get_absolute_url(),
        "html": (
            '<div id="queue-empty" hx-swap-oob="delete"></div>'
            f'<div id="queue-list" hx-swap-oob="afterbegin">{card}</div>'
        ),
    }


def publish_handoff_created_on_commit(handoff: SessionHandoff) -> None:
    # Rendered now, inside the transaction: the commit only hands the event to the publisher.
    payload = created_payload(handoff)
    group = escalations_group(handoff.account_id)
    transaction.on_commit(lambda: publish(group, HANDOFF_CREATED, payload))


def claimed_payload(
    *, handoff_id: str, session_id: int, claimed_by: User, claimed_at: datetime
) -> dict[str, Any]:
    box = render_to_string(
        "handoffs/_claim_box.html",
        {
            "handoff_id": handoff_id,
            "session_id": session_id,
            "claimed_by": claimed_by,
            "claimed_at": claimed_at,
            "oob": True,
        },
    )
    return {
        "handoff_id": handoff_id,
        "session_id": session_id,
        "claimed_by": _user_ref(claimed_by),
        "claimed_at": claimed_at.isoformat(),
        "html": f'<div id="handoff-card-{handoff_id}" hx-swap-oob="delete"></div>{box}',
    }


HANDOFF_PICKED_UP = "handoff_picked_up"


def picked_up_payload(
    *, handoff_id: str, session_id: int, claimed_by: User, claimed_at: datetime
) -> dict[str, Any]:
    """For the escalator (their own channel): the session page's banner line, swapped in."""
    line = render_to_string(
        "handoffs/_session_pickup.html",
        {"session_id": session_id, "pickup_by": claimed_by, "pickup_at": claimed_at, "oob": True},
    )
    return {
        "handoff_id": handoff_id,
        "session_id": session_id,
        "claimed_by": _user_ref(claimed_by),
        "claimed_at": claimed_at.isoformat(),
        "html": line,
    }


def publish_handoff_claimed_on_commit(
    *,
    account_id: int,
    handoff_id: str,
    session_id: int,
    claimed_by: User,
    claimed_at: datetime,
    escalator_id: int | None = None,
) -> None:
    """
    Every queue drops the card; the escalator's pages (bell socket) hear who picked it up. The
    payloads need nothing from the database: they are built where they are sent (on Redis, the
    publisher thread), not in the claim request.
    """

    claim: dict[str, Any] = {
        "handoff_id": handoff_id,
        "session_id": session_id,
        "claimed_by": claimed_by,
        "claimed_at": claimed_at,
    }
    claimed = partial(claimed_payload, **claim)
    picked_up = partial(picked_up_payload, **claim)

    def send() -> None:
        publish(escalations_group(account_id), HANDOFF_CLAIMED, claimed)
        if escalator_id is not None:
            publish(user_group(escalator_id), HANDOFF_PICKED_UP, picked_up)

    transaction.on_commit(send)


PACKAGE_READY = "handoff_package_ready"


def package_payload(handoff: SessionHandoff) -> dict[str, Any]:
    """The assistant's package replaced the draft: the hand-off screen swaps the section."""
    section = render_to_string(
        "handoffs/_package.html",
        {
            "handoff_id": str(handoff.pk),
            "package_html": render_markdown(handoff.package_markdown),
            "oob": True,
        },
    )
    return {
        "handoff_id": str(handoff.pk),
        "session_id": handoff.session_id,
        "markdown": handoff.package_markdown,
        "html": section,
    }


def publish_package_ready_on_commit(handoff: SessionHandoff) -> None:
    payload = package_payload(handoff)
    group = escalations_group(handoff.account_id)
    transaction.on_commit(lambda: publish(group, PACKAGE_READY, payload))


def assessment_payload(handoff: SessionHandoff) -> dict[str, Any]:
    fragment = render_to_string("handoffs/_assessment.html", {"handoff": handoff, "oob": True})
    return {
        "handoff_id": str(handoff.pk),
        "session_id": handoff.session_id,
        "assessment_status": handoff.assessment_status,
        "ai_assessment": handoff.ai_assessment or None,
        "html": fragment,
    }


def publish_assessment_ready_on_commit(handoff: SessionHandoff) -> None:
    payload = assessment_payload(handoff)
    transaction.on_commit(
        lambda: publish(escalations_group(handoff.account_id), ASSESSMENT_READY, payload)
    )


# --- the bell ---------------------------------------------------------------------------------


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        AppNotification.objects.filter(user_id__in=user_ids, read_at__isnull=True)
        .values("user_id")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(user_ids, 0)
    counts.update({row["user_id"]: row["n"] for row in rows})
    return counts


def _bell_html(unread: int, notification: AppNotification | None = None) -> str:
    html = str(render_to_string("handoffs/_bell_count.html", {"bell_unread": unread, "oob": True}))
    if notification is not None:
        item = render_to_string("handoffs/_notification.html", {"notification": notification})
        html += (
            '<div id="bell-empty" hx-swap-oob="delete"></div>'
            f'<ul id="bell-items" hx-swap-oob="afterbegin">{item}</ul>'
        )
    return html


def publish_notifications(notifications: list[AppNotification]) -> None:
    """Each recipient's bell: the new entry and their unread count (one count query for all)."""
    if not notifications:
        return
    counts = unread_counts([n.user_id for n in notifications])
    for notification in notifications:
        unread = counts.get(notification.user_id, 0)
        publish(
            user_group(notification.user_id),
            NOTIFICATION,
            {
                "notification": notification.as_dict(),
                "unread": unread,
                "html": _bell_html(unread, notification),
            },
        )


def publish_bell_on_commit(user: User) -> None:
    def send() -> None:
        unread = unread_counts([user.pk])[user.pk]
        publish(
            user_group(user.pk),
            NOTIFICATIONS_CHANGED,
            {"unread": unread, "html": _bell_html(unread)},
        )

    transaction.on_commit(send)
