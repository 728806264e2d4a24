"""Who is told about an escalation, and the line they read (bell, e-mail, Slack/Teams)."""

from __future__ import annotations

from accounts.models import Role, User

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
