"""Task-lane merge: stable uids, revival, removal of dropped open items, answering and ticking."""

from __future__ import annotations

import pytest

from accounts.models import User
from flowpilot.errors import NotFound, Unprocessable
from flowpilot.llm.markers import TaskAction, TaskCheck, TaskLane, TaskQuestion
from sessions_app import selectors
from sessions_app.models import AISession, TaskItem, TaskStatus
from sessions_app.services import lane
from sessions_app.tests.chat_support import start, version

pytestmark = pytest.mark.django_db


def lane_of(
    questions: tuple[str, ...] | list[str] = (),
    checks: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    actions: tuple[str, ...] | list[str] = (),
) -> TaskLane:
    return TaskLane(
        questions=[TaskQuestion(text=q) for q in questions],
        checks=[TaskCheck(label=label, command=cmd) for label, cmd in checks],
        actions=[TaskAction(label=a) for a in actions],
    )


def live(session: AISession) -> list[tuple[str, str]]:
    return list(
        TaskItem.objects.filter(session=session, removed_at__isnull=True)
        .order_by("position")
        .values_list("kind", "text")
    )


def test_same_text_keeps_uid_whitespace_and_case_aside(engineer: User) -> None:
    """An item re-listed with the same text (spacing/case aside) keeps its uid and answer."""
    session = start(engineer)
    lane.merge_lane(session=session, step=None, lane=lane_of(["Does webmail work?"]))
    first = TaskItem.objects.get(session=session)
    first.answer = "yes"
    first.save()
    merge = lane.merge_lane(
        session=session, step=None, lane=lane_of(["does  webmail work?", "New?"])
    )
    kept = TaskItem.objects.get(pk=first.pk)
    assert kept.uid == first.uid and kept.answer == "yes" and kept.removed_at is None
    assert merge.added == 1 and merge.removed == 0


def test_same_text_different_kind_is_a_different_item(engineer: User) -> None:
    """A question and a check with the same words are two items."""
    session = start(engineer)
    lane.merge_lane(session=session, step=None, lane=lane_of(["Ping"], [("Ping", "ping x")]))
    assert live(session) == [("question", "Ping"), ("check", "Ping")]


def test_order_follows_the_latest_turn_and_command_updates(engineer: User) -> None:
    """Positions follow the latest lane; a changed command is updated in place."""
    session = start(engineer)
    lane.merge_lane(session=session, step=None, lane=lane_of(["A?", "B?"], [("C", "old")]))
    uid = TaskItem.objects.get(text="C").uid
    lane.merge_lane(
        session=session, step=None, lane=lane_of(["B?", "A?"], [("C", "new")], ["Run fix"])
    )
    assert live(session) == [
        ("question", "B?"),
        ("question", "A?"),
        ("check", "C"),
        ("action", "Run fix"),
    ]
    check = TaskItem.objects.get(text="C")
    assert check.uid == uid and check.command == "new"


def test_duplicates_in_one_turn_collapse(engineer: User) -> None:
    """The same item listed twice in one turn is stored once."""
    session = start(engineer)
    lane.merge_lane(session=session, step=None, lane=lane_of(["A?", "A?"]))
    assert TaskItem.objects.filter(session=session).count() == 1


def test_lane_changes_do_not_bump_state_version(engineer: User) -> None:
    """Previews do not read the lane, so merging does not move state_version."""
    session = start(engineer)
    v0 = version(session)
    lane.merge_lane(session=session, step=None, lane=lane_of(["A?"]))
    lane.merge_lane(session=session, step=None, lane=lane_of(["B?"]))
    assert version(session) == v0


def test_answer_ticks_and_limits(engineer: User) -> None:
    """An answer marks the item done; unticking reopens; an over-long answer is refused."""
    session = start(engineer)
    lane.merge_lane(session=session, step=None, lane=lane_of(["A?"]))
    item = TaskItem.objects.get(session=session)
    lane.update_item(session=session, item=item, user=engineer, answer=" yes ", done=None)
    item.refresh_from_db()
    assert item.answer == "yes" and item.status == TaskStatus.DONE
    lane.update_item(session=session, item=item, user=engineer, answer=None, done=False)
    item.refresh_from_db()
    assert item.status == TaskStatus.OPEN and item.answer == "yes"
    with pytest.raises(Unprocessable):
        lane.update_item(session=session, item=item, user=engineer, answer="x" * 5000, done=None)


def test_get_item_is_scoped_and_ignores_removed(engineer: User) -> None:
    """Another session's item, a removed item and a malformed uid are all not found."""
    session = start(engineer)
    other = start(engineer, "Other")
    lane.merge_lane(session=session, step=None, lane=lane_of(["A?"]))
    lane.merge_lane(session=other, step=None, lane=lane_of(["B?"]))
    foreign = TaskItem.objects.get(session=other)
    for uid in (str(foreign.uid), "not-a-uuid"):
        with pytest.raises(NotFound):
            selectors.get_lane_item(session, uid)
    lane.merge_lane(session=session, step=None, lane=lane_of(["C?"]))
    removed = TaskItem.objects.get(session=session, text="A?")
    with pytest.raises(NotFound):
        selectors.get_lane_item(session, str(removed.uid))
