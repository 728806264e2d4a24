"""
Demo hand-offs: every escalated demo session of Northwind that has no hand-off yet gets one,
waiting for pick-up (package, snapshot, bell entries and the offline assessment), so a senior's
queue is not empty on the first visit. Idempotent: a session with a hand-off is left alone.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import Account
from handoffs import services
from handoffs.assessment import write_assessment
from handoffs.models import AssessmentStatus, HandoffIntent, SessionHandoff
from handoffs.notifications import create_notifications
from sessions_app.models import AISession, SessionStatus
from sessions_app.services.previews import build_bundle


def seed() -> int:
    account = Account.objects.filter(slug="northwind").first()
    if account is None:
        return 0
    waiting = (
        AISession.objects.filter(account=account, status=SessionStatus.ESCALATED)
        .exclude(handoffs__isnull=False)
        .select_related("user")
    )
    created = 0
    for session in waiting:
        handoff = _adopt(session)
        write_assessment(handoff_id=handoff.pk)
        created += 1
    return created


@transaction.atomic
def _adopt(session: AISession) -> SessionHandoff:
    reason = session.escalation_reason
    text, _ = services.package_text(session, None, reason, wait_for_model=True)
    handoff = SessionHandoff.objects.create(
        account_id=session.account_id,
        session=session,
        intent=HandoffIntent.ESCALATE,
        from_user=session.user,
        reason=reason,
        snapshot=build_bundle(session),
        package_markdown=text,
        psa_ticket_id=session.psa_ticket_id,
        assessment_status=AssessmentStatus.PENDING,
        created_at=session.escalated_at or session.updated_at,
    )
    AISession.objects.filter(pk=session.pk).update(
        escalation_package={"markdown": text, "reason": reason, "created_by": session.user_id}
    )
    create_notifications(handoff=handoff, session=session, actor=session.user)
    return handoff
