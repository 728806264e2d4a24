"""
The suggested-fix panel's template context: what the panel, card, dialogs and preview popover
read. Used by the fix views and by the session page's view (the panel is the task lane's
sibling and renders from the page's context).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sessions_app.access import can_edit
from sessions_app.markdown import render_markdown
from sessions_app.models import AISession, FixStatus, SessionStatus, SuggestedFix

logger = logging.getLogger(__name__)

# The card's script section (the script with its parameter form, safety review and the
# decisions about it) belongs to the script library, which builds on sessions: it registers a
# provider here in its AppConfig.ready(). A provider answers extra context for the card; the
# card includes ``script_section_template`` when one is given, else it shows the bare script.
FixCardProvider = Callable[[Any, AISession, "SuggestedFix | None", dict[str, Any]], dict[str, Any]]
_fix_card_providers: list[FixCardProvider] = []


def register_fix_card_provider(provider: FixCardProvider) -> None:
    if provider not in _fix_card_providers:
        _fix_card_providers.append(provider)


def _provided(
    request: Any, session: AISession, fix: SuggestedFix | None, context: dict[str, Any]
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for provider in _fix_card_providers:
        try:
            extra.update(provider(request, session, fix, context))
        except Exception:
            # A failing section must not take the whole card (and the session page) down.
            logger.exception("Fix card provider %r failed for session %s", provider, session.pk)
    return extra


def fix_panel_context(
    request: Any, session: AISession, fix: SuggestedFix | None, **extra: Any
) -> dict[str, Any]:
    """Everything the panel templates read; the session page's include gets the same."""
    user = getattr(request, "user", None)
    # The page's own rule for write controls (on the session, and the session is open).
    can_act = bool(user is not None and user.is_authenticated and can_edit(user, session))
    proposal = fix.ai_outcome_proposal if fix is not None and not fix.is_terminal else None
    context: dict[str, Any] = {
        "session": session,
        "fix": fix,
        "can_act": can_act,
        "can_post": can_act,
        "can_escalate": can_act and session.status != SessionStatus.ESCALATED,
        "fix_state": _fix_state(fix),
        "proposal": proposal,
        "proposal_label": _proposal_label(proposal),
        "closed_note_html": render_markdown(session.resolution_note)
        if session.status == SessionStatus.RESOLVED and session.resolution_note
        else "",
        "preview": None,
        "page_url": f"/sessions/{session.pk}/fix",
    }
    context.update(extra)
    context["dialogs"] = _dialogs(
        fix, context.get("open_dialog", ""), context.get("errors", {}), context.get("values", {})
    )
    context.setdefault("open_dialog", "")
    context.update(_provided(request, session, fix, context))
    return context


def _dialogs(
    fix: SuggestedFix | None, open_dialog: str, errors: dict[str, str], values: dict[str, str]
) -> list[dict[str, Any]]:
    """The three outcome dialogs, with what was typed and the inline error when re-shown."""
    if fix is None:
        return []
    specs = [
        ("failed", FixStatus.APPLIED_FAILED, "failure_reason", "Didn't work", "What happened?",
         "The error is back after a minute…", False, "btn-danger", "Record: didn't work",
         ""),
        ("partial", FixStatus.APPLIED_PARTIAL, "notes", "Partially worked",
         "What works now, and what still fails?", "Outlook syncs, but shared calendars don't…",
         True, "btn-amber", "Save notes", fix.partial_notes),
        ("pending", FixStatus.APPLIED_PENDING, "reason", "Waiting to verify",
         "What are you waiting on?", "A reboot tonight, AD replication, a OneDrive sync…",
         True, "btn-primary", "Wait and remind me", fix.pending_reason),
    ]  # fmt: skip
    dialogs = []
    for name, outcome, field, title, label, placeholder, required, button, submit, current in specs:
        shown = open_dialog == name
        dialogs.append(
            {
                "name": name,
                "outcome": outcome,
                "field": field,
                "title": title,
                "label": label,
                "placeholder": placeholder,
                "required": required,
                "button_class": button,
                "submit": submit,
                "value": values.get(field, "") if shown and values else current,
                "error": errors.get(field, "") if shown else "",
            }
        )
    return dialogs


def _fix_state(fix: SuggestedFix | None) -> str:
    """Which banner the card shows: proposed, verifying, partial, pending or a final state."""
    if fix is None:
        return "none"
    if fix.status == FixStatus.PROPOSED:
        return "verifying" if fix.applied_at else "proposed"
    return {
        FixStatus.APPLIED_PARTIAL: "partial",
        FixStatus.APPLIED_PENDING: "pending",
        FixStatus.APPLIED_SUCCESS: "success",
        FixStatus.APPLIED_FAILED: "failed",
        FixStatus.DISMISSED: "dismissed",
    }[FixStatus(fix.status)]


def _proposal_label(proposal: dict[str, Any] | None) -> str:
    if not proposal:
        return ""
    return {
        "applied_success": "The assistant thinks this worked — confirm?",
        "applied_failed": "The assistant thinks this didn't work — confirm?",
        "applied_partial": "The assistant thinks this only partly worked — confirm?",
    }.get(str(proposal.get("outcome")), "")
