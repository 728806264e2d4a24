"""Forms of the people and password pages (Django's auth forms where they exist)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.template.loader import render_to_string

from accounts import mail
from accounts.models import Role


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="E-mail address")
    name = forms.CharField(max_length=120, required=False, label="Name")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ENGINEER, label="Role")

    def __init__(self, *args: Any, can_invite_owners: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_invite_owners:
            role = self.fields["role"]
            assert isinstance(role, forms.ChoiceField)
            role.choices = [c for c in Role.choices if c[0] != Role.OWNER]


class WorkerPasswordResetForm(PasswordResetForm):
    """Django's reset form; the e-mail goes out through the worker after commit."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        mail.send_on_commit(subject=subject, body=body, to=to_email)
