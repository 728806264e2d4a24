"""
Pages of the hand-off flow: the escalation queue, the hand-off ("magic moment") screen, the
bell and the analytics page. HTMX requests get the fragment they swap plus an ``HX-Trigger``
toast; plain form posts redirect, so every control works without JavaScript too.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap

from accounts.http import AuthedRequest
from accounts.permissions import engineer_or_admin_required
from flowpilot.errors import Conflict, DomainError
from flowpilot.htmx import toast
from handoffs import selectors, services
from handoffs.models import SessionHandoff
from sessions_app.access import can_work_on, get_session
from sessions_app.markdown import render_markdown
from sessions_app.services import chat

MESSAGE_LIMIT = 8000


class ComposerForm(forms.Form):
    content = forms.CharField(
        max_length=MESSAGE_LIMIT, error_messages={"required": "Type a message first."}
    )


def _toast(response: HttpResponse, message: str, tone: str) -> HttpResponse:
    return toast(response, message, tone)


@engineer_or_admin_required
@require_GET
def queue(request: AuthedRequest) -> HttpResponse:
    try:
        page = selectors.escalation_queue(
            request.user,
            cursor=request.GET.get("cursor"),
            limit=selectors.QUEUE_PAGE_CARDS,
            columns=selectors.QUEUE_CARD_COLUMNS,
        )
    except DomainError:
        return HttpResponseRedirect(reverse("escalation-queue"))
    context = {
        "nav": "escalations",
        "page": page,
        "waiting": selectors.waiting_count(request.user, cap=selectors.COUNT_CAP),
        "waiting_cap": selectors.COUNT_CAP,
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "handoffs/queue.html#queue-items", context)
    return render(request, "handoffs/queue.html", context)


def _handoff_context(request: AuthedRequest, handoff: SessionHandoff) -> dict[str, Any]:
    user = request.user
    session = handoff.session
    mine = handoff.claimed_by_id == user.pk
    return {
        "nav": "escalations",
        "handoff": handoff,
        "session": session,
        "package_html": render_markdown(handoff.package_markdown),
        "snapshot": handoff.snapshot or {},
        "can_claim": user.can_act and not handoff.is_claimed and handoff.from_user_id != user.pk,
        "is_claimer": mine,
        "can_write": mine or (handoff.is_claimed and can_work_on(user, session)),
        "show_chips": mine and not selectors.chips_hidden(user, handoff),
        "claimed_by": handoff.claimed_by,
        "claimed_at": handoff.claimed_at,
        "handoff_id": str(handoff.pk),
        "session_id": session.pk,
    }


@login_required
@require_GET
def handoff_detail(request: AuthedRequest, handoff_id: UUID) -> HttpResponse:
    handoff = selectors.get_handoff(request.user, handoff_id)
    if request.user.can_act:
        services.mark_seen(actor=request.user, handoff_id=handoff.pk)
    return render(request, "handoffs/handoff.html", _handoff_context(request, handoff))


@engineer_or_admin_required
@require_POST
def claim(request: AuthedRequest, handoff_id: UUID) -> HttpResponse:
    """Pick Up. The winner lands on the hand-off screen; a loser is told who won, and stays."""
    handoff = selectors.get_handoff(request.user, handoff_id)
    target = handoff.get_absolute_url()
    try:
        result = services.claim_handoff(
            actor=request.user, session_id=handoff.session_id, handoff_id=handoff.pk
        )
    except Conflict as exc:
        if request.htmx:
            # The card goes away here too (the socket says so as well), with the toast.
            return _toast(reswap(HttpResponse(status=200), "delete"), exc.detail, "amber")
        messages.warning(request, exc.detail)
        return HttpResponseRedirect(reverse("escalation-queue"))
    except DomainError as exc:
        if request.htmx:
            return _toast(HttpResponse(status=200), exc.detail, "red")
        raise  # 404 / 403 / back with the message: flowpilot.middleware
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    if not result.already_yours:
        messages.success(request, "You picked it up. The session is in your sidebar.")
    return HttpResponseRedirect(target)


@engineer_or_admin_required
@require_POST
def hide_chips(request: AuthedRequest, handoff_id: UUID) -> HttpResponse:
    handoff = selectors.get_handoff(request.user, handoff_id)
    services.hide_chips(actor=request.user, handoff=handoff)
    if request.htmx:
        return HttpResponse("")
    return HttpResponseRedirect(handoff.get_absolute_url())


@engineer_or_admin_required
@require_POST
def send(request: AuthedRequest, handoff_id: UUID) -> HttpResponse:
    """The composer of the hand-off screen: the first message continues the same chat."""
    handoff = selectors.get_handoff(request.user, handoff_id)
    session = get_session(request.user, handoff.session_id, for_write=True)
    form = ComposerForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(form.errors["content"][0]))
        return HttpResponseRedirect(handoff.get_absolute_url() + "#composer")
    try:
        chat.add_user_step(session=session, user=request.user, content=form.cleaned_data["content"])
    except DomainError as exc:
        messages.error(request, exc.detail)
        return HttpResponseRedirect(handoff.get_absolute_url() + "#composer")
    services.hide_chips(actor=request.user, handoff=handoff)
    # The session page streams the assistant's answer to the pending message.
    return HttpResponseRedirect(reverse("session-detail", args=[session.pk]))


@engineer_or_admin_required
@require_POST
def retry_assessment(request: AuthedRequest, handoff_id: UUID) -> HttpResponse:
    handoff = selectors.get_handoff(request.user, handoff_id)
    handoff = services.retry_assessment(actor=request.user, handoff=handoff)
    if request.htmx:
        return render(request, "handoffs/_assessment.html", {"handoff": handoff})
    return HttpResponseRedirect(handoff.get_absolute_url())


# --- the bell ---------------------------------------------------------------------------------


def _bell_context(request: AuthedRequest) -> dict[str, Any]:
    return {
        "notifications": selectors.recent_notifications(request.user),
        "bell_unread": selectors.unread_count(request.user),
    }


@login_required
@require_GET
def notifications(request: AuthedRequest) -> HttpResponse:
    context = _bell_context(request)
    if request.htmx:
        return render(request, "handoffs/notifications.html#bell-dropdown", context)
    return render(request, "handoffs/notifications.html", {**context, "nav": ""})


@login_required
@require_POST
def notification_read(request: AuthedRequest, notification_id: int) -> HttpResponse:
    """Mark read and follow its link (the bell entry is a small form)."""
    notification = services.mark_notification_read(
        user=request.user, notification_id=notification_id
    )
    link = notification.link
    if not url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        link = reverse("notifications")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = link
        return response
    return HttpResponseRedirect(link)


@login_required
@require_POST
def notifications_read_all(request: AuthedRequest) -> HttpResponse:
    services.mark_all_notifications_read(user=request.user)
    if request.htmx:
        return render(request, "handoffs/notifications.html#bell-dropdown", _bell_context(request))
    return HttpResponseRedirect(reverse("notifications"))


# --- analytics --------------------------------------------------------------------------------

CHART_WIDTH = 640
CHART_HEIGHT = 160


def chart_points(daily: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars of the daily median for a server-rendered SVG."""
    if not daily:
        return []
    peak = max(point["median_seconds"] or 0 for point in daily) or 1
    width = CHART_WIDTH / len(daily)
    bars = []
    for index, point in enumerate(daily):
        height = round((point["median_seconds"] or 0) / peak * (CHART_HEIGHT - 20), 1)
        bars.append(
            {
                "x": round(index * width + 2, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(max(width - 4, 1), 1),
                "height": height,
                "day": point["day"],
                "median": point["median_seconds"],
                "n": point["n"],
            }
        )
    return bars


@engineer_or_admin_required
@require_GET
def analytics(request: AuthedRequest) -> HttpResponse:
    try:
        period = selectors.clean_period(request.GET.get("period", "7d"))
    except DomainError:
        period = "7d"
    metrics = selectors.escalation_metrics(request.user, period=period)
    context = {
        "nav": "analytics",
        "metrics": metrics,
        "period": period,
        "periods": list(selectors.PERIODS),
        "bars": chart_points(metrics.daily),
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
        "definition": selectors.METRIC_DEFINITION,
    }
    return render(request, "handoffs/analytics.html", context)
