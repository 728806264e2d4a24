"""
Pages and HTMX fragments of the suggested-fix card, its outcome dialogs and the preview popover.

HTMX requests get the fragment they swap (the card, the popover or the whole panel) plus a
toast client event; plain form posts redirect back to the session (or render the standalone
fix page with the error), so every control works without JavaScript too. A foreign session or
fix (404) and a missing right (403) are mapped by ``flowpilot.middleware``, in one place.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from accounts.http import AuthedRequest
from accounts.permissions import engineer_or_admin_required
from flowpilot.errors import DomainError, Unprocessable
from flowpilot.htmx import events, toast
from sessions_app import selectors
from sessions_app.access import get_session
from sessions_app.fix_context import fix_panel_context
from sessions_app.models import AISession, FixStatus, SuggestedFix
from sessions_app.services import fixes, previews, resolution

KINDS: dict[str, previews.PreviewKind] = {
    "resolution": "resolution_note",
    "escalation": "escalation_package",
}
# "decide" is the script section's dialog (how to use the script), shown on the same page.
DIALOGS = ("failed", "partial", "pending", "decide")
OUTCOME_FIELDS = ("outcome", "failure_reason", "notes", "reason")
OUTCOME_TOASTS = {
    FixStatus.APPLIED_SUCCESS: ("Marked as worked.", "emerald"),
    FixStatus.APPLIED_FAILED: ("Recorded: the fix didn't work.", "red"),
    FixStatus.APPLIED_PARTIAL: ("Recorded: the fix partially worked.", "amber"),
    FixStatus.APPLIED_PENDING: ("Waiting to verify. The session keeps a reminder.", "cyan"),
    FixStatus.DISMISSED: ("Fix dismissed.", "neutral"),
}


def _trigger(response: HttpResponse, message: str, tone: str, *names: str) -> HttpResponse:
    """A toast, plus the named events (``fix-changed``…) the panel listens for."""
    return events(toast(response, message, tone), **{name: {} for name in names})


def _back(request: AuthedRequest, session: AISession) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = session.get_absolute_url()
    return HttpResponseRedirect(target)


def _session_for_write(request: AuthedRequest, session_id: int) -> AISession:
    # The fix services refuse a resolved session themselves, with the card's own message.
    return get_session(request.user, session_id, for_write=True, allow_closed=True)


def _card(
    request: AuthedRequest, session: AISession, fix: SuggestedFix | None, **extra: Any
) -> HttpResponse:
    context = fix_panel_context(request, session, fix, **extra)
    return render(request, "sessions_app/_fix_card.html", context)


def _error(
    request: AuthedRequest,
    session: AISession,
    fix: SuggestedFix | None,
    exc: DomainError,
    **extra: Any,
) -> HttpResponse:
    """Refusals: HTMX gets the card back with the error inline (and a toast); forms get the
    standalone page with the error and the matching status."""
    if request.htmx:
        response = _card(request, session, fix, card_error=exc.detail, **extra)
        tone = "amber" if exc.status in (409, 422) else "red"
        return _trigger(response, exc.detail, tone)
    context = fix_panel_context(request, session, fix, card_error=exc.detail, **extra)
    return render(request, "sessions_app/fix_page.html", context, status=exc.status)


@login_required
@require_GET
def fix_page(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The panel on its own page: the no-JavaScript fallback for dialogs and previews."""
    session = get_session(request.user, session_id)
    dialog = request.GET.get("dialog", "")
    context = fix_panel_context(
        request,
        session,
        selectors.active_fix(session),
        open_dialog=dialog if dialog in DIALOGS else "",
    )
    return render(request, "sessions_app/fix_page.html", context)


@login_required
@require_GET
def fix_card(request: AuthedRequest, session_id: int) -> HttpResponse:
    session = get_session(request.user, session_id)
    return _card(request, session, selectors.active_fix(session))


@engineer_or_admin_required
@require_POST
def apply(request: AuthedRequest, session_id: int, fix_id: int) -> HttpResponse:
    session = _session_for_write(request, session_id)
    fix = selectors.get_fix(session, fix_id)
    try:
        fix = fixes.apply_fix(session=session, fix=fix, actor=request.user)
    except DomainError as exc:
        return _error(request, session, selectors.active_fix(session), exc)
    if not request.htmx:
        return _back(request, session)
    response = _card(request, session, fix)
    return _trigger(response, "Applied. Did it work?", "amber", "fix-changed")


@engineer_or_admin_required
@require_POST
def outcome(request: AuthedRequest, session_id: int, fix_id: int) -> HttpResponse:
    session = _session_for_write(request, session_id)
    fix = selectors.get_fix(session, fix_id)
    values = {name: request.POST.get(name, "") for name in OUTCOME_FIELDS}
    dialog = request.POST.get("dialog", "")
    try:
        fix = fixes.record_outcome(session=session, fix=fix, actor=request.user, **values)
    except Unprocessable as exc:
        errors = exc.extra.get("errors")
        if not errors or dialog not in DIALOGS:
            return _error(request, session, fix, exc)
        # Field errors stay in the dialog they came from, with what was typed.
        context = {"open_dialog": dialog, "errors": errors, "values": values}
        if request.htmx:
            return _card(request, session, fix, **context)
        page = fix_panel_context(request, session, fix, **context)
        return render(request, "sessions_app/fix_page.html", page, status=422)
    except DomainError as exc:
        return _error(request, session, selectors.active_fix(session), exc)
    message, tone = OUTCOME_TOASTS[FixStatus(fix.status)]
    if not request.htmx:
        return _back(request, session)
    return _trigger(_card(request, session, fix), message, tone, "fix-changed")


@engineer_or_admin_required
@require_POST
def dismiss_proposal(request: AuthedRequest, session_id: int, fix_id: int) -> HttpResponse:
    """ "Not yet": the assistant's outcome proposal goes away for good."""
    session = _session_for_write(request, session_id)
    fix = fixes.clear_ai_outcome_proposal(session=session, fix=selectors.get_fix(session, fix_id))
    if not request.htmx:
        return _back(request, session)
    return _card(request, session, fix)


@engineer_or_admin_required
@require_POST
def preview(request: AuthedRequest, session_id: int, kind: str) -> HttpResponse:
    if kind not in KINDS:
        raise Http404("Unknown preview.")
    session = get_session(request.user, session_id)
    fix = selectors.active_fix(session)
    try:
        result = previews.preview_for(
            user=request.user,
            session_id=session.pk,
            kind=KINDS[kind],
            refresh=request.POST.get("refresh") == "1",
        )
    except DomainError as exc:
        if not request.htmx:
            return _error(request, session, fix, exc)
        context = fix_panel_context(request, session, fix, preview_error=exc.detail, kind=kind)
        response = render(request, "sessions_app/_preview_popover.html", context)
        return _trigger(response, exc.detail, "red")
    context = fix_panel_context(request, session, fix, preview=result, kind=kind)
    if request.htmx:
        return render(request, "sessions_app/_preview_popover.html", context)
    return render(request, "sessions_app/fix_page.html", context)


def _post_refused(
    request: AuthedRequest,
    session: AISession,
    kind: str,
    exc: DomainError,
    *,
    markdown: str,
    reason: str,
) -> HttpResponse:
    """
    A refused post answers the popover again with what the engineer wrote and the error
    inline (HTMX: retargeted into the preview slot; forms: the fix page), so no edit is lost.
    """
    session.refresh_from_db()
    context = fix_panel_context(
        request,
        session,
        selectors.active_fix(session),
        kind=kind,
        post_error=exc.detail,
        draft_markdown=markdown,
        draft_reason=reason,
    )
    if not request.htmx:
        return render(request, "sessions_app/fix_page.html", context, status=exc.status)
    response = reswap(
        retarget(render(request, "sessions_app/_post_failed.html", context), "#fix-preview"),
        "innerHTML",
    )
    return _trigger(response, exc.detail, "amber" if exc.status in (409, 422) else "red")


@engineer_or_admin_required
@require_POST
def post(request: AuthedRequest, session_id: int, kind: str) -> HttpResponse:
    """Confirm & post: resolve with the note, or escalate with the package."""
    if kind not in KINDS:
        raise Http404("Unknown post.")
    session = _session_for_write(request, session_id)
    markdown = request.POST.get("markdown", "")
    reason = request.POST.get("reason", "")
    try:
        if kind == "resolution":
            result = resolution.post_resolution_note(
                session=session, actor=request.user, markdown=markdown
            )
            message = (
                f"Session resolved. The note is posted to ticket #{session.psa_ticket_id}."
                if result.psa
                else "Session resolved. The note is saved."
            )
        else:
            result = resolution.escalate_session(
                session=session, actor=request.user, markdown=markdown, reason=reason
            )
            message = "Session escalated with the package."
    except DomainError as exc:
        return _post_refused(request, session, kind, exc, markdown=markdown, reason=reason)
    if not request.htmx:
        return _back(request, session)
    context = fix_panel_context(request, result.session, selectors.active_fix(result.session))
    response = render(request, "sessions_app/_post_done.html", context)
    return _trigger(response, message, "emerald", "fix-changed", "session-status-changed")
