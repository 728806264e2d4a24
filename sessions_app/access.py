"""The one account-scoped way to fetch a session: foreign → 404, not allowed to act → 403."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Account, Role, User
from accounts.permissions import require_engineer_or_admin
from accounts.tenancy import get_for_account, scoped
from flowpilot.errors import Conflict, Forbidden
from flowpilot.queries import Prepared
from sessions_app.models import AISession, SessionStatus


def sessions_visible_to(user: User) -> QuerySet[AISession]:
    """Every session of the user's account (seniors read a colleague's escalated session)."""
    return scoped(AISession, user.account)


def _with_engineer() -> QuerySet[AISession]:
    return AISession.objects.select_related("user")


# Compiled once: every session page and API call reads its session this way.
_SESSION = Prepared(
    lambda account_id, session_id: scoped(_with_engineer(), Account(pk=account_id)).filter(
        pk=session_id
    ),
    "account_id",
    "session_id",
)


def _fetch(user: User, session_id: object) -> AISession:
    """The account's session with its engineer, or 404."""
    if type(session_id) is int:
        found = _SESSION.rows(account_id=user.account_id, session_id=session_id)
        if not found:
            raise Http404("Not found.")
        return found[0]
    return get_for_account(_with_engineer(), user.account, pk=session_id)


SESSION_CLOSED = "This session is resolved and read-only. Reopen it to change anything."


def get_session(
    user: User, session_id: object, *, for_write: bool = False, allow_closed: bool = False
) -> AISession:
    """
    For a write: viewers and people not on the session → 403; a resolved session → 409
    ``session_closed`` (read-only until reopened) unless ``allow_closed`` (reopen, and the
    posts that answer their own 409).
    """
    session = _fetch(user, session_id)
    if for_write:
        require_engineer_or_admin(user)
        if not can_work_on(user, session):
            raise Forbidden("Only the session's engineer or whoever picked it up can change it.")
        if not allow_closed and session.status == SessionStatus.RESOLVED:
            raise Conflict(SESSION_CLOSED, code="session_closed")
    return session


def can_work_on(user: User, session: AISession) -> bool:
    """The session's engineer, whoever picked it up, or an admin/owner: may change or reopen."""
    if not user.can_act:
        return False
    if user.is_super_admin or user.role in (Role.OWNER, Role.ADMIN):
        return True
    return session.user_id == user.pk or session.escalated_to_id == user.pk


def can_edit(user: User, session: AISession) -> bool:
    """Whether the page offers write controls: on the session, and the session is open."""
    return can_work_on(user, session) and session.status != SessionStatus.RESOLVED


def can_reopen(user: User, session: AISession) -> bool:
    return can_work_on(user, session) and session.status == SessionStatus.RESOLVED
