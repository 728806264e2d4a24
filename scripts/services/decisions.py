"""
What an engineer's decision on a suggested fix does with its script (SPEC §5): the script
library owns this flow; the decision itself is recorded on the fix by sessions_app.

- ``one_off``: the rendered script (the engineer's edit or the AI draft), strictly validated,
  and the run logged on the session;
- ``draft_template``: the same, plus a DraftTemplate drafted from the script, offered to the
  team after the session is resolved;
- ``build_template``: the builder URL, with an inline builder session pre-loaded from the fix;
- a fix that matches a library template answers the generator URL for that template;
- a fix with neither a drafted script nor a template answers 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.models import User
from flowpilot.errors import DomainError
from scripts.models import DraftTemplate, ScriptTemplate
from scripts.parameters import clean_schema, lenient_schema
from scripts.rendering import render
from scripts.services import builder, drafts
from scripts.services.generation import log_generation
from scripts.services.library import check_template_body
from sessions_app.models import AISession, FixDecision, SuggestedFix
from sessions_app.services.fixes import record_decision, store_fix_script


@dataclass(frozen=True)
class DecisionOutcome:
    fix: SuggestedFix
    decision: str
    script: str = ""
    draft: DraftTemplate | None = None
    builder_url: str = ""
    generator_url: str = ""
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"decision": self.decision, "fix_id": self.fix.pk}
        if self.decision != FixDecision.DISMISSED:
            body["script"] = self.script
        if self.draft is not None:
            body["draft_template_id"] = self.draft.pk
        if self.builder_url:
            body["builder_url"] = self.builder_url
        if self.generator_url:
            body["generator_url"] = self.generator_url
        return body


def generator_url(template_id: int, session: AISession, fix: SuggestedFix) -> str:
    return f"/scripts/templates/{template_id}?session={session.pk}&fix={fix.pk}"


def _library_template(session: AISession, fix: SuggestedFix) -> ScriptTemplate | None:
    if fix.template_id is None:
        return None
    return ScriptTemplate.objects.filter(account_id=session.account_id, pk=fix.template_id).first()


@transaction.atomic
def decide_fix(
    *,
    session: AISession,
    fix: SuggestedFix,
    decision: str,
    actor: User,
    script: str | None = None,
    values: dict[str, Any] | None = None,
) -> DecisionOutcome:
    # Recorded first: it locks the session (409 when resolved) and refuses a superseded fix or
    # an unknown decision. Every refusal below rolls the decision back with the transaction.
    fix = record_decision(session=session, fix=fix, decision=decision, actor=actor)
    if decision == FixDecision.DISMISSED:
        return DecisionOutcome(fix=fix, decision=decision)
    edited = script is not None and script.strip() != ""
    template = None if edited else _library_template(session, fix)
    if decision == FixDecision.BUILD_TEMPLATE:
        built = builder.inline_session_for_fix(user=actor, session=session, fix=fix, body=script)
        return DecisionOutcome(fix=fix, decision=decision, builder_url=built.get_absolute_url())
    if template is not None:
        # A library template: the generator renders it (the run is logged there).
        return DecisionOutcome(
            fix=fix, decision=decision, generator_url=generator_url(template.pk, session, fix)
        )
    body = (script if edited else fix.script) or ""
    if not body.strip():
        raise DomainError(
            "This fix has no drafted script yet: draft one first or pick a template.",
            code="no_script",
        )
    schema = lenient_schema(fix.parameters)
    rendered = render(body, schema, values or {})
    log_generation(
        user=actor,
        schema=schema,
        values=rendered.values,
        sha256=rendered.sha256,
        name=fix.title,
        session=session,
    )
    draft = None
    if decision == FixDecision.DRAFT_TEMPLATE:
        draft = drafts.draft_from_fix(
            session=session,
            fix=fix,
            actor=actor,
            templated=None if edited else (fix.script, [s.as_dict() for s in schema]),
            concrete=rendered.script,
        )
    return DecisionOutcome(fix=fix, decision=decision, script=rendered.script, draft=draft)


@transaction.atomic
def submit_fix_draft(
    *, session: AISession, fix: SuggestedFix, script: str, parameters: Any, actor: User
) -> SuggestedFix:
    """
    The inline builder's submit: the drafted script and its validated parameter schema go onto
    the fix (no applied_at), and the session's previews change. 422 for an empty script or an
    invalid schema, 409 for a closed fix.
    """
    schema = clean_schema(parameters)
    body = check_template_body(script, schema) if (script or "").strip() else ""
    return store_fix_script(session=session, fix=fix, script=body, parameters=schema, actor=actor)
