"""Who is told about an escalation, the line they read (bell, e-mail, Slack/Teams), and the
bell rows written for them (inside the caller's transaction)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import Role, User
from handoffs.models import AppNotification, NotificationKind, SessionHandoff
from sessions_app.models import AISession

SNIPPET_LIMIT = 70
NOTIFY_ROLES = (Role.OWNER, Role.ADMIN, Role.ENGINEER)


def notification_title(*, from_user: User, problem: str, ticket: str) -> str:
    snippet = " ".join((problem or "").split())
    if len(snippet) > SNIPPET_LIMIT:
        snippet = snippet[:SNIPPET_LIMIT].rstrip() + "…"
    ticket_part = f" · #{ticket.lstrip('#')}" if ticket else ""
    return f"Escalation from {from_user.first_name}{ticket_part}: {snippet}"


def notification_recipients(*, account_id: int, escalator: User) -> list[User]:
    """Active engineers, admins and owners of the account, minus the escalator."""
    return list(
        User.objects.filter(account_id=account_id, is_active=True, role__in=NOTIFY_ROLES)
        .exclude(pk=escalator.pk)
        .only("id", "email", "name", "account_id")
    )


def waiting_title(title: str) -> str:
    """The re-notification of an escalation nobody picked up yet."""
    return f"Still waiting for pick-up · {title}"[:200]


def create_notifications(
    *,
    handoff: SessionHandoff,
    session: AISession,
    actor: User,
    kind: str = NotificationKind.HANDOFF_CREATED,
) -> int:
    title = notification_title(
        from_user=actor, problem=session.problem_summary, ticket=session.psa_ticket_id
    )
    if kind == NotificationKind.HANDOFF_WAITING:
        title = waiting_title(title)
    body = handoff.reason or "Open it to see the package and pick it up."
    now = timezone.now()
    rows = [
        AppNotification(
            account_id=session.account_id,
            user=user,
            kind=kind,
            title=title,
            body=body,
            link=handoff.get_absolute_url(),
            handoff=handoff,
            created_at=handoff.created_at if kind == NotificationKind.HANDOFF_CREATED else now,
        )
        for user in notification_recipients(account_id=session.account_id, escalator=actor)
    ]
    AppNotification.objects.bulk_create(rows)
    return len(rows)
