"""The one account-scoped way to fetch a session: foreign → 404, not allowed to act → 403."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role, User
from accounts.permissions import require_engineer_or_admin
from accounts.tenancy import get_for_account, scoped
from flowpilot.errors import Forbidden
from sessions_app.models import AISession


def sessions_visible_to(user: User) -> QuerySet[AISession]:
    """Every session of the user's account (seniors read a colleague's escalated session)."""
    return scoped(AISession, user.account)


def get_session(user: User, session_id: object, *, for_write: bool = False) -> AISession:
    session = get_for_account(AISession.objects.select_related("user"), user.account, pk=session_id)
    if for_write:
        require_engineer_or_admin(user)
        if not can_work_on(user, session):
            raise Forbidden("Only the session's engineer or whoever picked it up can change it.")
    return session


def can_work_on(user: User, session: AISession) -> bool:
    if not user.can_act:
        return False
    if user.is_super_admin or user.role in (Role.OWNER, Role.ADMIN):
        return True
    return session.user_id == user.pk or session.escalated_to_id == user.pk
