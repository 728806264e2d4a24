from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.http import AuthedRequest
from front.panels import dashboard_context, dashboard_panel
from sessions_app.selectors import sidebar_sessions

PALETTE_SESSIONS = 8


@login_required
@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    context = {"nav": "dashboard", **dashboard_context(request.user)}
    return render(request, "front/dashboard.html", context)


@login_required
@require_GET
def panel(request: AuthedRequest, key: str) -> HttpResponse:
    """One dashboard panel alone (its live refresh); a panel this user does not get is a 404."""
    found = dashboard_panel(request.user, key)
    if found is None:
        raise Http404("No such panel.")
    return render(request, found.template, found.context)


@login_required
@require_GET
def palette_sessions(request: AuthedRequest) -> HttpResponse:
    """The palette's sessions (the user's newest; a viewer's: the account's), each with its
    ticket number and age so two alike problems can be told apart."""
    rows = sidebar_sessions(request.user, limit=PALETTE_SESSIONS)
    return render(request, "front/_palette_sessions.html", {"palette_sessions": rows})
