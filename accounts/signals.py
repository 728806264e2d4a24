"""
Every ``django.contrib.auth.login`` (the login page, Django admin, test clients) starts a
``LoginSession`` under the account's policy; every logout ends it. Hooking the auth signals
rather than one view means no way of signing in escapes the policy.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import RevokeReason, User
from accounts.services import web_sessions
from accounts.services.auth import client_ip


@receiver(user_logged_in, dispatch_uid="accounts.start_web_session")
def start_web_session_on_login(
    sender: Any, request: HttpRequest | None, user: User, **kwargs: Any
) -> None:
    if request is None or not hasattr(request, "session") or not isinstance(user, User):
        return
    web_sessions.start_web_session(
        user=user,
        session=request.session,
        ip=client_ip(request),
        user_agent=request.headers.get("User-Agent", "") if hasattr(request, "headers") else "",
    )


@receiver(user_logged_out, dispatch_uid="accounts.end_web_session")
def end_web_session_on_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    web_sessions.end_web_session(
        login_session_id=request.session.get(web_sessions.SESSION_MARKER),
        reason=RevokeReason.LOGOUT,
    )
