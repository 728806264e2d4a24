"""
Tickets workspace and PSA settings pages. Each view parses, authorizes, calls one selector or
service and renders; a PSA refusal becomes a banner or a form error, never an error page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthedRequest
from accounts.permissions import engineer_or_admin_required, owner_required
from accounts.services.preferences import get_preferences, update_preferences
from flowpilot.errors import DomainError
from psa import selectors
from psa.forms import IntegrationForm, NewTicketForm, TicketFilterForm, WritebackForm
from psa.ports import ticket_actions, ticket_created
from psa.providers.base import NewTicket, TicketQuery
from psa.services import integration as integration_service
from psa.services import tickets as ticket_service

PAGE_SIZE = 25


def _apply_errors(form: Any, exc: DomainError) -> None:
    for name, errors in exc.extra.items():
        target = name if name in form.fields else None
        for error in errors if isinstance(errors, list) else [errors]:
            form.add_error(target, str(error))
    if not exc.extra:
        form.add_error(None, exc.detail)


# ---- settings ---------------------------------------------------------------------------


def _status_choices(ws: selectors.Workspace) -> list[tuple[str, str]]:
    found = selectors.all_statuses(ws)
    names = {b.id: b.name for b in selectors.boards(ws).items}
    return [(str(s.id), f"{names.get(s.board_id, s.board_id)} · {s.name}") for s in found.items]


def _settings_context(request: AuthedRequest, **extra: Any) -> dict[str, Any]:
    account = request.user.account
    summary = selectors.integration_summary(account)
    ws = selectors.workspace_for(account)
    prefs = get_preferences(account, viewer=request.user)
    status_choices = _status_choices(ws) if ws.connected else []
    return {
        "nav": "account",
        "summary": summary,
        "form": IntegrationForm(initial=summary),
        "writeback_form": WritebackForm(
            initial={k: prefs.get(k) for k in ("cw_resolved_status_id", "cw_escalated_status_id")},
            status_choices=status_choices,
        ),
        "status_choices": status_choices,
        "problems": ws.problems,
        **extra,
    }


@owner_required
@require_http_methods(["GET", "POST"])
def settings_page(request: AuthedRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "psa/settings.html", _settings_context(request))
    form = IntegrationForm(request.POST)
    if form.is_valid():
        try:
            integration_service.save_integration(
                account=request.user.account,
                actor=request.user,
                data=integration_service.IntegrationInput(**form.cleaned_data),
            )
        except DomainError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "PSA connection saved. Test it to be sure it works.")
            return HttpResponseRedirect(reverse("psa-settings"))
    return render(request, "psa/settings.html", _settings_context(request, form=form), status=422)


@owner_required
@require_POST
def settings_test(request: AuthedRequest) -> HttpResponse:
    result = integration_service.test_connection(account=request.user.account, actor=request.user)
    context = _settings_context(request, test_result=result)
    if request.htmx:
        return render(request, "psa/settings.html#test-result", context)
    return render(request, "psa/settings.html", context)


@owner_required
@require_POST
def settings_writeback(request: AuthedRequest) -> HttpResponse:
    ws = selectors.workspace_for(request.user.account)
    form = WritebackForm(request.POST, status_choices=_status_choices(ws))
    if form.is_valid():
        update_preferences(
            account=request.user.account, actor=request.user, changes=form.cleaned_data
        )
        messages.success(request, "Write-back statuses saved.")
        return HttpResponseRedirect(reverse("psa-settings"))
    context = _settings_context(request, writeback_form=form)
    return render(request, "psa/settings.html", context, status=422)


# ---- tickets ----------------------------------------------------------------------------


def _query(form: TicketFilterForm) -> TicketQuery:
    data = form.cleaned_data if form.is_valid() else {}
    return TicketQuery(
        board_id=data.get("board") or None,
        status_name=(data.get("status") or "").strip(),
        assignee=(data.get("assignee") or "").strip(),
        text=(data.get("q") or "").strip(),
        page=data.get("page") or 1,
        page_size=PAGE_SIZE,
    )


def _page_url(request: AuthedRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return f"{reverse('tickets-list')}?{params.urlencode()}"


@login_required
@require_GET
def tickets_list(request: AuthedRequest) -> HttpResponse:
    ws = selectors.workspace_for(request.user.account)
    board_lookup = selectors.boards(ws)
    form = TicketFilterForm(request.GET)
    form.fields["board"].choices = [("", "All boards")] + [  # type: ignore[attr-defined]
        (str(b.id), b.name) for b in board_lookup.items
    ]
    query = _query(form)
    if query.board_id:
        statuses = selectors.board_statuses(ws, query.board_id)
    else:
        statuses = selectors.all_statuses(ws)
    members = selectors.members(ws)
    page = None
    list_error = ""
    if ws.connected:
        try:
            page = selectors.search_tickets(ws, request.user, query)
        except DomainError as exc:
            list_error = exc.detail
    permissions = sorted(
        {found.permission for found in (board_lookup, statuses, members) if found.permission}
    )
    context = {
        "nav": "tickets",
        "ws": ws,
        "summary": selectors.integration_summary(request.user.account, ws.integration),
        "form": form,
        "ticket_base": reverse("tickets-list"),
        "query": query,
        "page": page,
        "list_error": list_error,
        "status_names": selectors.status_names(statuses.items),
        "members": members.items,
        "members_by_id": {m.identifier.lower(): m.name for m in members.items},
        "missing_permissions": permissions,
        "problems": ws.problems,
        "prev_url": _page_url(request, query.page - 1) if query.page > 1 else "",
        "next_url": _page_url(request, query.page + 1) if page and page.has_next else "",
    }
    template = "psa/tickets.html#ticket-results" if request.htmx else "psa/tickets.html"
    return render(request, template, context)


def _ticket_id(ticket_id: int) -> int:
    if ticket_id <= 0:
        raise Http404("Not found.")
    return ticket_id


@login_required
@require_GET
def ticket_detail(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ws = selectors.workspace_for(request.user.account)
    try:
        ticket = selectors.get_ticket(ws, _ticket_id(ticket_id))
    except DomainError as exc:
        if exc.status == 404:
            raise  # 404: flowpilot.middleware
        context = {"nav": "tickets", "error": exc.detail, "ticket_id": ticket_id}
        return render(request, "psa/ticket_unavailable.html", context, status=502)
    notes = selectors.ticket_notes(ws, ticket.id)
    members = selectors.members(ws)
    names = {m.identifier.lower(): m.name for m in members.items}
    context = {
        "nav": "tickets",
        "ws": ws,
        "summary": selectors.integration_summary(request.user.account, ws.integration),
        "ticket": ticket,
        "notes": notes,
        "assigned": [(r, names.get(r.lower(), r)) for r in ticket.resources],
        "assignable": [m for m in members.items if m.identifier not in ticket.resources],
        "members_problem": members.problem,
        "actions": ticket_actions(ticket, request.user) if request.user.can_act else [],
    }
    return render(request, "psa/ticket_detail.html", context)


def _back_to(ticket_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("ticket-detail", args=[ticket_id]))


@engineer_or_admin_required
@require_POST
def ticket_assign(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ws = selectors.workspace_for(request.user.account)
    member = request.POST.get("member", "")
    remove = request.POST.get("action") == "remove"
    try:
        if remove:
            ticket_service.unassign_member(
                ws=ws, actor=request.user, ticket_id=ticket_id, identifier=member
            )
        else:
            ticket_service.assign_member(
                ws=ws, actor=request.user, ticket_id=ticket_id, identifier=member
            )
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"{'Unassigned' if remove else 'Assigned'} {member}.")
    return _back_to(ticket_id)


def _new_ticket_form(ws: selectors.Workspace, data: Any = None, **initial: Any) -> NewTicketForm:
    form = NewTicketForm(data, initial=initial)
    board_items = selectors.boards(ws).items
    form.fields["board_id"].choices = [(str(b.id), b.name) for b in board_items]  # type: ignore[attr-defined]
    board_id = None
    raw = (data or {}).get("board_id") if data is not None else initial.get("board_id")
    if raw and str(raw).isdigit():
        board_id = int(raw)
    elif board_items:
        board_id = board_items[0].id
    statuses = selectors.board_statuses(ws, board_id).items if board_id else []
    form.fields["status_id"].choices = [("", "Board default")] + [  # type: ignore[attr-defined]
        (str(s.id), s.name) for s in statuses if not s.closed
    ]
    form.fields["priority_id"].choices = [("", "Default")] + [  # type: ignore[attr-defined]
        (str(p.id), p.name) for p in selectors.priorities(ws).items
    ]
    form.fields["company_id"].choices = [("", "Choose a company")] + [  # type: ignore[attr-defined]
        (str(c.id), c.name) for c in selectors.companies(ws).items
    ]
    return form


@engineer_or_admin_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: AuthedRequest) -> HttpResponse:
    ws = selectors.workspace_for(request.user.account)
    if request.method == "POST":
        form = _new_ticket_form(ws, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            origin = data.pop("origin", "")
            try:
                created = ticket_service.create_ticket(
                    ws=ws, actor=request.user, ticket=NewTicket(**data)
                )
            except DomainError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"Ticket #{created.id} created.")
                next_url = ticket_created(created, request.user, origin) if origin else None
                return HttpResponseRedirect(next_url) if next_url else _back_to(created.id)
        status = 422
    else:
        form = _new_ticket_form(
            ws,
            summary=request.GET.get("summary", "")[:100],
            initial_description=request.GET.get("description", "")[:10_000],
            origin=request.GET.get("origin", "")[:40],
        )
        status = 200
    context = {"nav": "tickets", "ws": ws, "form": form, "problems": ws.problems}
    if request.htmx and request.method == "GET" and "board_id" in request.GET:
        form = _new_ticket_form(ws, None, board_id=request.GET["board_id"])
        return render(request, "psa/ticket_new.html#status-field", {**context, "form": form})
    return render(request, "psa/ticket_new.html", context, status=status)
