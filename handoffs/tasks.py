"""
Celery tasks of the hand-off flow, queued only after the hand-off commits (``on_commit``).

With ``acks_late`` a task may run twice after a worker dies, so each one is idempotent: the
assessment keeps a ready result, an e-mail is claimed by a conditional UPDATE of its
notification's ``emailed_at`` before it is sent. Each e-mail and webhook is its own task, so one
bad address or a Slack outage never holds back the others, and none of them can fail the
hand-off (it committed before they were queued).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlparse

import requests
from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from accounts.services.preferences import webhook_url
from handoffs import ageing, assessment, events, package
from handoffs.models import AppNotification, NotificationKind, SessionHandoff
from handoffs.notifications import notification_title

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 5
WEBHOOK_KINDS = ("slack", "teams")
RETRY = {"max_retries": 4, "retry_backoff": 5, "retry_backoff_max": 300, "retry_jitter": True}


@shared_task(acks_late=True, name="handoffs.assess_handoff")  # type: ignore[untyped-decorator]
def assess_handoff(handoff_id: str) -> str:
    """Write the AI assessment of a hand-off (or store it as unavailable) and publish it."""
    return assessment.write_assessment(handoff_id=handoff_id)


@shared_task(acks_late=True, name="handoffs.write_package")  # type: ignore[untyped-decorator]
def write_package(handoff_id: str) -> bool:
    """Replace the factual draft package of a hand-off with the assistant's."""
    return package.write_package(handoff_id=handoff_id)


@shared_task(acks_late=True, name="handoffs.fan_out_handoff")  # type: ignore[untyped-decorator]
def fan_out_handoff(handoff_id: str, kind: str = "handoff_created", webhooks: bool = True) -> int:
    """Push each recipient's bell, then queue one e-mail per recipient and one post per webhook
    (the notifications of one kind: the first announcement, or the "still waiting" one)."""
    handoff = SessionHandoff.objects.filter(pk=handoff_id).select_related("account").first()
    if handoff is None:
        return 0
    notifications = list(
        AppNotification.objects.filter(handoff=handoff, kind=kind)
        .select_related("user")
        .order_by("id")
    )
    events.publish_notifications(notifications)
    for notification in notifications:
        if notification.emailed_at is None:
            _queue(deliver_email, notification.pk)
    for service in WEBHOOK_KINDS if webhooks else ():
        if webhook_url(handoff.account, f"{service}_webhook_url"):
            _queue(post_webhook, str(handoff.pk), service)
    return len(notifications)


@shared_task(acks_late=True, name="handoffs.renotify_ageing")  # type: ignore[untyped-decorator]
def renotify_ageing() -> int:
    """Celery beat (every 5 minutes): escalations nobody picked up are announced once more."""
    return ageing.renotify_ageing(
        announce=lambda handoff_id: _queue(
            fan_out_handoff, handoff_id, NotificationKind.HANDOFF_WAITING.value, False
        )
    )


def _queue(task: Any, *args: Any) -> None:
    """Queue one message; its failure (or, eagerly run, its delivery failing) is logged only."""
    try:
        task.delay(*args)
    except Exception:
        logger.exception("Could not deliver %s%r", task.name, args)


@shared_task(  # type: ignore[untyped-decorator]
    acks_late=True, bind=True, name="handoffs.deliver_email", autoretry_for=(OSError,), **RETRY
)
def deliver_email(self: Any, notification_id: int) -> bool:
    """One notification e-mail. Claimed first (``emailed_at``); released again if sending fails."""
    notification = AppNotification.objects.filter(pk=notification_id).select_related("user").first()
    if notification is None:
        return False
    claimed = AppNotification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    link = _absolute(notification.link)
    try:
        send_mail(
            subject=notification.title,
            message=f"{notification.body}\n\nOpen it: {link}\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.user.email],
        )
    except Exception:
        AppNotification.objects.filter(pk=notification_id).update(emailed_at=None)
        logger.exception(
            "Notification e-mail %s to user %s failed", notification_id, notification.user_id
        )
        raise
    logger.info("Notification e-mail %s sent to user %s", notification_id, notification.user_id)
    return True


class WebhookRefused(Exception):
    """The configured URL is not one FlowPilot posts to (SSRF controls)."""


def check_webhook_url(url: str) -> None:
    """https only (unless allowed for a local test), allowed hosts, no private addresses."""
    parsed = urlparse(url)
    insecure_ok = getattr(settings, "WEBHOOK_ALLOW_INSECURE", False)
    if parsed.scheme != "https" and not (insecure_ok and parsed.scheme == "http"):
        raise WebhookRefused("webhooks must use https")
    host = (parsed.hostname or "").lower()
    allowed = getattr(settings, "WEBHOOK_ALLOWED_HOSTS", ())
    if not any(host == entry or host.endswith("." + entry.lstrip("*.")) for entry in allowed):
        raise WebhookRefused(f"host {host!r} is not an allowed webhook host")
    if insecure_ok:
        return
    for info in socket.getaddrinfo(host, parsed.port or 443, proto=socket.IPPROTO_TCP):
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise WebhookRefused(f"host {host!r} resolves to a non-public address")


def webhook_body(kind: str, handoff: SessionHandoff, title: str, link: str) -> dict[str, Any]:
    if kind == "slack":
        return {"text": f"{title}\n<{link}|Open the escalation>"}
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "TextBlock", "text": title, "wrap": True}],
                    "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": link}],
                },
            }
        ],
    }


@shared_task(  # type: ignore[untyped-decorator]
    acks_late=True,
    bind=True,
    name="handoffs.post_webhook",
    autoretry_for=(requests.RequestException,),
    **RETRY,
)
def post_webhook(self: Any, handoff_id: str, kind: str) -> bool:
    """One Slack or Teams message about a new escalation."""
    handoff = (
        SessionHandoff.objects.filter(pk=handoff_id)
        .select_related("account", "session", "from_user")
        .first()
    )
    if handoff is None or kind not in WEBHOOK_KINDS:
        return False
    url = webhook_url(handoff.account, f"{kind}_webhook_url") or ""
    if not url:
        return False
    try:
        check_webhook_url(url)
    except (WebhookRefused, OSError) as exc:
        logger.warning("%s webhook for hand-off %s refused: %s", kind, handoff_id, exc)
        return False
    title = notification_title(
        from_user=handoff.from_user,
        problem=handoff.session.problem_summary,
        ticket=handoff.psa_ticket_id,
    )
    body = webhook_body(kind, handoff, title, _absolute(handoff.get_absolute_url()))
    response = requests.post(url, json=body, timeout=WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False)
    if response.status_code >= 500 or response.status_code == 429:
        response.raise_for_status()
    if response.status_code >= 300:
        logger.warning(
            "%s webhook for hand-off %s answered %s", kind, handoff_id, response.status_code
        )
        return False
    logger.info("%s webhook for hand-off %s delivered", kind, handoff_id)
    return True


def _absolute(link: str) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    return f"{base}{link}" if base else link
