from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.http import AuthedRequest
from front.panels import dashboard_context


@login_required
@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    context = {"nav": "dashboard", **dashboard_context(request.user)}
    return render(request, "front/dashboard.html", context)
