"""
The script library's part of the suggested-fix card (registered with sessions_app's fix card
port): the script rendered with the values known so far, the parameter form ("from session"
where the session already states a value), the safety review, Copy held back while a required
value is missing, the decisions about the script, and — once the session is resolved — the
offer to keep its pending draft templates.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.services.preferences import get_preferences
from flowpilot.errors import Unprocessable
from scripts import selectors
from scripts.models import DraftTemplate, ScriptTemplate
from scripts.output import script_output
from scripts.parameter_form import effective_values, form_fields, session_values
from scripts.parameters import ParameterSpec, lenient_schema
from scripts.rendering import PLACEHOLDER_RE, render
from sessions_app.access import can_work_on
from sessions_app.models import AISession, Fact, SessionStatus, SuggestedFix

DECISIONS = [
    {
        "value": "one_off",
        "label": "Run once",
        "help": "Copy the filled script for this ticket only. Nothing is added to the library.",
        "recommended": False,
    },
    {
        "value": "draft_template",
        "label": "Run now and save a draft template",
        "help": "Copy it now; after you resolve, the team is offered a reusable template drafted "
        "from it.",
        "recommended": True,
    },
    {
        "value": "build_template",
        "label": "Open the script builder",
        "help": "Shape the script and its parameters yourself before anyone runs it.",
        "recommended": False,
    },
]
_NEEDS_SESSION_TEXT = ("upn", "mail", "principal", "computer", "host", "machine", "device", "pc")


def dom_id(fix: SuggestedFix) -> str:
    return f"fix-script-{fix.pk}"


def _known_values(session: AISession, schema: list[ParameterSpec]) -> dict[str, str]:
    """What the session already states, read only when a parameter could use it."""
    wanted = [s for s in schema if any(word in s.name.lower() for word in _NEEDS_SESSION_TEXT)]
    texts = [session.problem_summary]
    if wanted:
        texts += list(Fact.objects.live_in(session).values_list("text", flat=True))
    return session_values(schema, texts=texts, ticket=session.psa_ticket_id)


def script_section(
    session: AISession,
    fix: SuggestedFix,
    *,
    values: dict[str, Any] | None = None,
    final_script: str = "",
) -> dict[str, Any]:
    """The section's context: fields, output (rendered so far, or the decided script)."""
    schema = lenient_schema(fix.parameters)
    submitted = values or {}
    known = _known_values(session, schema)
    fields = form_fields(schema, submitted, from_session=known)
    if final_script:
        output = script_output(final_script, dom_id=dom_id(fix), schema=schema)
    elif fix.script.strip():
        try:
            rendered = render(
                fix.script, schema, effective_values(schema, submitted, known), strict=False
            )
            output = script_output(
                rendered.script, dom_id=dom_id(fix), schema=schema, missing=rendered.missing
            )
        except Unprocessable as exc:
            output = script_output(fix.script, dom_id=dom_id(fix), schema=schema, error=exc.detail)
    else:
        output = None
    return {"script_fields": fields, "script_out": output}


def _library_template(session: AISession, fix: SuggestedFix) -> ScriptTemplate | None:
    if fix.template_id is None:
        return None
    return ScriptTemplate.objects.filter(account_id=session.account_id, pk=fix.template_id).first()


def marked_body(draft: DraftTemplate) -> SafeString:
    """The templated body with its proposed parameters highlighted."""
    escaped = str(escape(draft.templated_body))
    return mark_safe(  # noqa: S308 - the body is escaped above; only <mark> is added
        PLACEHOLDER_RE.sub(
            lambda m: (
                f'<mark class="placeholder-mark" data-testid="draft-param">{m.group(0)}</mark>'
            ),
            escaped,
        )
    )


def draft_offer(request: Any, session: AISession) -> dict[str, Any]:
    """After resolving: the session's next pending draft, unless the team said stop asking."""
    user = getattr(request, "user", None)
    if (
        session.status != SessionStatus.RESOLVED
        or user is None
        or not user.is_authenticated
        or not can_work_on(user, session)
    ):
        return {}
    if get_preferences(session.account).get("templatize_prompt_enabled") is False:
        return {}
    pending = selectors.pending_drafts_for_session(session.account, session.pk)
    if not pending:
        return {}
    draft = pending[0]
    return {
        "card_footer_template": "scripts/_draft_offer.html",
        "offer": {
            "draft": draft,
            "marked_body": marked_body(draft),
            "remaining": len(pending) - 1,
            "categories": selectors.categories(session.account),
            "parameters": draft.proposed_parameters,
        },
    }


def fix_card_context(
    request: Any, session: AISession, fix: SuggestedFix | None, context: dict[str, Any]
) -> dict[str, Any]:
    """The provider sessions_app's card calls (see ``sessions_app.fix_context``)."""
    extra: dict[str, Any] = draft_offer(request, session)
    if fix is None:
        return extra
    template = _library_template(session, fix)
    extra.update(
        script_section(
            session,
            fix,
            values=context.get("fix_values"),
            final_script=context.get("rendered_script") or "",
        )
    )
    extra.update(
        {
            "script_section_template": "scripts/_fix_script_section.html",
            "script_dom_id": dom_id(fix),
            "library_template": template,
            "generator_link": f"/scripts/templates/{template.pk}?session={session.pk}&fix={fix.pk}"
            if template is not None
            else "",
            "decision_options": DECISIONS,
        }
    )
    return extra
