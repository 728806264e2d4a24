"""Reads for the session pages and the API: one query per list, whatever its length."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet

from accounts.models import User
from sessions_app.access import my_sessions
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    StepRole,
    SuggestedFix,
    TaskItem,
    TaskKind,
)

SIDEBAR_LIMIT = 40
PAGE_STEPS = 200


def sidebar_sessions(user: User, *, limit: int = SIDEBAR_LIMIT) -> list[AISession]:
    """The user's sessions (started or picked up), newest activity first."""
    return list(
        my_sessions(user)
        .only("id", "problem_summary", "psa_ticket_id", "status", "updated_at", "user_id")
        .order_by("-updated_at", "-id")[:limit]
    )


def api_sessions(user: User) -> QuerySet[AISession]:
    return my_sessions(user).select_related("user").order_by("-updated_at", "-id")


def live_facts(session: AISession) -> list[Fact]:
    return list(Fact.objects.live_in(session))


@dataclass
class Lane:
    questions: list[TaskItem] = field(default_factory=list)
    checks: list[TaskItem] = field(default_factory=list)
    actions: list[TaskItem] = field(default_factory=list)
    promoted: set[int] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.questions or self.checks or self.actions)

    @property
    def open_count(self) -> int:
        items = [*self.questions, *self.checks, *self.actions]
        return sum(1 for item in items if item.status == "open")


def lane_for(session: AISession, facts: list[Fact]) -> Lane:
    lane = Lane(promoted={fact.task_item_id for fact in facts if fact.task_item_id})
    items = TaskItem.objects.filter(session=session, removed_at__isnull=True).order_by(
        "position", "id"
    )
    for item in items:
        if item.kind == TaskKind.QUESTION:
            lane.questions.append(item)
        elif item.kind == TaskKind.CHECK:
            lane.checks.append(item)
        else:
            lane.actions.append(item)
    return lane


def active_fix(session: AISession) -> SuggestedFix | None:
    return SuggestedFix.objects.filter(session=session, superseded_at__isnull=True).first()


@dataclass
class SessionPage:
    session: AISession
    steps: list[AISessionStep]
    hidden_steps: bool
    facts: list[Fact]
    lane: Lane
    fix: SuggestedFix | None
    pending_step: AISessionStep | None


def session_page(session: AISession) -> SessionPage:
    """Everything the session page shows, in a fixed number of queries."""
    recent = list(
        AISessionStep.objects.filter(session=session)
        .select_related("author")
        .order_by("-pk")[: PAGE_STEPS + 1]
    )
    hidden = len(recent) > PAGE_STEPS
    steps = list(reversed(recent[:PAGE_STEPS]))
    facts = live_facts(session)
    pending = steps[-1] if steps and steps[-1].role == StepRole.USER else None
    return SessionPage(
        session=session,
        steps=steps,
        hidden_steps=hidden,
        facts=facts,
        lane=lane_for(session, facts),
        fix=active_fix(session),
        pending_step=pending,
    )
