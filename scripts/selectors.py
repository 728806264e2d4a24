"""Reads of the script library. Every query is scoped to the caller's account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import Account, User
from accounts.tenancy import get_for_account, scoped
from flowpilot.errors import DomainError, NotFound
from scripts.models import (
    DraftStatus,
    DraftTemplate,
    ScriptBuilderSession,
    ScriptCategory,
    ScriptGeneration,
    ScriptTemplate,
)

MAX_ID = 2**63 - 1
# The orders of the lists (unique to the id, so the API pages them by key: flowpilot.pagination).
CATEGORY_ORDER = ("position", "name", "id")
TEMPLATE_ORDER = ("list_position", "name", "id")  # by category, uncategorised last
DRAFT_ORDER = ("-created_at", "-id")
UNCATEGORISED_POSITION = 2**15 - 1


def _valid_id(value: Any) -> bool:
    try:
        return 0 < int(value) <= MAX_ID
    except (TypeError, ValueError):
        return False


def category_rows(account: Account) -> QuerySet[ScriptCategory]:
    return scoped(ScriptCategory, account).order_by(*CATEGORY_ORDER)


def categories(account: Account) -> list[ScriptCategory]:
    return list(category_rows(account))


def get_category(account: Account, category_id: Any) -> ScriptCategory | None:
    if category_id in (None, ""):
        return None
    found = (
        scoped(ScriptCategory, account).filter(pk=category_id).first()
        if _valid_id(category_id)
        else None
    )
    if found is None:
        raise DomainError("Unknown category.", code="unknown_category")
    return found


def templates(account_id: int, *, category: str = "", query: str = "") -> QuerySet[ScriptTemplate]:
    """The library, optionally one category (id or slug) and a name/description search."""
    qs = (
        ScriptTemplate.objects.filter(account_id=account_id)
        .select_related("category", "source_user", "source_session")
        .annotate(list_position=Coalesce("category__position", Value(UNCATEGORISED_POSITION)))
    )
    if category:
        qs = (
            qs.filter(category__pk=category)
            if category.isdigit()
            else qs.filter(category__slug=category)
        )
    query = query.strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(description__icontains=query))
    return qs.order_by(*TEMPLATE_ORDER)


@dataclass(frozen=True)
class LibraryCard:
    """What a library card shows: one row of one query, no model instances."""

    id: int
    name: str
    description: str
    category: str
    parameters: int
    provenance: dict[str, Any] | None

    @property
    def url(self) -> str:
        return f"/scripts/templates/{self.id}"


_CARD_FIELDS = (
    "id",
    "name",
    "description",
    "category__name",
    "parameters_schema",
    "source_session_id",
    "source_ticket",
    "source_user__name",
    "source_user__email",
)


def library_cards(
    account_id: int, *, category: str = "", query: str = "", start: int = 0, stop: int = 48
) -> list[LibraryCard]:
    """One page of the library as cards (same order and filters as ``templates``)."""
    rows = templates(account_id, category=category, query=query).values_list(*_CARD_FIELDS)
    cards = []
    for pk, name, description, category_name, schema, session_id, ticket, user, email in rows[
        start:stop
    ]:
        provenance = None
        if session_id is not None or ticket:
            resolved_by = (user or email.split("@")[0]) if email else None
            provenance = {
                "session_id": session_id,
                "ticket": ticket or None,
                "resolved_by": resolved_by,
            }
        cards.append(
            LibraryCard(
                id=pk,
                name=name,
                description=description,
                category=category_name or "",
                parameters=len(schema) if isinstance(schema, list) else 0,
                provenance=provenance,
            )
        )
    return cards


def get_template(account: Account, template_id: Any) -> ScriptTemplate:
    if not _valid_id(template_id):
        raise NotFound("No such script template.")
    try:
        return get_for_account(
            ScriptTemplate.objects.select_related("category", "source_user", "source_session"),
            account,
            pk=template_id,
        )
    except Http404 as exc:
        raise NotFound("No such script template.") from exc


def pending_drafts_of(account_id: int) -> QuerySet[DraftTemplate]:
    """The account's draft templates awaiting review (the Scripts item's badge counts them)."""
    return DraftTemplate.objects.filter(account_id=account_id, status=DraftStatus.PENDING)


def drafts(account: Account, *, pending_only: bool = True) -> QuerySet[DraftTemplate]:
    qs = scoped(DraftTemplate, account).select_related(
        "category", "session", "created_by", "promoted_template"
    )
    if pending_only:
        qs = qs.filter(status=DraftStatus.PENDING)
    return qs.order_by(*DRAFT_ORDER)


def pending_drafts_for_session(account: Account, session_id: int) -> list[DraftTemplate]:
    return list(drafts(account).filter(session_id=session_id).order_by("created_at", "id"))


def get_draft(account: Account, draft_id: Any) -> DraftTemplate:
    if not _valid_id(draft_id):
        raise NotFound("No such draft template.")
    found = drafts(account, pending_only=False).filter(pk=draft_id).first()
    if found is None:
        raise NotFound("No such draft template.")
    return found


def get_builder_session(user: User, builder_id: Any) -> ScriptBuilderSession:
    """A builder session belongs to its user: anyone else's is not found."""
    if not _valid_id(builder_id):
        raise NotFound("No such builder session.")
    found = (
        scoped(ScriptBuilderSession, user.account)
        .filter(pk=builder_id, user=user)
        .select_related("ai_session", "fix")
        .first()
    )
    if found is None:
        raise NotFound("No such builder session.")
    return found


def builder_sessions(user: User) -> list[ScriptBuilderSession]:
    return list(
        scoped(ScriptBuilderSession, user.account).filter(user=user).order_by("-updated_at")
    )


def script_runs(session: Any) -> list[dict[str, Any]]:
    """A session's generated scripts for its previews: parameters are stored redacted."""
    return [
        {"template": run.template_name or "Ad-hoc script", "parameters": run.parameters}
        for run in ScriptGeneration.objects.filter(session=session).order_by("created_at", "id")
    ]
