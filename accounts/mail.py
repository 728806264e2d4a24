"""
Account e-mail (invitations, password resets): rendered here, sent by a Celery task through
Django's mail framework once the transaction commits (console e-mail in the demo, so the link
is printed where a newcomer can click it).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User


def set_password_link(
    *, user: User, base_url: str, generator: PasswordResetTokenGenerator, url_name: str
) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse(url_name, kwargs={"uidb64": uid, "token": generator.make_token(user)})
    return base_url.rstrip("/") + path


def send_on_commit(*, subject: str, body: str, to: str) -> None:
    def dispatch() -> None:
        from accounts.tasks import send_account_email_task

        send_account_email_task.delay(subject=subject, body=body, to=to)

    transaction.on_commit(dispatch)


def send_invitation_on_commit(*, user: User, inviter: User, base_url: str) -> None:
    from accounts.services.people import invitation_tokens

    context: dict[str, Any] = {
        "user": user,
        "inviter": inviter,
        "account": user.account,
        "link": set_password_link(
            user=user,
            base_url=base_url,
            generator=invitation_tokens,
            url_name="account-invitation-accept",
        ),
    }
    subject = f"{inviter.display_name} invited you to {user.account.name} on FlowPilot"
    body = render_to_string("accounts/email/invitation.txt", context)
    send_on_commit(subject=subject, body=body, to=user.email)
