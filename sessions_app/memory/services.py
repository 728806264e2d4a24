"""Writes of institutional memory: proposing a past session's fix in the current session."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.services.audit import record_event
from flowpilot.errors import Conflict, NotFound, Unprocessable
from sessions_app.memory.indexing import remembered_fix
from sessions_app.memory.redaction import is_sensitive, redact_parameters, redact_script
from sessions_app.models import AISession, FixStatus, SessionStatus, SuggestedFix
from sessions_app.services import fixes

REUSABLE = (FixStatus.APPLIED_SUCCESS, FixStatus.APPLIED_PARTIAL)
_TICKET_PARAM_RE = re.compile(r"^(psa_)?ticket(_id|_number)?$", re.IGNORECASE)


def rebind_parameters(parameters: list[dict[str, Any]], session: AISession) -> list[dict[str, Any]]:
    """
    The source's parameter schema for this session: values only this session knows (its ticket)
    are filled in, secrets are cleared so the engineer types them, the rest keep their defaults.
    """
    rebound = []
    for parameter in redact_parameters(parameters):
        item = dict(parameter)
        if is_sensitive(item):
            item["default"] = None
        elif _TICKET_PARAM_RE.match(str(item.get("name") or "")) and session.psa_ticket_id:
            item["default"] = session.psa_ticket_id
        rebound.append(item)
    return rebound


def source_fix(source: AISession) -> SuggestedFix | None:
    return remembered_fix(SuggestedFix.objects.filter(session=source))


@transaction.atomic
def propose_fix_from_session(
    *, session: AISession, source_session_id: object, actor: User
) -> SuggestedFix:
    """
    Propose the fix that worked in another session of the account as this session's suggested
    fix (superseding the active one; the fixes service bumps state_version). Another account's
    session is not found (404); a resolved session takes no new fix (409); a source without a
    fix that worked has nothing to reuse (422).
    """
    status = (
        AISession.objects.select_for_update()
        .filter(pk=session.pk)
        .values_list("status", flat=True)
        .first()
    )
    if status == SessionStatus.RESOLVED:
        raise Conflict(
            "This session is resolved: reopen it before proposing another fix.",
            code="session_closed",
        )
    try:
        source = AISession.objects.get(
            pk=int(str(source_session_id)), account_id=session.account_id
        )
    except (AISession.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such past session.") from exc
    if source.pk == session.pk:
        raise Unprocessable("A session cannot reuse its own fix.", code="same_session")
    fix = source_fix(source)
    if fix is None or fix.status not in REUSABLE:
        raise Unprocessable(
            f"Session #{source.pk} has no fix that worked to reuse.", code="no_worked_fix"
        )
    description = fix.description.strip()
    origin = f"Worked in session #{source.pk}."
    proposed = fixes.propose_fix(
        session=session,
        step=None,
        title=fix.title,
        description=f"{description}\n\n{origin}".strip(),
        confidence=fix.confidence,
        script=redact_script(fix.script, fix.parameters),
        parameters=rebind_parameters(list(fix.parameters or []), session),
    )
    SuggestedFix.objects.filter(pk=proposed.pk).update(
        reused_from=source, template_id=fix.template_id
    )
    proposed.reused_from = source
    proposed.template_id = fix.template_id
    record_event(
        account=session.account,
        actor=actor,
        type="fix.reused",
        payload={"session_id": session.pk, "fix_id": proposed.pk, "source_session_id": source.pk},
    )
    return proposed
