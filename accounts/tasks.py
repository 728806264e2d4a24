"""Accounts jobs: periodic clean-up (Celery beat) and socket pushes after a sign-out."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.contrib.sessions.models import Session
from django.db.models import Q
from django.utils import timezone

from accounts.mail import send_account_email_task  # noqa: F401  (registered for the worker)
from accounts.models import LoginSession, RefreshToken
from accounts.realtime import push_session_revoked

# Rows stay a while after they stop working, so "why was I signed out" can still be answered
# from them; audit events are kept for good.
RETENTION = timedelta(days=30)


@shared_task(name="accounts.tasks.purge_expired_sessions")  # type: ignore[untyped-decorator]
def purge_expired_sessions() -> dict[str, int]:
    """Delete refresh-token and login-session rows long past expiry, and expired Django sessions."""
    now = timezone.now()
    cutoff = now - RETENTION
    tokens, _ = RefreshToken.objects.filter(
        Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
    ).delete()
    # Deleting a sign-in takes its (long dead) tokens with it; only sign-ins are counted here.
    _, deleted = LoginSession.objects.filter(
        Q(absolute_expires_at__lt=cutoff) | Q(idle_expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
    ).delete()
    logins = deleted.get(LoginSession._meta.label, 0)
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    return {"refresh_tokens": tokens, "login_sessions": logins, "django_sessions": sessions}


@shared_task(name="accounts.tasks.push_session_revoked")  # type: ignore[untyped-decorator]
def push_session_revoked_task(
    user_ids: list[int], login_session_ids: list[int] | int | None = None
) -> int:
    """Close the open sockets of signed-out users, or only those of the named sign-ins
    (idempotent: closing twice is harmless). A single id is a call queued (outbox) before the
    argument became a list."""
    if isinstance(login_session_ids, int):
        login_session_ids = [login_session_ids]
    push_session_revoked(user_ids, login_session_ids)
    return len(user_ids)
