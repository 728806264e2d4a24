"""Draft templates: drafted from a fix's script, then accepted into the library or rejected."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import Conflict
from scripts.models import DraftStatus, DraftTemplate, ScriptTemplate
from scripts.parameters import clean_schema
from scripts.rendering import placeholders
from scripts.services.extraction import extract_template
from scripts.services.library import create_template
from sessions_app.models import AISession, SuggestedFix


@transaction.atomic
def draft_from_fix(
    *,
    session: AISession,
    fix: SuggestedFix,
    actor: User,
    templated: tuple[str, list[dict[str, Any]]] | None,
    concrete: str,
) -> DraftTemplate:
    """
    Store a draft for ``fix``. ``templated`` is the fix's own script and schema when it already
    has placeholders; otherwise the concrete script (the engineer's edit, or a script without
    placeholders) goes through template extraction, which falls back to no parameters.
    """
    if templated is not None and placeholders(templated[0]):
        templated_body, parameters = templated[0], clean_schema(templated[1])
        body = templated_body
    else:
        extraction = extract_template(concrete)
        templated_body, parameters = extraction.templated_body, extraction.parameters
        body = extraction.redacted_original(concrete)
    return DraftTemplate.objects.create(
        account_id=session.account_id,
        session=session,
        fix=fix,
        body=body,
        templated_body=templated_body,
        proposed_parameters=parameters,
        name=fix.title[:120],
        description=fix.description,
        created_by=actor,
    )


def _settle(draft: DraftTemplate, status: str, **changes: Any) -> None:
    """The pending → accepted/rejected transition: one conditional UPDATE decides a race."""
    now = timezone.now()
    updated = DraftTemplate.objects.filter(pk=draft.pk, status=DraftStatus.PENDING).update(
        status=status, resolved_at=now, **changes
    )
    if not updated:
        current = DraftTemplate.objects.filter(pk=draft.pk).values_list("status", flat=True)
        raise Conflict(
            f"This draft is already {current.first() or 'gone'}.",
            code="draft_not_pending",
        )
    draft.refresh_from_db()


@transaction.atomic
def accept_draft(
    *, draft: DraftTemplate, actor: User, changes: dict[str, Any] | None = None
) -> ScriptTemplate:
    """
    Promote a pending draft to a team template with provenance (its session, ticket and the
    engineer who resolved it). ``changes`` may edit name, description, category, body and
    parameters; 409 when the draft is no longer pending, 400 for an unknown category.
    """
    edits = changes or {}
    if draft.status != DraftStatus.PENDING:
        raise Conflict(f"This draft is already {draft.status}.", code="draft_not_pending")
    session = draft.session
    template = create_template(
        account=session.account,
        actor=actor,
        name=edits.get("name") or draft.name,
        body=edits.get("body") or draft.templated_body,
        parameters=edits.get("parameters", draft.proposed_parameters),
        description=edits.get("description", draft.description),
        category_id=edits.get("category_id", draft.category_id),
        provenance={
            "source_session": session,
            "source_user_id": session.user_id,
            "source_ticket": session.psa_ticket_id,
        },
    )
    _settle(draft, DraftStatus.ACCEPTED, promoted_template=template)
    record_event(
        account=session.account,
        actor=actor,
        type="draft_template.accepted",
        payload={"draft_id": draft.pk, "template_id": template.pk},
    )
    return template


@transaction.atomic
def reject_draft(*, draft: DraftTemplate, actor: User) -> DraftTemplate:
    _settle(draft, DraftStatus.REJECTED)
    record_event(
        account=draft.session.account,
        actor=actor,
        type="draft_template.rejected",
        payload={"draft_id": draft.pk},
    )
    return draft
