"""
People and passwords pages: the People list (invite, role, deactivate), the account page's
change-password form, and Django's reset/confirm views for "Forgot password?" and invitations.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import mail, selectors
from accounts.forms_people import InviteForm, WorkerPasswordResetForm
from accounts.http import AuthedRequest
from accounts.services import passwords, people
from accounts.services.auth import client_ip
from accounts.views import account_settings_context
from flowpilot.errors import DomainError
from flowpilot.htmx import toast


def _toast(response: HttpResponse, message: str, tone: str = "emerald") -> None:
    toast(response, message, tone)


def _manager(request: AuthedRequest) -> None:
    if not request.user.can_manage_people:
        raise PermissionDenied(people.MANAGER_REQUIRED)


def _people_context(request: AuthedRequest, form: InviteForm | None = None) -> dict[str, Any]:
    user = request.user
    return {
        "nav": "account",
        "people": selectors.account_people(user),
        "invite_form": form or InviteForm(can_invite_owners=user.is_owner),
        "role_choices": people.assignable_roles(user),
    }


@login_required
@require_http_methods(["GET", "POST"])
def people_page(request: AuthedRequest) -> HttpResponse:
    """GET the list; POST invites someone (the same service as the API)."""
    _manager(request)
    form: InviteForm | None = InviteForm(
        request.POST or None, can_invite_owners=request.user.is_owner
    )
    invited = None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            invited = people.invite_user(
                actor=request.user,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except DomainError as exc:
            form.add_error("email" if exc.status == 409 else None, exc.detail)
    if invited is not None:
        message = f"Invitation sent to {invited.email}."
        if not request.htmx:
            messages.success(request, message)
            return HttpResponseRedirect(reverse("account-people"))
        form = None
    context = _people_context(request, form)
    if request.htmx:
        response = render(request, "accounts/people.html#people-card", context)
        if invited is not None:
            _toast(response, f"Invitation sent to {invited.email}.")
        return response
    return render(request, "accounts/people.html", context)


@login_required
@require_POST
def person_update(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Change role, deactivate or reactivate one person (one field per form)."""
    _manager(request)
    changes: dict[str, Any] = {}
    if "role" in request.POST:
        changes["role"] = request.POST["role"]
    if "is_active" in request.POST:
        changes["is_active"] = request.POST["is_active"] == "true"
    error = ""
    try:
        person = people.update_user(actor=request.user, user_id=user_id, changes=changes)
    except DomainError as exc:
        if exc.status == 403:
            raise  # 403: flowpilot.middleware
        error = exc.detail
        message = ""
    else:
        message = _update_message(person.display_name, changes, person)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(reverse("account-people"))
    response = render(request, "accounts/people.html#people-card", _people_context(request))
    _toast(response, error or message, tone="red" if error else "emerald")
    return response


def _update_message(name: str, changes: dict[str, Any], person: Any) -> str:
    if "is_active" in changes:
        return (
            f"{name} is active again and can sign in."
            if changes["is_active"]
            else f"{name} is deactivated and was signed out everywhere."
        )
    return f"{name} is now {person.get_role_display().lower()}."


@login_required
@require_POST
def person_resend(request: AuthedRequest, user_id: int) -> HttpResponse:
    _manager(request)
    error = ""
    try:
        person = people.resend_invitation(
            actor=request.user, user_id=user_id, base_url=request.build_absolute_uri("/")
        )
    except DomainError as exc:
        if exc.status == 403:
            raise  # 403: flowpilot.middleware
        error = exc.detail
    message = error or f"A new invitation is on its way to {person.email}."
    if not request.htmx:
        (messages.error if error else messages.success)(request, message)
        return HttpResponseRedirect(reverse("account-people"))
    response = render(request, "accounts/people.html#people-card", _people_context(request))
    _toast(response, message, tone="red" if error else "emerald")
    return response


@login_required
@require_POST
def change_password(request: AuthedRequest) -> HttpResponse:
    """The account page's form: current password required; other devices are signed out."""
    form = PasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        login_session = getattr(request, "login_session", None)
        ended = passwords.change_password(
            user=request.user,
            new_password=form.cleaned_data["new_password1"],
            keep_login_session_id=getattr(login_session, "pk", None),
            ip=client_ip(request),
        )
        update_session_auth_hash(request, request.user)
        plural = "s" if ended != 1 else ""
        others = f" {ended} other device{plural} signed out." if ended else ""
        message = f"Password changed.{others}"
        if not request.htmx:
            messages.success(request, message)
            return HttpResponseRedirect(reverse("account-settings"))
        response = render(
            request,
            "accounts/settings.html#password-card",
            {"password_form": PasswordChangeForm(request.user), "password_changed": True},
        )
        _toast(response, message)
        return response
    context = {"password_form": form}
    if request.htmx:
        return render(request, "accounts/settings.html#password-card", context)
    return render(
        request,
        "accounts/settings.html",
        {**account_settings_context(request), **context},
        status=200,
    )


# ---- Forgot password and invitations: Django's views, the product's templates -------------


class ForgotPasswordView(auth_views.PasswordResetView):
    form_class = WorkerPasswordResetForm
    template_name = "accounts/password_forgot.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-sent")

    def form_valid(self, form: Any) -> HttpResponse:
        ip_ok, email_ok = passwords.reset_request_allowed(
            email=form.cleaned_data["email"], ip=client_ip(self.request)
        )
        if not ip_ok:
            form.add_error(
                None, "Too many reset requests from your network. Wait an hour and try again."
            )
            return self.form_invalid(form)
        if not email_ok:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class ForgotPasswordSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_forgot_sent.html"


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """A reset link's page: choose a new password; every device is then signed out."""

    template_name = "accounts/password_set.html"
    success_url = "/login?reason=password_set"
    invitation = False

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "invitation": self.invitation}

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            passwords.complete_password_link(
                user=form.user, invitation=self.invitation, ip=client_ip(self.request)
            )
        return response


class AcceptInvitationView(SetPasswordView):
    token_generator = mail.invitation_tokens
    invitation = True
