"""Writes of the library: templates (create, edit, delete) and the starter library."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Account, User
from accounts.services.audit import record_event
from flowpilot.errors import Unprocessable
from scripts import selectors
from scripts.models import ScriptCategory, ScriptTemplate
from scripts.parameters import clean_schema, parse_schema
from scripts.rendering import placeholders, slots

STARTER_FILE = Path(__file__).resolve().parent.parent / "starter_library.yaml"
BODY_LIMIT = 100_000
NAME_LIMIT = 120


def check_template_body(body: str, schema: list[dict[str, Any]]) -> str:
    """
    A body the library can render: not empty, every placeholder declared and none glued into a
    bare word (its value could not stay one argument). Answers the stripped body.
    """
    text = (body or "").strip("\n")
    if not text.strip():
        raise Unprocessable("The script is empty.", code="script_empty")
    if len(text) > BODY_LIMIT:
        raise Unprocessable("The script is too long.", code="script_too_long")
    declared = {item["name"] for item in schema}
    undeclared = [name for name in placeholders(text) if name not in declared]
    if undeclared:
        raise Unprocessable(
            f"The script uses '{{{{{undeclared[0]}}}}}' but no parameter declares it.",
            code="placeholder_unknown",
            extra={"parameter": undeclared[0]},
        )
    glued = [slot.name for slot in slots(text) if slot.context == "embedded"]
    if glued:
        raise Unprocessable(
            f"Put '{{{{{glued[0]}}}}}' inside quotes in the script: it is glued to other text.",
            code="placeholder_unquoted",
            extra={"parameter": glued[0]},
        )
    return text + "\n"


def _name(value: Any) -> str:
    name = str(value or "").strip()
    if not name:
        raise Unprocessable("Give the template a name.", code="name_required")
    return name[:NAME_LIMIT]


@transaction.atomic
def create_template(
    *,
    account: Account,
    actor: User | None,
    name: str,
    body: str,
    parameters: Any = None,
    description: str = "",
    category_id: Any = None,
    provenance: dict[str, Any] | None = None,
) -> ScriptTemplate:
    schema = clean_schema(parameters)
    template = ScriptTemplate.objects.create(
        account=account,
        category=selectors.get_category(account, category_id),
        name=_name(name),
        description=str(description or "").strip(),
        body=check_template_body(body, schema),
        parameters_schema=schema,
        created_by=actor,
        **(provenance or {}),
    )
    record_event(
        account=account,
        actor=actor,
        type="script_template.created",
        payload={"template_id": template.pk, "name": template.name},
    )
    return template


@transaction.atomic
def update_template(
    *, template: ScriptTemplate, actor: User, changes: dict[str, Any]
) -> ScriptTemplate:
    """Apply the fields present in ``changes`` (a PATCH); body and schema are checked together."""
    fields: list[str] = ["updated_at"]
    if "name" in changes:
        template.name = _name(changes["name"])
        fields.append("name")
    if "description" in changes:
        template.description = str(changes["description"] or "").strip()
        fields.append("description")
    if "category_id" in changes:
        template.category = selectors.get_category(template.account, changes["category_id"])
        fields.append("category")
    if "parameters" in changes or "body" in changes:
        schema = (
            clean_schema(changes["parameters"])
            if "parameters" in changes
            else [spec.as_dict() for spec in parse_schema(template.parameters_schema)]
        )
        template.body = check_template_body(changes.get("body", template.body), schema)
        template.parameters_schema = schema
        fields += ["body", "parameters_schema"]
    template.updated_at = timezone.now()
    template.save(update_fields=fields)
    record_event(
        account=template.account,
        actor=actor,
        type="script_template.updated",
        payload={"template_id": template.pk, "fields": sorted(set(fields) - {"updated_at"})},
    )
    return template


@transaction.atomic
def delete_template(*, template: ScriptTemplate, actor: User) -> None:
    record_event(
        account=template.account,
        actor=actor,
        type="script_template.deleted",
        payload={"template_id": template.pk, "name": template.name},
    )
    template.delete()


@lru_cache(maxsize=1)
def starter_library() -> dict[str, Any]:
    data = yaml.safe_load(STARTER_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@transaction.atomic
def copy_starter_library(*, account: Account) -> int:
    """Give a new account its own copy of the starter library (two INSERTs)."""
    data = starter_library()
    categories = ScriptCategory.objects.bulk_create(
        [
            ScriptCategory(
                account=account,
                name=item["name"],
                slug=item.get("slug") or slugify(item["name"]),
                position=index,
            )
            for index, item in enumerate(data["categories"])
        ]
    )
    by_slug = {category.slug: category for category in categories}
    now = timezone.now()
    created = ScriptTemplate.objects.bulk_create(
        [
            ScriptTemplate(
                account=account,
                category=by_slug[item["category"]],
                name=item["name"],
                description=" ".join(str(item.get("description", "")).split()),
                body=item["body"],
                parameters_schema=clean_schema(item.get("parameters") or []),
                is_starter=True,
                created_at=now,
                updated_at=now,
            )
            for item in data["templates"]
        ]
    )
    return len(created)
