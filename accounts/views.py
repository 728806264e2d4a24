from __future__ import annotations

from typing import Any

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors
from accounts.audit_display import audit_csv_lines, display_event
from accounts.forms import LoginForm
from accounts.forms_audit import AuditFilterForm
from accounts.http import AuthedRequest
from accounts.permissions import owner_required
from accounts.services import auth as auth_service
from accounts.services.auth import LoginFailed, LoginThrottled


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("dashboard")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = auth_service.authenticate_credentials(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                ip=auth_service.client_ip(request),
            )
        except LoginThrottled as exc:
            error, status = exc.detail, 429
        except LoginFailed as exc:
            error, status = exc.detail, 200
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(_safe_next(request))
    context = {
        "form": form,
        "error": error,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "reason": request.GET.get("reason", ""),
    }
    return render(request, "accounts/login.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        auth_service.record_logout(user=request.user, ip=auth_service.client_ip(request))
    logout(request)
    return redirect("login")


@owner_required
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    """Owners: the audit log, filtered, newest first, a page at a time (HTMX "Load more")."""
    form = AuditFilterForm(request.GET or None, account=request.user.account)
    filters = form.filters()
    events, next_cursor = selectors.audit_page(
        request.user.account, filters, cursor=request.GET.get("cursor", "")
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "nav": "account",
        "form": form,
        "rows": [(event, display_event(event.type, event.payload)) for event in events],
        "next_cursor": next_cursor,
        "filter_query": query.urlencode(),
        "first_page": not request.GET.get("cursor"),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "accounts/audit_log.html#audit-rows", context)
    return render(request, "accounts/audit_log.html", context)


@owner_required
@require_GET
def audit_log_csv(request: AuthedRequest) -> HttpResponseBase:
    """Every event under the filters as CSV, streamed (the page's filters apply)."""
    form = AuditFilterForm(request.GET or None, account=request.user.account)
    events = selectors.audit_events(request.user.account, form.filters())
    response = StreamingHttpResponse(
        audit_csv_lines(events.iterator(chunk_size=2000)), content_type="text/csv"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response


def account_settings_context(request: AuthedRequest) -> dict[str, Any]:
    devices = selectors.active_devices(
        request.user.account,
        user=request.user,
        current_id=selectors.current_device_id(request),
    )
    return {
        "nav": "account",
        "settings_rows": selectors.settings_rows(request.user),
        "devices": devices,
        "password_form": PasswordChangeForm(request.user),
    }


@login_required
@require_GET
def account_settings(request: AuthedRequest) -> HttpResponse:
    return render(request, "accounts/settings.html", account_settings_context(request))
