"""
The escalation package when the assistant has not written it (yet): a factual draft from the
session bundle, stored at once so escalating never waits on the model, then replaced by the
assistant's version from a Celery task (only while nobody changed it).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from flowpilot.errors import DomainError
from handoffs import events
from handoffs.models import SessionHandoff
from sessions_app.models import AISession
from sessions_app.services.previews import generate

logger = logging.getLogger(__name__)

PENDING_HYPOTHESIS = "Being written by the assistant; the facts above are what was recorded."
UNAVAILABLE_HYPOTHESIS = "Not written: the assistant was unavailable."


def _package(bundle: dict[str, Any], reason: str, hypothesis: str) -> str:
    facts = bundle.get("facts") or []
    fix = bundle.get("fix") or None
    tried = [
        *(bundle.get("tried") or []),
        *([fix] if fix and fix.get("status") != "proposed" else []),
    ]
    lines = ["## Problem", "", str(bundle.get("problem") or ""), "", "## What we've confirmed", ""]
    lines += [f"- {fact}" for fact in facts] or ["- Nothing confirmed yet."]
    lines += ["", "## What we've tried", ""]
    lines += [f"- {item.get('title')} ({item.get('status')})" for item in tried] or [
        "- Nothing applied yet."
    ]
    lines += ["", "## Current hypothesis", "", hypothesis]
    lines += ["", "## Suggested next steps", "", f"- {reason or 'Review the session.'}"]
    return "\n".join(lines) + "\n"


def draft_package(bundle: dict[str, Any], reason: str) -> str:
    return _package(bundle, reason, PENDING_HYPOTHESIS)


def fallback_package(bundle: dict[str, Any], reason: str) -> str:
    return _package(bundle, reason, UNAVAILABLE_HYPOTHESIS)


def write_package(*, handoff_id: Any) -> bool:
    """Replace a hand-off's draft package with the assistant's; idempotent (True if replaced)."""
    handoff = SessionHandoff.objects.filter(pk=handoff_id).first()
    if handoff is None or PENDING_HYPOTHESIS not in handoff.package_markdown:
        return False
    try:
        text = generate(kind="escalation_package", bundle=handoff.snapshot).strip()
    except DomainError as exc:
        logger.warning("Package of hand-off %s stays a draft: %s", handoff_id, exc.detail)
        return False
    return _store(handoff=handoff, draft=handoff.package_markdown, text=text)


@transaction.atomic
def _store(*, handoff: SessionHandoff, draft: str, text: str) -> bool:
    updated = SessionHandoff.objects.filter(pk=handoff.pk, package_markdown=draft).update(
        package_markdown=text
    )
    if not updated:
        return False
    session = AISession.objects.select_for_update().filter(pk=handoff.session_id).first()
    stored = dict(session.escalation_package or {}) if session is not None else {}
    if session is not None and stored.get("markdown") == draft:
        stored["markdown"] = text
        AISession.objects.filter(pk=session.pk).update(escalation_package=stored)
    # An open hand-off screen shows the assistant's package without reloading.
    handoff.package_markdown = text
    events.publish_package_ready_on_commit(handoff)
    return True
