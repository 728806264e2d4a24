"""
The task lane: questions, diagnostic checks and actions proposed by the assistant.

A turn's ``[TASKS]`` block replaces the lane, but items keep their row (and so their ``uid``)
when a later turn lists the same kind and text; an item dropped earlier and listed again comes
back with its old uid. Open items a turn no longer lists are marked removed. Items the engineer
already answered or ticked stay visible: that is their work, whatever the model lists next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from flowpilot.errors import Unprocessable
from flowpilot.llm.markers import TaskLane
from sessions_app.models import AISession, AISessionStep, TaskItem, TaskKind, TaskStatus

ANSWER_LIMIT = 4000


def item_key(kind: str, text: str) -> tuple[str, str]:
    return kind, re.sub(r"\s+", " ", text).strip().casefold()


@dataclass(frozen=True)
class LaneMerge:
    kept: int
    added: int
    removed: int
    # Every lane row of the session as the merge read or created it (for look-ups by kind and
    # text; ``removed_at`` of the rows this merge dropped is not refreshed).
    items: list[TaskItem] = field(default_factory=list, repr=False, compare=False)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _entries(lane: TaskLane) -> list[tuple[str, str, str]]:
    entries = [(TaskKind.QUESTION.value, q.text, "") for q in lane.questions]
    entries += [(TaskKind.CHECK.value, c.label, c.command) for c in lane.checks]
    entries += [(TaskKind.ACTION.value, a.label, "") for a in lane.actions]
    return entries


@transaction.atomic(savepoint=False)
def merge_lane(*, session: AISession, step: AISessionStep | None, lane: TaskLane) -> LaneMerge:
    """Apply a turn's lane: keep matching rows, revive re-listed ones, add new, drop the rest."""
    now = timezone.now()
    existing: dict[tuple[str, str], TaskItem] = {}
    rows = list(TaskItem.objects.filter(session=session).order_by("removed_at", "-id"))
    for item in rows:
        # Live rows sort first (NULLs first on PostgreSQL, not on SQLite): prefer them.
        key = item_key(item.kind, item.text)
        current = existing.get(key)
        if current is None or (current.removed_at is not None and item.removed_at is None):
            existing[key] = item
    listed: set[int] = set()
    to_update: list[TaskItem] = []
    to_create: list[TaskItem] = []
    seen: set[tuple[str, str]] = set()
    for position, (kind, text, command) in enumerate(_entries(lane)):
        key = item_key(kind, text)
        if key in seen:
            continue
        seen.add(key)
        found = existing.get(key)
        if found is None:
            to_create.append(
                TaskItem(
                    account_id=session.account_id,
                    session=session,
                    kind=kind,
                    text=text[:2000],
                    command=command,
                    position=position,
                    introduced_by=step,
                    created_at=now,
                    updated_at=now,
                )
            )
            continue
        item = found
        listed.add(item.pk)
        revived = item.removed_at is not None
        if revived or item.position != position or (command and item.command != command):
            item.position = position
            item.removed_at = None
            if command:
                item.command = command
            if revived and item.status == TaskStatus.DISMISSED:
                item.status = TaskStatus.OPEN
            item.updated_at = now
            to_update.append(item)
    if to_update:
        TaskItem.objects.bulk_update(
            to_update, ["position", "removed_at", "command", "status", "updated_at"]
        )
    if to_create:
        TaskItem.objects.bulk_create(to_create)
    removed = (
        TaskItem.objects.filter(session=session, removed_at__isnull=True, status=TaskStatus.OPEN)
        .exclude(pk__in=listed)
        .exclude(pk__in=[item.pk for item in to_create])
        .update(removed_at=now, updated_at=now)
    )
    revived_count = sum(1 for item in to_update if item.pk in listed)
    return LaneMerge(
        kept=revived_count, added=len(to_create), removed=removed, items=[*rows, *to_create]
    )


@transaction.atomic
def update_item(
    *, session: AISession, item: TaskItem, user: User, answer: str | None, done: bool | None
) -> TaskItem:
    """Answer a question, record a check's output, tick or untick an item."""
    now = timezone.now()
    fields = ["updated_at"]
    if answer is not None:
        answer = answer.strip()
        if len(answer) > ANSWER_LIMIT:
            raise Unprocessable(
                f"Keep the answer under {ANSWER_LIMIT:,} characters.", code="answer_too_long"
            )
        item.answer = answer
        fields.append("answer")
        if done is None and answer:
            done = True
    if done is not None:
        item.status = TaskStatus.DONE if done else TaskStatus.OPEN
        fields.append("status")
    item.updated_at = now
    item.save(update_fields=fields)
    return item
