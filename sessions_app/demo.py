"""
Demo sessions for the Northwind account, played through the offline runbook assistant so the
steps, lane, facts and suggested fixes are what the product itself produces. Idempotent: a
session whose engineer and problem already exist is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import Account, User
from flowpilot.llm import LLMClient, get_llm_client
from sessions_app.models import AISession, SessionStatus
from sessions_app.services import chat, facts, sessions


@dataclass(frozen=True)
class DemoSession:
    engineer: str
    problem: str
    ticket: str = ""
    answers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = SessionStatus.ACTIVE


DEMO_SESSIONS = [
    DemoSession(
        engineer="jane@northwind.example",
        problem="Outlook keeps asking for a password and mail is not syncing",
        ticket="48213",
        answers=["Only this user. Webmail works in the browser."],
        notes=["User is Dana Whitfield in Accounts; needs mail for month-end close."],
    ),
    DemoSession(
        engineer="jane@northwind.example",
        problem="VPN won't connect from home since this morning",
        ticket="48190",
        answers=[
            "Just her, everyone else is fine. It times out before login.",
            "It works on her phone hotspot. What should I do next?",
        ],
    ),
    DemoSession(
        engineer="jane@northwind.example",
        problem="Print jobs stuck in the queue on the front-desk printer",
        answers=["Several users, the whole office prints to it.", "Suggest a fix please"],
        status=SessionStatus.RESOLVED,
    ),
    DemoSession(
        engineer="sam@northwind.example",
        problem="Teams calls: nobody can hear the user, microphone not detected",
        ticket="48222",
        answers=["Only this user, the headset works on another PC."],
        status=SessionStatus.ESCALATED,
    ),
]


def seed(client: LLMClient | None = None) -> int:
    """Create the demo sessions that are missing; returns how many were created."""
    account = Account.objects.filter(slug="northwind").first()
    if account is None:
        return 0
    assistant = client or get_llm_client(provider="offline")
    created = 0
    for demo in DEMO_SESSIONS:
        user = User.objects.filter(account=account, email=demo.engineer).first()
        if user is None:
            continue
        if (
            AISession.objects.filter(account=account, user=user)
            .filter(problem_summary=sessions.derive_summary(demo.problem))
            .exists()
        ):
            continue
        _play(demo, user, assistant)
        created += 1
    return created


@transaction.atomic
def _play(demo: DemoSession, user: User, assistant: LLMClient) -> None:
    session, step = sessions.create_session(
        user=user, problem=demo.problem, psa_ticket_id=demo.ticket
    )
    chat.run_reply(session=session, user_step=step, client=assistant)
    for answer in demo.answers:
        chat.send_message(session=session, user=user, content=answer, client=assistant)
    for note in demo.notes:
        facts.add_note(session=session, user=user, text=note)
    if demo.status != SessionStatus.ACTIVE:
        now = timezone.now()
        AISession.objects.filter(pk=session.pk).update(
            status=demo.status,
            resolved_at=now if demo.status == SessionStatus.RESOLVED else None,
            escalated_at=now if demo.status == SessionStatus.ESCALATED else None,
            escalation_reason=(
                "Driver reinstall didn't help; needs someone with Intune rights."
                if demo.status == SessionStatus.ESCALATED
                else ""
            ),
        )
