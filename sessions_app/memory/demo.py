"""
Resolved history for the demo's Northwind account, so "Solved before" and History have content
on first sign-in: a dozen past sessions from the relevance corpus, played through the real
services (facts, a failed attempt, the fix that worked, the resolution note) by Jane and Sam,
spread over the last weeks, and indexed. Idempotent: a past session already there is skipped.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, User
from sessions_app.memory.corpus import SESSIONS
from sessions_app.memory.history import record_past_session
from sessions_app.memory.indexing import index_session
from sessions_app.models import AISession, SessionStatus
from sessions_app.services import sessions

ACCOUNT = "northwind"
# (corpus key, engineer, days ago): the families the demo's open sessions are about first.
HISTORY = [
    ("outlook-password", "sam@northwind.example", 9),
    ("outlook-ost", "jane@northwind.example", 23),
    ("outlook-connecting", "sam@northwind.example", 41),
    ("vpn-dpd", "jane@northwind.example", 6),
    ("vpn-dns", "sam@northwind.example", 30),
    ("print-stuck", "sam@northwind.example", 14),
    ("print-spooler", "jane@northwind.example", 52),
    ("teams-camera", "jane@northwind.example", 18),
    ("teams-echo", "sam@northwind.example", 35),
    ("lockout-phone", "jane@northwind.example", 3),
    ("onedrive-stuck", "sam@northwind.example", 27),
    ("cert-expired", "jane@northwind.example", 60),
]


def seed() -> int:
    """Record the missing past sessions; returns how many were created."""
    account = Account.objects.filter(slug=ACCOUNT).first()
    if account is None:
        return 0
    by_key = {past.key: past for past in SESSIONS}
    engineers = {user.email: user for user in User.objects.filter(account=account)}
    created = 0
    now = timezone.now()
    for key, email, days_ago in HISTORY:
        past, user = by_key.get(key), engineers.get(email)
        if past is None or user is None:
            continue
        summary = sessions.derive_summary(past.problem)
        if AISession.objects.filter(
            account=account, problem_summary=summary, status=SessionStatus.RESOLVED
        ).exists():
            continue
        with transaction.atomic():
            session = record_past_session(user=user, past=past)
            when = now - timedelta(days=days_ago, hours=days_ago % 7)
            AISession.objects.filter(pk=session.pk).update(
                created_at=when - timedelta(minutes=35), resolved_at=when, updated_at=when
            )
        # Indexed here too (the task queued on commit may have no worker yet in the demo).
        index_session(session_id=session.pk)
        created += 1
    return created
