"""
Pages of institutional memory: the "Solved before" panel of a session (rendered with the page,
refreshed by HTMX after turns), a past session opened from it with "Use this fix", and the
history search page. Every HTMX request has a plain-link or form fallback.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthedRequest
from accounts.models import User
from flowpilot.errors import DomainError, NotFound
from sessions_app.access import can_work_on, get_session
from sessions_app.memory import selectors, services
from sessions_app.memory.api import SearchQuerySerializer, filters_from
from sessions_app.models import AISession, FixStatus


def _session(user: User, session_id: int, *, write: bool = False) -> AISession:
    # Foreign → 404, no right to change it → 403: mapped by flowpilot.middleware.
    return get_session(user, session_id, for_write=write)


def panel_context(session: AISession, matches: list[selectors.Match]) -> dict[str, Any]:
    """What ``_solved_before.html`` needs (the session page adds it to its own context)."""
    return {"session": session, "solved_before": matches}


@login_required
@require_GET
def solved_before(request: AuthedRequest, session_id: int) -> HttpResponse:
    session = _session(request.user, session_id)
    if not request.htmx:
        return HttpResponseRedirect(reverse("session-detail", args=[session.pk]) + "#solved-before")
    matches = selectors.similar_for_session(session)
    return render(
        request, "sessions_app/memory/_solved_before.html", panel_context(session, matches)
    )


@login_required
@require_GET
def past_session(request: AuthedRequest, session_id: int, source_id: int) -> HttpResponse:
    session = _session(request.user, session_id)
    past = selectors.past_session(session.account_id, source_id)
    context = {
        "session": session,
        "past": past,
        "can_act": can_work_on(request.user, session),
        "nav": "sessions",
    }
    template = "sessions_app/memory/past_session.html"
    return render(request, f"{template}#past-session" if request.htmx else template, context)


@login_required
@require_POST
def use_fix(request: AuthedRequest, session_id: int, source_id: int) -> HttpResponse:
    session = _session(request.user, session_id, write=True)
    try:
        fix = services.propose_fix_from_session(
            session=session, source_session_id=source_id, actor=request.user
        )
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request, f"“{fix.title}” from session #{source_id} is now the suggested fix."
        )
    return HttpResponseRedirect(reverse("session-detail", args=[session.pk]) + "#task-lane")


OUTCOME_CHOICES = [
    ("", "Any outcome"),
    (FixStatus.APPLIED_SUCCESS, "Worked"),
    (FixStatus.APPLIED_PARTIAL, "Partially worked"),
    (FixStatus.APPLIED_FAILED, "Didn't work"),
    ("none", "No fix recorded"),
]


@login_required
@require_GET
def search_page(request: AuthedRequest) -> HttpResponse:
    """History search: words (typos tolerated) and filters; "More results" follows the cursor."""
    user = request.user
    params = SearchQuerySerializer(data=request.GET)
    page = None
    errors: dict[str, Any] = {}
    if params.is_valid():
        data = params.validated_data
        page = selectors.search(
            user.account_id,
            data.get("q") or "",
            filters=filters_from(data),
            cursor=selectors.parse_cursor(data.get("cursor") or ""),
        )
    else:
        errors = {name: str(value[0]) for name, value in params.errors.items()}
    query = request.GET.copy()
    next_url = ""
    if page is not None and page.next_cursor:
        query["cursor"] = page.next_cursor
        next_url = f"{reverse('memory-search')}?{query.urlencode()}"
    context = {
        "nav": "history",
        "page": page,
        "q": request.GET.get("q", ""),
        "values": request.GET,
        "errors": errors,
        "next_url": next_url,
        "outcome_choices": OUTCOME_CHOICES,
        "engineers": selectors.engineers_with_history(user.account_id),
        "terms": page.query.terms if page and page.query else [],
        "corrections": page.query.corrections if page and page.query else {},
    }
    template = "sessions_app/memory/search.html"
    if request.htmx and request.GET.get("cursor"):
        return render(request, f"{template}#results-page", context)
    return render(request, template, context)
