"""
The script builder: a scratch space to shape a script and its parameters, review it, and save
it as a library template (standalone) or onto the suggested fix it was opened from (inline).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthedRequest
from accounts.permissions import engineer_or_admin_required
from flowpilot.errors import DomainError
from scripts import selectors
from scripts.models import BuilderOrigin, ScriptBuilderSession
from scripts.output import script_output
from scripts.parameters import lenient_schema
from scripts.services import builder, decisions, library
from scripts.services.extraction import extract_template
from sessions_app.selectors import get_fix


def _builder(request: AuthedRequest, builder_id: int) -> ScriptBuilderSession:
    return selectors.get_builder_session(request.user, builder_id)


@engineer_or_admin_required
@require_http_methods(["GET", "POST"])
def builder_list(request: AuthedRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            built = builder.create_standalone_session(user=request.user)
        except DomainError as exc:
            error = exc.detail
        else:
            return HttpResponseRedirect(built.get_absolute_url())
    context = {
        "nav": "scripts",
        "builders": selectors.builder_sessions(request.user),
        "cap": builder.STANDALONE_CAP,
        "error": error,
    }
    return render(request, "scripts/builder_list.html", context, status=409 if error else 200)


def _context(
    request: AuthedRequest,
    built: ScriptBuilderSession,
    *,
    body: str,
    parameters: str,
    name: str,
    error: str = "",
    notice: str = "",
) -> dict[str, Any]:
    schema = lenient_schema(_json_or_empty(parameters))
    return {
        "nav": "scripts",
        "builder": built,
        "inline": built.origin == BuilderOrigin.PILOT_INLINE,
        "body": body,
        "parameters": parameters,
        "name": name,
        "categories": selectors.categories(request.user.account),
        "out": script_output(body, dom_id="builder-script", schema=schema)
        if body.strip()
        else None,
        "error": error,
        "notice": notice,
    }


def _json_or_empty(text: str) -> Any:
    try:
        return json.loads(text or "[]")
    except ValueError:
        return []


def _parameters(text: str) -> Any:
    try:
        return json.loads(text or "[]")
    except ValueError as exc:
        raise DomainError(
            "Parameters must be JSON: a list of objects with a name.", code="parameters_invalid"
        ) from exc


@engineer_or_admin_required
@require_GET
def builder_page(request: AuthedRequest, builder_id: int) -> HttpResponse:
    built = _builder(request, builder_id)
    context = _context(
        request,
        built,
        body=built.body,
        parameters=json.dumps(built.parameters or [], indent=2),
        name=built.name,
    )
    return render(request, "scripts/builder.html", context)


@engineer_or_admin_required
@require_POST
def builder_action(request: AuthedRequest, builder_id: int) -> HttpResponse:
    """One form, several buttons: review, suggest parameters, save, save as template/onto fix."""
    built = _builder(request, builder_id)
    action = request.POST.get("action", "review")
    body = request.POST.get("body", "")
    parameters = request.POST.get("parameters", "") or "[]"
    name = request.POST.get("name", "")
    notice = ""
    try:
        if action == "suggest":
            extraction = extract_template(body)
            if extraction.parameters:
                body = extraction.templated_body
                parameters = json.dumps(extraction.parameters, indent=2)
                notice = f"{len(extraction.parameters)} parameter(s) suggested: check them."
            else:
                notice = "No obvious parameters found: the script stays as it is."
        elif action in ("save", "template", "fix"):
            built = builder.save_builder_session(
                builder=built, name=name, body=body, parameters=_parameters(parameters)
            )
            notice = "Saved."
            if action == "template":
                template = library.create_template(
                    account=request.user.account,
                    actor=request.user,
                    name=name,
                    body=body,
                    parameters=built.parameters,
                    category_id=request.POST.get("category_id") or None,
                )
                return HttpResponseRedirect(template.get_absolute_url())
            if action == "fix":
                if built.ai_session is None or built.fix_id is None:
                    raise DomainError("This builder is not tied to a suggested fix.")
                session = built.ai_session
                fix = get_fix(session, built.fix_id)
                decisions.submit_fix_draft(
                    session=session,
                    fix=fix,
                    script=body,
                    parameters=built.parameters,
                    actor=request.user,
                )
                return HttpResponseRedirect(session.get_absolute_url())
    except DomainError as exc:
        context = _context(
            request, built, body=body, parameters=parameters, name=name, error=exc.detail
        )
        return render(request, "scripts/builder.html", context, status=exc.status)
    context = _context(request, built, body=body, parameters=parameters, name=name, notice=notice)
    return render(request, "scripts/builder.html", context)


@engineer_or_admin_required
@require_POST
def builder_delete(request: AuthedRequest, builder_id: int) -> HttpResponse:
    builder.delete_builder_session(builder=_builder(request, builder_id))
    return HttpResponseRedirect("/scripts/builder")
