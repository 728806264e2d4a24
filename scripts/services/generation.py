"""Generating a ready script from a template: render strictly, review, log the run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.models import User
from scripts.models import ScriptGeneration, ScriptTemplate
from scripts.parameters import ParameterSpec, parse_schema, redact_sensitive
from scripts.rendering import render
from scripts.review import Review, review_rendered
from sessions_app.models import AISession


@dataclass(frozen=True)
class Generated:
    script: str
    review: Review
    generation: ScriptGeneration

    def as_dict(self) -> dict[str, Any]:
        return {
            "script": self.script,
            "review": self.review.as_dict(),
            "generation_id": self.generation.pk,
            "template_id": self.generation.template_id,
            "parameters": self.generation.parameters,
            "sha256": self.generation.rendered_sha256,
        }


@transaction.atomic
def log_generation(
    *,
    user: User,
    schema: list[ParameterSpec],
    values: dict[str, Any],
    sha256: str,
    template: ScriptTemplate | None = None,
    name: str = "",
    session: AISession | None = None,
) -> ScriptGeneration:
    """Record a run with its sensitive values redacted; a linked session's previews change."""
    generation = ScriptGeneration.objects.create(
        account_id=user.account_id,
        template=template,
        template_name=(template.name if template is not None else name)[:120],
        session=session,
        user=user,
        parameters=redact_sensitive(values, schema),
        schema=[spec.as_dict() for spec in schema],
        rendered_sha256=sha256,
    )
    if session is not None:
        AISession.objects.bump(session)
    return generation


@transaction.atomic
def generate_script(
    *,
    user: User,
    template: ScriptTemplate,
    values: dict[str, Any] | None,
    session: AISession | None = None,
) -> Generated:
    """422 naming the parameter for unknown/missing/ill-typed values; nothing is logged then."""
    schema = parse_schema(template.parameters_schema)
    rendered = render(template.body, schema, values or {})
    generation = log_generation(
        user=user,
        schema=schema,
        values=rendered.values,
        sha256=rendered.sha256,
        template=template,
        session=session,
    )
    return Generated(
        script=rendered.script, review=review_rendered(rendered), generation=generation
    )
