"""
Pages of the script library: browse and search, the generator (parameter form → ready script
with its review), and template create / edit / delete. HTMX requests get the fragment they
swap; plain forms get the whole page, so everything works without JavaScript.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from accounts.http import AuthedRequest
from accounts.permissions import engineer_or_admin_required, require_engineer_or_admin
from flowpilot.errors import DomainError
from scripts import selectors
from scripts.api.serializers import provenance
from scripts.models import ScriptTemplate
from scripts.output import script_output
from scripts.parameter_form import form_fields, values_from_post
from scripts.parameters import parse_schema
from scripts.services import generation, library
from sessions_app.access import get_session
from sessions_app.models import AISession

PAGE_SIZE = 48


def _template(request: AuthedRequest, template_id: int) -> ScriptTemplate:
    return selectors.get_template(request.user.account, template_id)


def _linked_session(request: AuthedRequest, raw: str | None) -> AISession | None:
    if not raw or not raw.isdigit():
        return None
    return get_session(request.user, int(raw))


@login_required
@require_GET
def library_page(request: AuthedRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    query = request.GET.get("q", "")
    raw_page = request.GET.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) < 10_000 else 1
    # Page before decorating: one more row than shown says whether a next page exists.
    start = (page - 1) * PAGE_SIZE
    rows = selectors.library_cards(
        request.user.account_id,
        category=category,
        query=query,
        start=start,
        stop=start + PAGE_SIZE + 1,
    )
    context = {
        "nav": "scripts",
        "categories": selectors.categories(request.user.account),
        "category": category,
        "query": query,
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "templates": rows[:PAGE_SIZE],
        "pending_drafts": selectors.drafts(request.user.account)[:20]
        if request.user.can_act
        else [],
    }
    if request.htmx and request.htmx.target == "template-list":
        return render(request, "scripts/library.html#template-list", context)
    return render(request, "scripts/library.html", context)


def _generator_context(
    request: AuthedRequest,
    template: ScriptTemplate,
    *,
    values: dict[str, Any],
    session: AISession | None,
    output: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    schema = parse_schema(template.parameters_schema)
    return {
        "nav": "scripts",
        "template": template,
        "provenance": provenance(template),
        "fields": form_fields(schema, values, errors=errors),
        "session": session,
        "output": output,
        "template_review": script_output(template.body, dom_id="template-body", schema=schema),
    }


@login_required
@require_http_methods(["GET", "POST"])
def generator_page(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = _template(request, template_id)
    source = request.POST if request.method == "POST" else request.GET
    session = _linked_session(request, source.get("session"))
    schema = parse_schema(template.parameters_schema)
    values = values_from_post(schema, source)
    if request.method == "GET":
        return render(
            request,
            "scripts/generator.html",
            _generator_context(request, template, values=values, session=session),
        )
    require_engineer_or_admin(request.user)
    status = 200
    try:
        result = generation.generate_script(
            user=request.user, template=template, values=values, session=session
        )
        output = script_output(result.script, dom_id="generated-script", schema=schema)
        errors: dict[str, str] = {}
    except DomainError as exc:
        output = script_output("", dom_id="generated-script", error=exc.detail)
        parameter = exc.extra.get("parameter")
        errors = {str(parameter): exc.detail} if parameter else {}
        status = exc.status
    context = _generator_context(
        request, template, values=values, session=session, output=output, errors=errors
    )
    if request.htmx:
        response = render(request, "scripts/generator.html#generator-result", context)
        if status == 200:
            trigger_client_event(response, "toast", {"message": "Script ready.", "tone": "emerald"})
        return response
    return render(request, "scripts/generator.html", context, status=status)


@login_required
@require_GET
def pick_page(request: AuthedRequest) -> HttpResponse:
    """The palette's "Open script generator": the library, to pick a template."""
    return HttpResponseRedirect("/scripts?pick=1")


def _editor_context(
    request: AuthedRequest,
    template: ScriptTemplate | None,
    data: dict[str, Any],
    error: str = "",
) -> dict[str, Any]:
    return {
        "nav": "scripts",
        "template": template,
        "categories": selectors.categories(request.user.account),
        "data": data,
        "error": error,
    }


def _editor_data(template: ScriptTemplate | None) -> dict[str, Any]:
    if template is None:
        return {"name": "", "description": "", "category_id": "", "body": "", "parameters": "[]"}
    return {
        "name": template.name,
        "description": template.description,
        "category_id": str(template.category_id or ""),
        "body": template.body,
        "parameters": json.dumps(template.parameters_schema, indent=2),
    }


def _posted(request: AuthedRequest) -> tuple[dict[str, Any], Any]:
    data = {
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "category_id": request.POST.get("category_id", ""),
        "body": request.POST.get("body", ""),
        "parameters": request.POST.get("parameters", "") or "[]",
    }
    try:
        parameters = json.loads(data["parameters"])
    except ValueError as exc:
        raise DomainError(
            "Parameters must be JSON: a list of objects with a name.", code="parameters_invalid"
        ) from exc
    return data, parameters


@engineer_or_admin_required
@require_http_methods(["GET", "POST"])
def template_new(request: AuthedRequest) -> HttpResponse:
    if request.method == "GET":
        return render(
            request, "scripts/editor.html", _editor_context(request, None, _editor_data(None))
        )
    data: dict[str, Any] = dict(request.POST.items())
    try:
        data, parameters = _posted(request)
        template = library.create_template(
            account=request.user.account,
            actor=request.user,
            name=data["name"],
            body=data["body"],
            parameters=parameters,
            description=data["description"],
            category_id=data["category_id"] or None,
        )
    except DomainError as exc:
        return render(
            request,
            "scripts/editor.html",
            _editor_context(request, None, data, exc.detail),
            status=exc.status,
        )
    return HttpResponseRedirect(template.get_absolute_url())


@engineer_or_admin_required
@require_http_methods(["GET", "POST"])
def template_edit(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = _template(request, template_id)
    if request.method == "GET":
        return render(
            request,
            "scripts/editor.html",
            _editor_context(request, template, _editor_data(template)),
        )
    data: dict[str, Any] = dict(request.POST.items())
    try:
        data, parameters = _posted(request)
        library.update_template(
            template=template,
            actor=request.user,
            changes={
                "name": data["name"],
                "description": data["description"],
                "category_id": data["category_id"] or None,
                "body": data["body"],
                "parameters": parameters,
            },
        )
    except DomainError as exc:
        return render(
            request,
            "scripts/editor.html",
            _editor_context(request, template, data, exc.detail),
            status=exc.status,
        )
    return HttpResponseRedirect(template.get_absolute_url())


@engineer_or_admin_required
@require_POST
def template_delete(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = _template(request, template_id)
    library.delete_template(template=template, actor=request.user)
    return HttpResponseRedirect("/scripts")
