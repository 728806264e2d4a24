"""
Script-builder sessions. Standalone sessions are capped per user (the user's row is locked
while counting, so two tabs cannot both take the last place); inline sessions are one per
user and AI session, settled by the partial unique index, and do not count toward the cap.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from flowpilot.errors import Conflict, DomainError
from scripts.models import BuilderOrigin, ScriptBuilderSession
from scripts.parameters import clean_schema
from scripts.services.library import BODY_LIMIT
from sessions_app.models import AISession, SuggestedFix

STANDALONE_CAP = 5


@transaction.atomic
def create_standalone_session(
    *, user: User, name: str = "", body: str = ""
) -> ScriptBuilderSession:
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    open_count = ScriptBuilderSession.objects.filter(
        user=user, origin=BuilderOrigin.STANDALONE
    ).count()
    if open_count >= STANDALONE_CAP:
        raise Conflict(
            f"You already have {STANDALONE_CAP} builder sessions open. Finish or delete one "
            "before starting another.",
            code="builder_limit",
        )
    return ScriptBuilderSession.objects.create(
        account_id=user.account_id,
        user=user,
        origin=BuilderOrigin.STANDALONE,
        name=(name or "")[:120],
        body=(body or "")[:BODY_LIMIT],
    )


def get_or_create_inline_session(
    *, user: User, session: AISession, fix: SuggestedFix | None = None, body: str = ""
) -> tuple[ScriptBuilderSession, bool]:
    """The user's builder session for ``session``; racing creates end with one row."""
    existing = ScriptBuilderSession.objects.filter(
        user=user, ai_session=session, origin=BuilderOrigin.PILOT_INLINE
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            created = ScriptBuilderSession.objects.create(
                account_id=user.account_id,
                user=user,
                origin=BuilderOrigin.PILOT_INLINE,
                ai_session=session,
                fix=fix,
                name=(fix.title if fix is not None else session.problem_summary)[:120],
                body=(body or (fix.script if fix is not None else ""))[:BODY_LIMIT],
                parameters=fix.parameters if fix is not None else [],
            )
        return created, True
    except IntegrityError:
        # Another request created it first (the partial unique index): use that one.
        return (
            ScriptBuilderSession.objects.get(
                user=user, ai_session=session, origin=BuilderOrigin.PILOT_INLINE
            ),
            False,
        )


def inline_session_for_fix(
    *, user: User, session: AISession, fix: SuggestedFix, body: str | None = None
) -> ScriptBuilderSession:
    """The build_template decision: the inline builder pre-loaded with this fix."""
    built, created = get_or_create_inline_session(
        user=user, session=session, fix=fix, body=body or ""
    )
    if not created and built.fix_id != fix.pk:
        ScriptBuilderSession.objects.filter(pk=built.pk).update(
            fix=fix,
            body=(body or fix.script)[:BODY_LIMIT],
            parameters=fix.parameters,
            name=fix.title[:120],
            updated_at=timezone.now(),
        )
        built.refresh_from_db()
    return built


@transaction.atomic
def save_builder_session(
    *, builder: ScriptBuilderSession, name: str, body: str, parameters: Any
) -> ScriptBuilderSession:
    if len(body or "") > BODY_LIMIT:
        raise DomainError("The script is too long.", code="script_too_long", status=422)
    builder.name = (name or "")[:120]
    builder.body = body or ""
    builder.parameters = clean_schema(parameters)
    builder.updated_at = timezone.now()
    builder.save(update_fields=["name", "body", "parameters", "updated_at"])
    return builder


@transaction.atomic
def delete_builder_session(*, builder: ScriptBuilderSession) -> None:
    builder.delete()
