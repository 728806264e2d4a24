"""
Session pages: the sessions list, "New session", the chat with its task lane and What we know.

HTMX requests get the fragment they swap plus client events (``session-changed`` after a
chat turn or a fact change, so the preview panel refreshes; a toast for errors); plain form
posts redirect back to the session, so every control also works without JavaScript. The
assistant's reply streams over Server-Sent Events from an async view. A refusal a view does not
answer inline (a foreign session → 404, no right to change it → 403, a 409) is mapped in one
place, ``flowpilot.middleware.PageDomainErrorMiddleware``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, cast

from asgiref.sync import sync_to_async
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts import selectors as account_selectors
from accounts.http import AuthedRequest
from accounts.models import User
from accounts.permissions import engineer_or_admin_required
from flowpilot.errors import DomainError
from flowpilot.htmx import events, toast
from sessions_app import selectors
from sessions_app.access import can_edit, can_reopen, get_session
from sessions_app.fix_context import fix_panel_context
from sessions_app.models import AISession, AISessionStep, SessionStatus
from sessions_app.ports import ticket_links
from sessions_app.services import assistant, chat, facts, lane, sessions
from sessions_app.services.steps import MESSAGE_LIMIT

AUTOSTART_S = 120


class NewSessionForm(forms.Form):
    problem = forms.CharField(
        label="What's the problem?",
        max_length=MESSAGE_LIMIT,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "placeholder": "e.g. Outlook keeps asking for a password and mail is not syncing",
                "autofocus": True,
            }
        ),
        help_text=f"Describe it as the end user did. Up to {MESSAGE_LIMIT:,} characters.",
    )
    psa_ticket_id = forms.CharField(
        label="Ticket (optional)",
        required=False,
        max_length=33,
        widget=forms.TextInput(attrs={"placeholder": "#48213", "class": "mono"}),
    )


class MessageForm(forms.Form):
    content = forms.CharField(
        max_length=MESSAGE_LIMIT,
        error_messages={
            "required": "Type a message first.",
            "max_length": f"Messages are limited to {MESSAGE_LIMIT:,} characters.",
        },
    )


# --- helpers ----------------------------------------------------------------------------------


def _shell_context(user: User, current: AISession | None = None) -> dict[str, Any]:
    return {
        "nav": "sessions",
        "sidebar_sessions": selectors.sidebar_sessions(user),
        "current_session_id": current.pk if current else None,
        "assistant_label": assistant.assistant_label(),
        "message_limit": MESSAGE_LIMIT,
        "new_session_url": reverse("session-new"),
    }


def _session(user: User, session_id: int, *, write: bool = False) -> AISession:
    """The session for a page: foreign → 404, not allowed to change it → 403 (the middleware)."""
    return get_session(user, session_id, for_write=write)


def _detail_url(session: AISession, anchor: str = "") -> str:
    return reverse("session-detail", args=[session.pk]) + (f"#{anchor}" if anchor else "")


def _lane_context(request: AuthedRequest, session: AISession, **extra: Any) -> dict[str, Any]:
    state = selectors.lane_state(session)
    return {
        "session": session,
        "facts": state.facts,
        "lane": state.lane,
        "fix": state.fix,
        "can_act": can_edit(request.user, session),
        "can_reopen": can_reopen(request.user, session),
        "error": None,
        **extra,
    }


def _lane_response(
    request: AuthedRequest,
    session: AISession,
    *,
    message: dict[str, str] | None = None,
    changed: bool = True,
    **extra: Any,
) -> HttpResponse:
    """The HTMX answer to a lane or fact action: the whole lane, re-rendered."""
    if not request.htmx:
        if message and message.get("tone") == "red":
            messages.error(request, message["message"])
        elif message:
            messages.success(request, message["message"])
        return HttpResponseRedirect(_detail_url(session, "task-lane"))
    response = render(request, "sessions_app/_lane.html", _lane_context(request, session, **extra))
    if changed:
        response = events(response, session_changed={"session_id": session.pk})
    if message:
        response = toast(response, message["message"], message["tone"])
    return response


def _error_response(
    request: AuthedRequest, session: AISession, exc: DomainError, target: str, ident: object = ""
) -> HttpResponse:
    return _lane_response(
        request,
        session,
        message={"message": exc.detail, "tone": "red"},
        changed=False,
        error={"target": target, "id": str(ident), "message": exc.detail},
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _id(value: str | None) -> int | None:
    number = _int(value)
    return number if number is not None and 0 < number < 2**63 else None


def _autostart(step: AISessionStep | None) -> bool:
    """A just-sent message is answered on arrival; an old unanswered one waits for Retry."""
    return step is not None and (timezone.now() - step.created_at).total_seconds() < AUTOSTART_S


# --- pages ------------------------------------------------------------------------------------


@login_required
@require_GET
def sessions_list(request: AuthedRequest) -> HttpResponse:
    """Engineers pick from the sidebar; everyone gets the account's sessions, read-only,
    filterable by engineer and status (what a viewer works from)."""
    engineer_id = _id(request.GET.get("engineer"))
    status = request.GET.get("status", "")
    status = status if status in SessionStatus.values else ""
    rows, next_before = selectors.account_sessions(
        request.user,
        engineer_id=engineer_id,
        status=status,
        before=_id(request.GET.get("before")),
    )
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        **_shell_context(request.user),
        "account_sessions": rows,
        "next_before": next_before,
        "filter_query": query.urlencode(),
        "engineers": account_selectors.account_members(request.user.account),
        "statuses": SessionStatus.choices,
        "selected_engineer": engineer_id,
        "selected_status": status,
    }
    return render(request, "sessions_app/list.html", context)


@engineer_or_admin_required
@require_http_methods(["GET", "POST"])
def session_new(request: AuthedRequest) -> HttpResponse:
    # "Start session" on a PSA ticket links here with the ticket and its summary filled in.
    initial = {
        "problem": request.GET.get("problem", "")[:MESSAGE_LIMIT],
        "psa_ticket_id": request.GET.get("ticket", "")[:33],
    }
    form = NewSessionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            # The first reply streams on the session page (``autostart``).
            started = sessions.start_session(
                user=request.user,
                problem=form.cleaned_data["problem"],
                psa_ticket_id=form.cleaned_data["psa_ticket_id"],
                answer=False,
            )
        except DomainError as exc:
            field = "psa_ticket_id" if "ticket" in exc.code else "problem"
            form.add_error(field, exc.detail)
        else:
            return HttpResponseRedirect(_detail_url(started.session))
    context = {**_shell_context(request.user), "form": form}
    return render(request, "sessions_app/new.html", context, status=200)


@login_required
@require_GET
def session_detail(request: AuthedRequest, session_id: int) -> HttpResponse:
    session = _session(request.user, session_id)
    page = selectors.session_page(session, reader=request.user)
    can_act = can_edit(request.user, session)
    context = {
        # The fix panel beside the lane renders from this same context (no lookups of its own).
        **fix_panel_context(request, session, page.fix),
        **_shell_context(request.user, session),
        "session": session,
        "page": page,
        "steps": page.steps,
        "facts": page.facts,
        "lane": page.lane,
        "fix": page.fix,
        "can_act": can_act,
        "can_reopen": can_reopen(request.user, session),
        "error": None,
        "message_form": MessageForm(),
        "ticket_links": ticket_links(session=session, user=request.user),
        # The inline editor only for those who may save it (a viewer's ?edit= shows the text).
        "editing_fact_id": _int(request.GET.get("edit")) if can_act else None,
        "autostart": _autostart(page.pending_step),
    }
    return render(request, "sessions_app/detail.html", context)


@login_required
@require_POST
def send_message(request: AuthedRequest, session_id: int) -> HttpResponse:
    """HTMX: save the step and answer it with a streaming placeholder. No JS: a blocking turn."""
    session = _session(request.user, session_id, write=True)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _composer_error(request, session, str(form.errors["content"][0]))
    content = form.cleaned_data["content"]
    try:
        if not request.htmx:
            chat.send_message(session=session, user=request.user, content=content)
            return HttpResponseRedirect(_detail_url(session, "composer"))
        step = chat.add_user_step(session=session, user=request.user, content=content)
    except chat.ChatFailed as exc:
        messages.error(request, exc.detail)
        return HttpResponseRedirect(_detail_url(session, "composer"))
    except chat.ReplyQueued as exc:
        messages.info(request, exc.detail)
        return HttpResponseRedirect(_detail_url(session, "composer"))
    except DomainError as exc:
        return _composer_error(request, session, exc.detail)
    context = {"session": session, "step": step, "stream": True, "can_act": True}
    return render(request, "sessions_app/_turn_started.html", context)


def _composer_error(request: AuthedRequest, session: AISession, message: str) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        return HttpResponseRedirect(_detail_url(session, "composer"))
    response = render(request, "sessions_app/_composer_error.html", {"message": message})
    return reswap(retarget(response, "#composer-error"), "innerHTML")


@login_required
@require_POST
def retry_reply(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The no-JS retry; pages with JS re-open the stream of the pending step instead."""
    session = _session(request.user, session_id, write=True)
    try:
        chat.retry_reply(session=session)
    except DomainError as exc:
        messages.error(request, exc.detail)
    return HttpResponseRedirect(_detail_url(session, "composer"))


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _render_turn(
    request: AuthedRequest, session: AISession, turn: chat.TurnResult
) -> dict[str, Any]:
    user = request.user
    # The step reads nothing from the request: rendering it without one skips the context
    # processors (the lane below needs them for its forms).
    step_html = render_to_string(
        "sessions_app/_steps.html#step", {"step": turn.assistant_step, "session": session}
    )
    lane_context = _lane_context(request, session)
    lane_html = render_to_string("sessions_app/_lane.html", lane_context, request)
    # The fix panel is the lane's sibling: the turn sends its card; an open preview refreshes
    # itself (session-changed), so nothing here touches it.
    fix_card_html = render_to_string(
        "sessions_app/_fix_card.html",
        fix_panel_context(request, session, lane_context["fix"]),
        request,
    )
    return {
        "step_id": turn.assistant_step.pk,
        "html": step_html,
        "lane_html": lane_html,
        "fix_card_html": fix_card_html,
        "facts_added": len(turn.facts),
        "fix_id": turn.fix.pk if turn.fix else None,
        "can_act": can_edit(user, session),
    }


async def _stream_events(
    request: AuthedRequest, session: AISession, step: AISessionStep
) -> AsyncIterator[bytes]:
    # A comment line first so proxies and the browser see the stream open at once.
    yield b": stream open\n\n"
    try:
        async for event in chat.stream_reply(session=session, user_step=step):
            if event.kind == "token":
                yield _sse("token", {"text": event.text})
            elif event.kind == "queued":
                # Also the keep-alive while the replies before this message are written.
                yield _sse("queued", {"message": event.text})
            elif event.kind == "done" and event.turn is not None:
                payload = await sync_to_async(_render_turn)(request, session, event.turn)
                yield _sse("done", payload)
            elif event.error is not None:
                yield _sse("fail", {"message": event.error.detail, "code": event.error.code})
    except Exception:
        import logging

        logging.getLogger(__name__).exception("Streaming reply failed for session %s", session.pk)
        yield _sse(
            "fail",
            {"message": "Something went wrong while saving the reply. Retry.", "code": "error"},
        )


@login_required
@require_GET
async def stream_reply(
    request: AuthedRequest, session_id: int, step_id: int
) -> StreamingHttpResponse:
    """SSE: ``token`` events (visible text), then ``done`` (rendered step + lane) or ``fail``."""
    user = cast(User, await request.auser())
    session = await sync_to_async(_session)(user, session_id, write=True)
    step = await sync_to_async(selectors.get_user_step)(session, step_id)
    response = StreamingHttpResponse(
        _stream_events(request, session, step), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# --- task lane and What we know ---------------------------------------------------------------


@login_required
@require_GET
def lane_fragment(request: AuthedRequest, session_id: int) -> HttpResponse:
    session = _session(request.user, session_id)
    return render(request, "sessions_app/_lane.html", _lane_context(request, session))


@login_required
@require_POST
def update_item(request: AuthedRequest, session_id: int, uid: str) -> HttpResponse:
    session = _session(request.user, session_id, write=True)
    item = selectors.get_lane_item(session, uid)
    done_value = request.POST.get("done")
    done = None if done_value is None else done_value in ("1", "true", "on")
    answer = request.POST.get("answer")
    try:
        lane.update_item(session=session, item=item, user=request.user, answer=answer, done=done)
    except DomainError as exc:
        return _error_response(request, session, exc, "item", item.uid)
    return _lane_response(request, session, changed=False)


@login_required
@require_POST
def promote_item(request: AuthedRequest, session_id: int, uid: str) -> HttpResponse:
    session = _session(request.user, session_id, write=True)
    item = selectors.get_lane_item(session, uid)
    try:
        facts.promote_item(
            session=session,
            user=request.user,
            item=item,
            text=request.POST.get("text"),
            answer=request.POST.get("answer"),
        )
    except DomainError as exc:
        return _error_response(request, session, exc, "item", item.uid)
    return _lane_response(
        request, session, message={"message": "Added to What we know.", "tone": "emerald"}
    )


@login_required
@require_POST
def add_note(request: AuthedRequest, session_id: int) -> HttpResponse:
    session = _session(request.user, session_id, write=True)
    try:
        facts.add_note(session=session, user=request.user, text=request.POST.get("text", ""))
    except DomainError as exc:
        return _error_response(request, session, exc, "note")
    return _lane_response(request, session, message={"message": "Note added.", "tone": "emerald"})


@login_required
@require_http_methods(["GET", "POST"])
def edit_fact(request: AuthedRequest, session_id: int, fact_id: int) -> HttpResponse:
    """GET: the inline editor (HTMX) · POST: save the new text. Both need write access: the
    editor is only handed to those whose save would be accepted."""
    session = _session(request.user, session_id, write=True)
    fact = selectors.get_fact(session, fact_id)
    if request.method == "GET" and not request.htmx:
        return HttpResponseRedirect(f"{_detail_url(session)}?edit={fact.pk}#fact-{fact.pk}")
    if request.method == "GET":
        context = {"session": session, "fact": fact, "editing": True, "can_act": True}
        return render(request, "sessions_app/_fact.html", context)
    try:
        facts.update_fact(session=session, fact=fact, text=request.POST.get("text", ""))
    except DomainError as exc:
        return _error_response(request, session, exc, "fact", fact.pk)
    return _lane_response(request, session, message={"message": "Fact updated.", "tone": "emerald"})


@login_required
@require_POST
def delete_fact(request: AuthedRequest, session_id: int, fact_id: int) -> HttpResponse:
    session = _session(request.user, session_id, write=True)
    fact = selectors.get_fact(session, fact_id)
    facts.delete_fact(session=session, fact=fact)
    return _lane_response(request, session, message={"message": "Fact removed.", "tone": "neutral"})


@login_required
@require_POST
def link_ticket(request: AuthedRequest, session_id: int) -> HttpResponse:
    session = _session(request.user, session_id, write=True)
    try:
        sessions.link_ticket(session=session, psa_ticket_id=request.POST.get("psa_ticket_id", ""))
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            f"Linked to ticket #{session.psa_ticket_id}."
            if session.psa_ticket_id
            else "Ticket unlinked.",
        )
    return HttpResponseRedirect(_detail_url(session))


@login_required
@require_POST
def reopen_session(request: AuthedRequest, session_id: int) -> HttpResponse:
    """The resolved session's "Reopen" form: back to active with the reason as a note."""
    session = get_session(request.user, session_id, for_write=True, allow_closed=True)
    try:
        sessions.reopen_session(
            session=session, actor=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Session reopened. Pick up where you left off.")
    return HttpResponseRedirect(_detail_url(session))
