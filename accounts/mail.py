"""
Account e-mail (invitations, password resets): rendered here, sent by a Celery task through
Django's mail framework once the transaction commits (console e-mail in the demo, so the link
is printed where a newcomer can click it).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from flowpilot.tasks import dispatch_on_commit


def set_password_link(
    *, user: User, base_url: str, generator: PasswordResetTokenGenerator, url_name: str
) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    path = reverse(url_name, kwargs={"uidb64": uid, "token": generator.make_token(user)})
    return base_url.rstrip("/") + path


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """
    Set-password links of invitations: a salt of their own (a reset link is no invitation and
    back), valid ``PASSWORD_RESET_TIMEOUT`` (72 hours), spent once a password is set (the
    token hashes the password).
    """

    key_salt = "accounts.mail.InvitationTokenGenerator"


invitation_tokens = InvitationTokenGenerator()


@shared_task(  # type: ignore[untyped-decorator]
    name="accounts.tasks.send_account_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_account_email_task(*, subject: str, body: str, to: str) -> int:
    """Send one account e-mail (invitation, reset); SMTP hiccups are retried with backoff."""
    return send_mail(subject, body, None, [to])


def send_on_commit(*, subject: str, body: str, to: str) -> None:
    dispatch_on_commit(send_account_email_task, subject=subject, body=body, to=to)


def send_invitation_on_commit(*, user: User, inviter: User, base_url: str) -> None:
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
