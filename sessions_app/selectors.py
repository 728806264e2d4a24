"""
Every read of sessions_app, for the pages, the API, the chat turn and the services: one query
per list, whatever its length. Fetch helpers of one row answer ``NotFound`` (a 404) for an id
of another session or account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Account, Role, User
from flowpilot.errors import NotFound
from flowpilot.queries import Prepared
from sessions_app.access import sessions_visible_to
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    FixStatus,
    SessionStatus,
    StepRole,
    SuggestedFix,
    TaskItem,
    TaskKind,
    TaskStatus,
)
from sessions_app.ports import ticket_details

SIDEBAR_LIMIT = 40
PAGE_STEPS = 200
# Bounded context: the model sees the problem, the facts, the open lane and these last steps.
HISTORY_STEPS = 30
ANSWERED_ITEMS = 20

# --- sessions -------------------------------------------------------------------------------


SIDEBAR_COLUMNS = ("id", "problem_summary", "psa_ticket_id", "status", "updated_at", "user_id")


def _sidebar(user: User, limit: int) -> QuerySet[AISession]:
    if not user.can_act:
        rows = sessions_visible_to(user).only(*SIDEBAR_COLUMNS).order_by("-updated_at", "-id")
        return rows[:limit]
    return my_sessions(user, limit=limit, columns=SIDEBAR_COLUMNS)


# Compiled once (every sessions page shows the sidebar): the ORM spends ~1.5 ms building the
# union, the database ~0.2 ms answering it.
_MY_SIDEBAR = Prepared(
    lambda account_id, user_id: _sidebar(
        User(pk=user_id, account=Account(pk=account_id), role=Role.ENGINEER), SIDEBAR_LIMIT
    ),
    "account_id",
    "user_id",
)
_ACCOUNT_SIDEBAR = Prepared(
    lambda account_id: _sidebar(
        User(account=Account(pk=account_id), role=Role.VIEWER), SIDEBAR_LIMIT
    ),
    "account_id",
)


def sidebar_sessions(user: User, *, limit: int = SIDEBAR_LIMIT) -> list[AISession]:
    """The user's sessions (started or picked up), newest activity first; a viewer, who starts
    none, reads the account's newest."""
    if limit != SIDEBAR_LIMIT:
        return list(_sidebar(user, limit))
    if not user.can_act:
        return _ACCOUNT_SIDEBAR.rows(account_id=user.account_id)
    return _MY_SIDEBAR.rows(account_id=user.account_id, user_id=user.pk)


ACCOUNT_LIST_LIMIT = 50


def account_sessions(
    user: User, *, engineer_id: int | None = None, status: str = "", before: int | None = None
) -> tuple[list[AISession], int | None]:
    """
    The account's sessions for the read-only list, newest first, filtered by engineer and
    status, a page at a time (``before``: the last id shown; ids grow with creation). One
    query; the engineer is joined.
    """
    rows = sessions_visible_to(user).select_related("user")
    if engineer_id is not None:
        rows = rows.filter(user_id=engineer_id)
    if status:
        rows = rows.filter(status=status)
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(rows.order_by("-id")[: ACCOUNT_LIST_LIMIT + 1])
    more = len(page) > ACCOUNT_LIST_LIMIT
    page = page[:ACCOUNT_LIST_LIMIT]
    return page, (page[-1].pk if more and page else None)


def my_sessions_page(
    user: User,
    *,
    limit: int,
    after: Q | None = None,
    columns: tuple[str, ...] = (),
    annotate: dict[str, Any] | None = None,
) -> list[AISession]:
    """The rows of ``my_sessions``."""
    return list(my_sessions(user, limit=limit, after=after, columns=columns, annotate=annotate))


def my_sessions(
    user: User,
    *,
    limit: int,
    after: Q | None = None,
    columns: tuple[str, ...] = (),
    annotate: dict[str, Any] | None = None,
) -> QuerySet[AISession]:
    """
    Up to ``limit`` of the user's sessions (started or picked up), newest activity first,
    after the cursor condition ``after``. "Started OR picked up" as one filter cannot walk an
    index in order, so each half takes its own top ``limit`` through its index and the page
    is the merge of those two short lists: the cost does not grow with the account's sessions.
    """
    base = sessions_visible_to(user)
    if after is not None:
        base = base.filter(after)
    order = ("-updated_at", "-id")
    started = base.filter(user=user).order_by(*order).values("pk")[:limit]
    picked = base.filter(escalated_to=user).order_by(*order).values("pk")[:limit]
    if connection.features.supports_slicing_ordering_in_compound:
        # One IN over the UNION of both halves: an OR of two IN subqueries makes PostgreSQL
        # scan the whole table to test every row against both.
        rows = AISession.objects.filter(pk__in=started.union(picked))
    else:  # SQLite: no LIMIT inside a UNION's halves (its planner takes the OR well)
        rows = AISession.objects.filter(Q(pk__in=started) | Q(pk__in=picked))
    rows = rows.only(*columns) if columns else rows.select_related("user")
    if annotate:
        rows = rows.annotate(**annotate)
    return rows.order_by(*order)[:limit]


OPEN_SESSIONS_LIMIT = 8
IDLE_AFTER = timedelta(days=1)
OPEN_STATUSES = (SessionStatus.ACTIVE, SessionStatus.ESCALATED, SessionStatus.PARKED)


@dataclass(frozen=True)
class OpenSession:
    """One row of the dashboard's "My open sessions": the session and where it stands."""

    session: AISession
    state: str  # escalated, parked, verify, fix_proposed, active
    label: str
    detail: str = ""
    idle_days: int = 0


def _open_state(session: AISession, fix: tuple[str, str] | None) -> tuple[str, str, str]:
    if session.status == SessionStatus.ESCALATED:
        return "escalated", "Escalated", "Waiting for a senior to pick it up"
    if session.status == SessionStatus.PARKED:
        return "parked", "Parked", ""
    if fix is not None and fix[0] == FixStatus.APPLIED_PENDING:
        return "verify", "Waiting to verify", fix[1]
    if fix is not None and fix[0] == FixStatus.PROPOSED:
        return "fix_proposed", "Fix proposed", ""
    return "active", "In progress", ""


def _open_sessions_page(account_id: int, user_id: int) -> QuerySet[AISession]:
    # A stand-in user: the page's filters read only its id and its account's.
    user = User(pk=user_id, account=Account(pk=account_id))
    columns = ("id", "problem_summary", "psa_ticket_id", "status", "updated_at", "user_id")
    active_fix = SuggestedFix.objects.filter(session=OuterRef("pk"), superseded_at__isnull=True)
    return my_sessions(
        user,
        limit=OPEN_SESSIONS_LIMIT,
        after=Q(status__in=OPEN_STATUSES),
        columns=columns,
        annotate={
            "fix_status": Subquery(active_fix.values("status")[:1]),
            "fix_pending_reason": Subquery(active_fix.values("pending_reason")[:1]),
        },
    )


# Compiled once: building and compiling this query costs the ORM ~4 ms, answering it ~0.2 ms.
_OPEN_SESSIONS = Prepared(_open_sessions_page, "account_id", "user_id")


def my_open_sessions(user: User) -> list[OpenSession]:
    """
    The user's unresolved sessions (started or picked up), newest activity first, each with
    its state: escalated, parked, a fix waiting to verify (with the reason), a fix proposed,
    or in progress; ``idle_days`` when nothing moved for more than a day. One query: the
    bounded page (``my_sessions``) with the active fix of each row.
    """
    rows = _OPEN_SESSIONS.rows(account_id=user.account_id, user_id=user.pk)
    now = timezone.now()
    result = []
    for row in rows:
        fix_status = getattr(row, "fix_status", None)
        fix = (fix_status, getattr(row, "fix_pending_reason", "") or "") if fix_status else None
        state, label, detail = _open_state(row, fix)
        idle = now - row.updated_at
        result.append(
            OpenSession(
                session=row,
                state=state,
                label=label,
                detail=detail,
                idle_days=idle.days if idle > IDLE_AFTER else 0,
            )
        )
    return result


# --- steps ----------------------------------------------------------------------------------


def _newest_steps(session_id: int, count: int) -> QuerySet[AISessionStep]:
    return AISessionStep.objects.filter(session_id=session_id).order_by("-pk")[:count]


# The session page's and the API detail's reads, compiled once: they are plain filters on the
# session, and the ORM spends more CPU building each than the database answering it.
_PAGE_STEPS = Prepared(lambda session_id: _newest_steps(session_id, PAGE_STEPS + 1), "session_id")


def recent_steps(
    session: AISession, *, limit: int = PAGE_STEPS, known_users: tuple[User, ...] = ()
) -> tuple[list[AISessionStep], bool]:
    """The last ``limit`` steps, oldest first, with their author; and whether older ones exist."""
    if limit == PAGE_STEPS:
        newest = _PAGE_STEPS.rows(session_id=session.pk)
    else:
        newest = list(_newest_steps(session.pk, limit + 1))
    steps = newest[:limit]
    attach_authors(session, steps, known_users)
    return conversation_order(steps), len(newest) > limit


def attach_authors(
    session: AISession, steps: list[AISessionStep], known_users: tuple[User, ...] = ()
) -> None:
    """
    Give each step its author without a join per row: the people already in hand (the
    session's engineer when loaded with it, ``known_users`` such as the reader) wrote nearly
    every step; any other authors are read with one query.
    """
    users = {user.pk: user for user in known_users}
    if AISession.user.is_cached(session):
        users[session.user_id] = session.user
    missing = {step.author_id for step in steps if step.author_id} - users.keys()
    if missing:
        users.update(User.objects.in_bulk(missing))
    for step in steps:
        if step.author_id in users:
            step.author = users[step.author_id]


def get_user_step(session: AISession, step_id: int | str) -> AISessionStep:
    try:
        return AISessionStep.objects.get(session=session, pk=step_id, role=StepRole.USER)
    except (AISessionStep.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such message in this session.", code="step_not_found") from exc


def reply_to(session: AISession, user_step: AISessionStep) -> AISessionStep | None:
    """The assistant step answering ``user_step`` (its ``reply_to``), if any."""
    return AISessionStep.objects.filter(session=session, reply_to=user_step).first()


def pending_user_step(session: AISession) -> AISessionStep | None:
    """The newest step when it is the engineer's: its reply failed or is still streaming."""
    last = AISessionStep.objects.filter(session=session).order_by("-pk").first()
    return last if last is not None and last.role == StepRole.USER else None


def oldest_unanswered_step(session: AISession) -> AISessionStep | None:
    """The oldest engineer step without its reply: the next one a turn answers."""
    return (
        AISessionStep.objects.filter(session=session, role=StepRole.USER, reply__isnull=True)
        .order_by("pk")
        .first()
    )


def conversation_order(steps: list[AISessionStep]) -> list[AISessionStep]:
    """
    Steps as the conversation reads: each reply right after the step it answers (a queued
    message is stored before the reply to the one ahead of it), otherwise in id order.
    """
    return sorted(steps, key=lambda step: (step.reply_to_id or step.pk, step.pk))


# --- facts ----------------------------------------------------------------------------------


def get_fact(session: AISession, fact_id: int | str) -> Fact:
    """A live fact of this session, or 404 (another session's or account's fact is not found)."""
    try:
        return Fact.objects.live_in(session).get(pk=fact_id)
    except (Fact.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such fact in this session.", code="fact_not_found") from exc


def facts_with_items(session: AISession, lane: list[TaskItem] | None = None) -> list[Fact]:
    """
    Live facts with their lane item (the API shows its uid, the page its source). Items
    already in ``lane`` are attached from it; only the others are read, so the usual case costs
    one plain query.
    """
    if lane is None:
        return list(Fact.objects.live_in(session).select_related("task_item"))
    rows = _LIVE_FACTS.rows(session_id=session.pk)
    items = {item.pk: item for item in lane}
    missing = {fact.task_item_id for fact in rows if fact.task_item_id} - items.keys()
    if missing:
        items.update(TaskItem.objects.filter(session=session).in_bulk(missing))
    for fact in rows:
        if fact.task_item_id in items:
            fact.task_item = items[fact.task_item_id]
    return rows


# --- task lane ------------------------------------------------------------------------------


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


def _lane(session_id: int) -> QuerySet[TaskItem]:
    return TaskItem.objects.filter(session_id=session_id, removed_at__isnull=True).order_by(
        "position", "id"
    )


_LANE = Prepared(_lane, "session_id")
_LIVE_FACTS = Prepared(
    lambda session_id: Fact.objects.live_in(AISession(pk=session_id)), "session_id"
)


def lane_items(session: AISession) -> list[TaskItem]:
    """The live lane in display order."""
    return _LANE.rows(session_id=session.pk)


def group_lane(items: list[TaskItem], facts: list[Fact]) -> Lane:
    lane = Lane(promoted={fact.task_item_id for fact in facts if fact.task_item_id})
    for item in items:
        if item.kind == TaskKind.QUESTION:
            lane.questions.append(item)
        elif item.kind == TaskKind.CHECK:
            lane.checks.append(item)
        else:
            lane.actions.append(item)
    return lane


def get_lane_item(session: AISession, uid: str) -> TaskItem:
    """A live lane item of this session by uid, or 404."""
    try:
        return TaskItem.objects.get(session=session, uid=uid, removed_at__isnull=True)
    except (TaskItem.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound(
            "No such task-lane item in this session.", code="task_item_not_found"
        ) from exc


# --- suggested fixes ------------------------------------------------------------------------


def _active_fix(session_id: int) -> QuerySet[SuggestedFix]:
    """The session's fix that nothing superseded (``first()`` of it: in the model's order)."""
    rows = SuggestedFix.objects.filter(session_id=session_id, superseded_at__isnull=True)
    return (rows if rows.ordered else rows.order_by("pk"))[:1]


_ACTIVE_FIX = Prepared(_active_fix, "session_id")


def active_fix(session: AISession) -> SuggestedFix | None:
    found = _ACTIVE_FIX.rows(session_id=session.pk)
    return found[0] if found else None


def get_fix(session: AISession, fix_id: int | str) -> SuggestedFix:
    """A fix of this session, or 404 (a fix of another session or account is not found)."""
    try:
        return SuggestedFix.objects.get(session=session, pk=fix_id)
    except (SuggestedFix.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such suggested fix in this session.") from exc


# --- the page and the API detail ------------------------------------------------------------


@dataclass
class SessionPage:
    session: AISession
    steps: list[AISessionStep]
    hidden_steps: bool
    facts: list[Fact]
    lane_items: list[TaskItem]
    lane: Lane
    fix: SuggestedFix | None

    @property
    def pending_step(self) -> AISessionStep | None:
        last = self.steps[-1] if self.steps else None
        return last if last is not None and last.role == StepRole.USER else None


@dataclass
class LaneState:
    """What the lane and What we know show together (the page and its HTMX refresh)."""

    facts: list[Fact]
    lane_items: list[TaskItem]
    lane: Lane
    fix: SuggestedFix | None


def lane_state(session: AISession) -> LaneState:
    items = lane_items(session)
    facts = facts_with_items(session, items)
    return LaneState(
        facts=facts, lane_items=items, lane=group_lane(items, facts), fix=active_fix(session)
    )


def session_page(session: AISession, *, reader: User | None = None) -> SessionPage:
    """Everything the session page and the API detail show, in a fixed number of queries
    (``reader``: who reads it, a likely author of its steps)."""
    steps, hidden = recent_steps(session, known_users=(reader,) if reader else ())
    state = lane_state(session)
    return SessionPage(
        session=session,
        steps=steps,
        hidden_steps=hidden,
        facts=state.facts,
        lane_items=state.lane_items,
        lane=state.lane,
        fix=state.fix,
    )


# --- the chat prompt ------------------------------------------------------------------------


def prompt_history(session: AISession, user_step: AISessionStep) -> list[tuple[str, str]]:
    """
    (role, content) of the last steps up to ``user_step`` in conversation order, oldest first:
    replies to earlier steps count even when stored after ``user_step`` (it was queued).
    """
    recent = list(
        AISessionStep.objects.filter(session=session)
        .filter(Q(pk__lte=user_step.pk) | Q(reply_to_id__lt=user_step.pk))
        .order_by("-pk")
        .values_list("pk", "reply_to_id", "role", "content")[:HISTORY_STEPS]
    )
    recent.sort(key=lambda row: (row[1] or row[0], row[0]))
    return [(role, content) for _, _, role, content in recent]


def prompt_context(session: AISession) -> dict[str, Any]:
    """What the assistant is told about the session besides the conversation."""
    facts = list(Fact.objects.live_in(session).values_list("text", flat=True))
    # Open items and answered ones from one read of the lane (a plain filter compiles faster
    # than the OR of both conditions; the few other rows are skipped here).
    lane_rows = list(
        TaskItem.objects.filter(session=session)
        .order_by("position", "id")
        .values_list("kind", "text", "status", "answer", "removed_at")
    )
    open_items = [
        (kind, text)
        for kind, text, status, _, removed_at in lane_rows
        if status == TaskStatus.OPEN and removed_at is None
    ]
    answered = [
        {"text": text, "answer": answer}
        for _, text, status, answer, _ in lane_rows
        if status == TaskStatus.DONE and answer
    ][:ANSWERED_ITEMS]
    # The three fields the prompt shows, not the whole row (script, parameters, JSON).
    fix = (
        SuggestedFix.objects.filter(session=session, superseded_at__isnull=True)
        .values_list("title", "status", "applied_at")
        .first()
    )
    active: dict[str, Any] | None = None
    if fix is not None:
        title, status, applied_at = fix
        active = {"title": title, "status": status}
        if applied_at:
            active["applied_at"] = applied_at.isoformat()
    context = {
        "problem": session.problem_summary,
        "ticket": session.psa_ticket_id or None,
        "facts": facts,
        "open_questions": [text for kind, text in open_items if kind == TaskKind.QUESTION],
        "open_checks": [text for kind, text in open_items if kind == TaskKind.CHECK],
        "answered_items": answered,
        "active_fix": active,
    }
    details = ticket_details(account_id=session.account_id, ticket_id=session.psa_ticket_id)
    if details:
        context["ticket_details"] = details
    return context
