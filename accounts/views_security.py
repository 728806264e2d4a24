"""
Pages of the session-expiration policy: the owner's security settings (policy and active
sessions) and the expiry-warning endpoints every app page polls.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors
from accounts.forms_security import SessionPolicyForm
from accounts.http import AuthedRequest
from accounts.models import LoginSession
from accounts.permissions import owner_required
from accounts.services import revocation, session_policy, web_sessions
from accounts.services.auth import client_ip
from flowpilot.errors import DomainError
from flowpilot.htmx import events, toast


def _sessions_context(request: AuthedRequest) -> dict[str, Any]:
    users = selectors.active_users(request.user.account)
    others = [u for u in users if u["user_id"] != request.user.pk]
    devices = selectors.active_devices(
        request.user.account, current_id=selectors.current_device_id(request)
    )
    people = {p["id"]: p for p in selectors.devices_by_person(devices)}
    for user in users:
        user["devices"] = people.get(user["user_id"], {}).get("devices", [])
    return {"active_users": users, "other_count": len(others), "device_count": len(devices)}


def _own_devices_context(request: AuthedRequest) -> dict[str, Any]:
    devices = selectors.active_devices(
        request.user.account,
        user=request.user,
        current_id=selectors.current_device_id(request),
    )
    return {"devices": devices}


def _page_context(request: AuthedRequest, form: SessionPolicyForm) -> dict[str, Any]:
    state = session_policy.policy_state(request.user.account)
    return {
        "nav": "account",
        "form": form,
        "policy": state,
        "alerts": selectors.security_alerts(request.user.account),
        **_sessions_context(request),
    }


def _toast(response: HttpResponse, message: str, tone: str = "emerald", **extra: Any) -> None:
    events(toast(response, message, tone), **extra)


@owner_required
@require_http_methods(["GET", "POST"])
def security_settings(request: AuthedRequest) -> HttpResponse:
    account = request.user.account
    form = SessionPolicyForm(request.POST or None, account=account)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            session_policy.update_session_policy(
                account=account, actor=request.user, changes=form.policy_changes()
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            saved = True
            form = SessionPolicyForm(account=account)
    context = {**_page_context(request, form), "saved": saved}
    if request.htmx:
        response = render(request, "accounts/security.html#policy-card", context)
        if saved:
            _toast(response, "Session policy saved. It applies at next login.")
        return response
    return render(request, "accounts/security.html", context)


@owner_required
@require_POST
def revoke_sessions(request: AuthedRequest) -> HttpResponse:
    scope = request.POST.get("scope", "all")
    try:
        count = revocation.revoke_account_sessions(
            account=request.user.account,
            actor=request.user,
            scope=scope,
            ip=client_ip(request),
        )
    except DomainError as exc:
        return HttpResponse(exc.detail, status=exc.status)
    noun = "session" if count == 1 else "sessions"
    message = f"Signed out {count} {noun}."
    if scope == "all":
        if request.htmx:
            response = HttpResponse(status=204)
            _toast(response, message, signedOutAll={"count": count, "logout": reverse("logout")})
            return response
        return HttpResponseRedirect(reverse("login"))
    if request.htmx:
        response = render(
            request,
            "accounts/security.html#sessions-card",
            {"nav": "account", **_sessions_context(request)},
        )
        _toast(response, message)
        return response
    messages.success(request, message)
    return HttpResponseRedirect(reverse("account-security"))


@login_required
@require_POST
def revoke_device(request: AuthedRequest, device_id: str) -> HttpResponse:
    """Sign out one device: from the security page (owner, any device) or the account page."""
    # A foreign or unknown device (404) and a missing right (403): flowpilot.middleware.
    device = revocation.revoke_device(
        actor=request.user, device_id=device_id, ip=client_ip(request)
    )
    own = device.user_id == request.user.pk
    message = (
        "Signed out that device."
        if own
        else f"Signed out {device.user.display_name} on that device."
    )
    from_security = request.POST.get("from") == "security" and request.user.is_owner
    if request.htmx:
        if from_security:
            template = "accounts/security.html#sessions-card"
            context = {"nav": "account", **_sessions_context(request)}
        else:
            template = "accounts/settings.html#devices-card"
            context = {"nav": "account", **_own_devices_context(request)}
        response = render(request, template, context)
        _toast(response, message)
        return response
    messages.success(request, message)
    return HttpResponseRedirect(
        reverse("account-security" if from_security else "account-settings")
    )


# ---- Expiry warning: polled by static/js/expiry.js on every app page ----------------------


def _current_login_session(request: AuthedRequest) -> LoginSession | None:
    login_session = getattr(request, "login_session", None)
    if isinstance(login_session, LoginSession):
        return login_session
    return selectors.load_web_session(request.session.get(web_sessions.SESSION_MARKER))


def _status_response(request: AuthedRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        body = {"detail": "Not signed in.", "code": "not_authenticated", "redirect": "/login"}
        return JsonResponse(body, status=401)
    login_session = _current_login_session(request)
    if login_session is None:
        return JsonResponse({"detail": "No page session.", "code": "no_session"}, status=404)
    status = web_sessions.session_status(
        login_session, dismissed=request.session.get(web_sessions.DISMISSED_MARKER)
    )
    return JsonResponse(status)


@require_GET
def session_status(request: AuthedRequest) -> JsonResponse:
    """Background: reading the deadlines is not activity (the middleware knows this path)."""
    return _status_response(request)


@require_POST
def extend_session(request: AuthedRequest) -> JsonResponse:
    """ "Stay signed in": real activity, written now rather than within the minute."""
    if request.user.is_authenticated:
        login_session = _current_login_session(request)
        if login_session is not None:
            web_sessions.touch_web_session(login_session, force=True)
    return _status_response(request)


@require_POST
def dismiss_warning(request: AuthedRequest) -> HttpResponse:
    """Remember the dismissed deadline, so other pages do not show its warning again."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    request.session[web_sessions.DISMISSED_MARKER] = request.POST.get("deadline_key", "")[:80]
    return HttpResponse(status=204)
