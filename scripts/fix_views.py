"""
Pages and HTMX fragments of the script library's flows on a suggested fix and on drafts: the
live parameter form of the fix card, the decisions, and the post-resolve draft offer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from accounts.http import AuthedRequest
from accounts.permissions import engineer_or_admin_required
from accounts.services.preferences import update_preferences
from flowpilot.errors import DomainError
from scripts import selectors
from scripts.fix_card import draft_offer, marked_body, script_section
from scripts.models import DraftTemplate
from scripts.parameter_form import values_from_post
from scripts.parameters import lenient_schema
from scripts.services import decisions, drafts
from sessions_app.access import get_session
from sessions_app.fix_context import fix_panel_context
from sessions_app.models import AISession, FixDecision, SuggestedFix
from sessions_app.selectors import active_fix, get_fix

DECISION_TOASTS = {
    FixDecision.ONE_OFF: ("Script ready: review and copy it. The run is logged.", "emerald"),
    FixDecision.DRAFT_TEMPLATE: (
        "Script ready, and a draft template is saved: you'll be offered it after resolving.",
        "emerald",
    ),
    FixDecision.DISMISSED: ("Fix dismissed.", "neutral"),
}


def _session(request: AuthedRequest, session_id: int, *, for_write: bool) -> AISession:
    # A resolved session is refused by the fix services, with the card's own message. 404 / 403
    # are mapped by flowpilot.middleware.
    return get_session(request.user, session_id, for_write=for_write, allow_closed=True)


def _fix(session: AISession, fix_id: int) -> SuggestedFix:
    return get_fix(session, fix_id)


def _card(request: AuthedRequest, session: AISession, **extra: Any) -> HttpResponse:
    context = fix_panel_context(request, session, active_fix(session), **extra)
    return render(request, "sessions_app/_fix_card.html", context)


@login_required
@require_POST
def script_preview(request: AuthedRequest, session_id: int, fix_id: int) -> HttpResponse:
    """The fix card's script re-rendered with the values typed so far (no state changes)."""
    session = _session(request, session_id, for_write=False)
    fix = _fix(session, fix_id)
    values = values_from_post(lenient_schema(fix.parameters), request.POST)
    if not request.htmx:
        return HttpResponseRedirect(session.get_absolute_url())
    section = script_section(session, fix, values=values)
    return render(request, "scripts/_script_output.html", {"out": section["script_out"]})


@engineer_or_admin_required
@require_POST
def decide(request: AuthedRequest, session_id: int, fix_id: int) -> HttpResponse:
    session = _session(request, session_id, for_write=True)
    fix = _fix(session, fix_id)
    values = values_from_post(lenient_schema(fix.parameters), request.POST)
    decision = request.POST.get("decision", "")
    try:
        result = decisions.decide_fix(
            session=session, fix=fix, decision=decision, actor=request.user, values=values
        )
    except DomainError as exc:
        session.refresh_from_db()
        if not request.htmx:
            context = fix_panel_context(
                request, session, active_fix(session), card_error=exc.detail, fix_values=values
            )
            return render(request, "sessions_app/fix_page.html", context, status=exc.status)
        response = _card(request, session, card_error=exc.detail, fix_values=values)
        tone = "amber" if exc.status in (409, 422) else "red"
        return trigger_client_event(response, "toast", {"message": exc.detail, "tone": tone})
    target = result.builder_url or result.generator_url
    if target:
        return HttpResponseClientRedirect(target) if request.htmx else HttpResponseRedirect(target)
    if not request.htmx:
        return HttpResponseRedirect(session.get_absolute_url())
    session.refresh_from_db()
    response = _card(request, session, rendered_script=result.script, fix_values=values)
    message, tone = DECISION_TOASTS[FixDecision(result.decision)]
    trigger_client_event(response, "toast", {"message": message, "tone": tone})
    return trigger_client_event(response, "fix-changed", {})


# --- drafts ------------------------------------------------------------------------------


def _draft(request: AuthedRequest, draft_id: int) -> DraftTemplate:
    return selectors.get_draft(request.user.account, draft_id)


def _offer_response(request: AuthedRequest, message: str, tone: str) -> HttpResponse:
    """HTMX: the next draft of the same session (or nothing); forms: back where they came from."""
    session_id = request.POST.get("session", "")
    if not request.htmx:
        if session_id.isdigit():
            return HttpResponseRedirect(f"/sessions/{session_id}")
        return HttpResponseRedirect("/scripts")
    context: dict[str, Any] = {}
    if session_id.isdigit():
        session = _session(request, int(session_id), for_write=False)
        context = {"session": session, **draft_offer(request, session)}
    response = render(request, "scripts/_draft_offer.html", context)
    return trigger_client_event(response, "toast", {"message": message, "tone": tone})


@engineer_or_admin_required
@require_GET
def draft_page(request: AuthedRequest, draft_id: int) -> HttpResponse:
    draft = _draft(request, draft_id)
    context = {
        "nav": "scripts",
        "draft": draft,
        "marked_body": marked_body(draft),
        "categories": selectors.categories(request.user.account),
    }
    return render(request, "scripts/draft.html", context)


@engineer_or_admin_required
@require_POST
def draft_accept(request: AuthedRequest, draft_id: int) -> HttpResponse:
    draft = _draft(request, draft_id)
    changes = {
        "name": request.POST.get("name", "").strip() or draft.name,
        "category_id": request.POST.get("category_id") or None,
    }
    if request.POST.get("body", "").strip():
        changes["body"] = request.POST["body"]
    try:
        template = drafts.accept_draft(draft=draft, actor=request.user, changes=changes)
    except DomainError as exc:
        if request.htmx:
            return _offer_response(request, exc.detail, "amber")
        context = {
            "nav": "scripts",
            "draft": draft,
            "marked_body": marked_body(draft),
            "categories": selectors.categories(request.user.account),
            "error": exc.detail,
        }
        return render(request, "scripts/draft.html", context, status=exc.status)
    if not request.htmx and not request.POST.get("session"):
        return HttpResponseRedirect(template.get_absolute_url())
    return _offer_response(request, f"“{template.name}” is in the team's library.", "emerald")


@engineer_or_admin_required
@require_POST
def draft_reject(request: AuthedRequest, draft_id: int) -> HttpResponse:
    draft = _draft(request, draft_id)
    try:
        drafts.reject_draft(draft=draft, actor=request.user)
    except DomainError as exc:
        return _offer_response(request, exc.detail, "amber")
    return _offer_response(request, "Skipped: the draft is not kept.", "neutral")


@engineer_or_admin_required
@require_POST
def drafts_stop_asking(request: AuthedRequest) -> HttpResponse:
    """ "Don't ask again for this team": no more draft offers after resolving."""
    update_preferences(
        account=request.user.account,
        actor=request.user,
        changes={"templatize_prompt_enabled": False},
    )
    return _offer_response(
        request, "Done: the team won't be asked to save fixes as templates.", "neutral"
    )
