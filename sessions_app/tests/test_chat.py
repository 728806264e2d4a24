"""The chat service: one turn, markers, stable lane items, state_version, failures and retry."""

from __future__ import annotations

import pytest

from accounts.models import User
from flowpilot.errors import Conflict, Unprocessable
from flowpilot.llm import LLMError, LLMTimeout, get_llm_client
from flowpilot.llm.markers import format_marker
from flowpilot.llm.testing import ScriptedClient
from sessions_app import selectors
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    FactSource,
    StepRole,
    SuggestedFix,
    TaskItem,
    TaskStatus,
)
from sessions_app.services import chat, sessions, steps
from sessions_app.tests.chat_support import OUTLOOK, scripted, start, tasks, use_client, version

pytestmark = pytest.mark.django_db

FIX = format_marker(
    "SUGGEST_FIX",
    {
        "title": "Reset the Outlook profile",
        "description": "Recreates the profile.",
        "confidence": 140,
        "script": "Remove-Item -Path {{path}}",
        "parameters": [{"name": "path", "default": "HKCU:\\Software\\Outlook"}],
    },
)


def first_reply(session: AISession, client: ScriptedClient) -> chat.TurnResult:
    step = selectors.pending_user_step(session)
    assert step is not None
    return chat.run_reply(session=session, user_step=step, client=client)


class TestOneTurn:
    def test_create_session_derives_summary_from_first_message(self, engineer: User) -> None:
        """The problem summary is the first line of the first message, shortened on a word."""
        long = "VPN drops " + "every few minutes " * 20 + "\nmore detail"
        session, step = sessions.create_session(user=engineer, problem=long)
        assert session.problem_summary.startswith("VPN drops every few minutes")
        assert session.problem_summary.endswith("…") and len(session.problem_summary) <= 120
        assert step.role == StepRole.USER and step.account_id == engineer.account_id
        assert step.content == long.strip()

    def test_turn_saves_both_steps_with_account_usage_and_stripped_markers(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The assistant step keeps raw text and usage; the shown text has no markers."""
        reply = "Let's look.\n\n" + tasks(["Does webmail work?"], [("Ping", "Test-Connection x")])
        client = scripted(monkeypatch, reply)
        session = start(engineer)
        turn = first_reply(session, client)
        step = AISessionStep.objects.get(pk=turn.assistant_step.pk)
        assert step.account_id == engineer.account_id
        assert step.content == "Let's look."
        assert "[TASKS]" in step.raw_content
        assert step.provider == "scripted" and step.output_tokens > 0 and step.input_tokens > 0
        kinds = list(TaskItem.objects.filter(session=session).values_list("kind", "text"))
        assert kinds == [("question", "Does webmail work?"), ("check", "Ping")]
        request = client.requests[0]
        assert request.purpose == "chat" and request.messages[-1].content == OUTLOOK
        assert set(request.context) >= {
            "problem", "facts", "open_questions", "open_checks", "active_fix",
        }  # fmt: skip

    def test_context_carries_facts_open_items_and_active_fix(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The prompt context lists live facts, open lane items and the active fix."""
        client = scripted(
            monkeypatch,
            "Start.\n" + tasks(["Q1?", "Q2?"], [("C1", "cmd")]) + "\n" + FIX,
            "ok",
        )
        session = start(engineer)
        first_reply(session, client)
        Fact.objects.create(
            account=engineer.account, session=session, text="Webmail works.", source="note"
        )
        TaskItem.objects.filter(session=session, text="Q1?").update(status=TaskStatus.DONE)
        chat.send_message(session=session, user=engineer, content="next", client=client)
        context = client.requests[1].context
        assert context["facts"] == ["Webmail works."]
        assert context["open_questions"] == ["Q2?"]
        assert context["open_checks"] == ["C1"]
        assert context["active_fix"]["title"] == "Reset the Outlook profile"
        assert [m.role for m in client.requests[1].messages] == ["user", "assistant", "user"]

    def test_history_is_bounded(self, engineer: User, monkeypatch: pytest.MonkeyPatch) -> None:
        """Only the last HISTORY_STEPS steps go to the model."""
        client = scripted(monkeypatch, default="ok")
        session = start(engineer)
        first_reply(session, client)
        for index in range(25):
            chat.send_message(session=session, user=engineer, content=f"m{index}", client=client)
        messages = client.requests[-1].messages
        assert len(messages) <= selectors.HISTORY_STEPS
        assert messages[-1].content == "m24" and messages[0].role == "user"


class TestLaneStability:
    def test_items_keep_uid_when_text_unchanged_and_drop_otherwise(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Unchanged items keep their row and uid; dropped open ones are marked removed."""
        client = scripted(
            monkeypatch,
            tasks(["Does webmail work?", "Any password change?"], [("Ping", "Test-Connection")]),
            tasks(["Does webmail work?", "Is MFA on?"], [("Ping", "Test-Connection")]),
            tasks(["Any password change?"], []),
        )
        session = start(engineer)
        first_reply(session, client)
        before = dict(TaskItem.objects.filter(session=session).values_list("text", "uid"))
        chat.send_message(session=session, user=engineer, content="a", client=client)
        live = dict(
            TaskItem.objects.filter(session=session, removed_at__isnull=True).values_list(
                "text", "uid"
            )
        )
        assert live["Does webmail work?"] == before["Does webmail work?"]
        assert live["Ping"] == before["Ping"]
        assert "Is MFA on?" in live and "Any password change?" not in live
        assert TaskItem.objects.get(uid=before["Any password change?"]).removed_at is not None
        chat.send_message(session=session, user=engineer, content="b", client=client)
        revived = TaskItem.objects.get(session=session, text="Any password change?")
        assert revived.uid == before["Any password change?"] and revived.removed_at is None

    def test_done_items_survive_a_turn_that_omits_them(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An item the engineer answered stays visible even when the model stops listing it."""
        client = scripted(monkeypatch, tasks(["Q1?", "Q2?"]), tasks(["Q2?"]))
        session = start(engineer)
        first_reply(session, client)
        TaskItem.objects.filter(text="Q1?").update(status=TaskStatus.DONE, answer="yes")
        chat.send_message(session=session, user=engineer, content="x", client=client)
        assert TaskItem.objects.get(text="Q1?").removed_at is None

    def test_reply_without_tasks_leaves_the_lane(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No [TASKS] block means the lane is unchanged."""
        client = scripted(monkeypatch, tasks(["Q1?"]), "Just text.")
        session = start(engineer)
        first_reply(session, client)
        chat.send_message(session=session, user=engineer, content="x", client=client)
        assert TaskItem.objects.filter(session=session, removed_at__isnull=True).count() == 1


class TestStateVersion:
    def test_plain_chat_does_not_bump(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A reply with no fact or fix change leaves state_version alone (the lane may change)."""
        client = scripted(monkeypatch, "Hello.\n" + tasks(["Q?"]), "More.")
        session = start(engineer)
        v0 = version(session)
        first_reply(session, client)
        chat.send_message(session=session, user=engineer, content="hi", client=client)
        assert version(session) == v0

    def test_promotions_bump_once_per_turn(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two [PROMOTE] blocks in one reply add two facts and bump state_version by one."""
        promote = "\n".join(
            format_marker("PROMOTE", {"text": t, "source": "question", "ref": "Does webmail work?"})
            for t in ("Webmail works.", "Only Outlook desktop fails.")
        )
        client = scripted(monkeypatch, tasks(["Does webmail work?"]), "Noted.\n" + promote)
        session = start(engineer)
        first_reply(session, client)
        v0 = version(session)
        turn = chat.send_message(session=session, user=engineer, content="yes", client=client)
        assert version(session) == v0 + 1
        assert len(turn.facts) == 2
        fact = Fact.objects.get(text="Webmail works.")
        assert fact.source == FactSource.QUESTION and fact.task_item is not None
        assert fact.task_item.status == TaskStatus.DONE

    def test_duplicate_promotion_is_ignored(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A fact already known is not added again and does not bump."""
        promote = format_marker("PROMOTE", {"text": "Webmail works.", "source": "ai"})
        client = scripted(monkeypatch, promote, promote)
        session = start(engineer)
        first_reply(session, client)
        v1 = version(session)
        chat.send_message(session=session, user=engineer, content="x", client=client)
        assert Fact.objects.filter(session=session).count() == 1
        assert version(session) == v1

    def test_suggest_fix_goes_to_the_fixes_service_last_block_wins(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The last valid [SUGGEST_FIX] becomes the active fix, confidence clamped."""
        other = format_marker("SUGGEST_FIX", {"title": "First idea", "confidence": 10})
        client = scripted(monkeypatch, f"Try this.\n{other}\n{FIX}")
        session = start(engineer)
        v0 = version(session)
        turn = first_reply(session, client)
        fix = SuggestedFix.objects.get(session=session, superseded_at__isnull=True)
        assert turn.fix is not None and turn.fix.pk == fix.pk
        assert fix.title == "Reset the Outlook profile" and fix.confidence == 100
        assert fix.step_id == turn.assistant_step.pk
        assert fix.parameters[0]["name"] == "path"
        assert version(session) == v0 + 1

    def test_fix_outcome_is_recorded_as_a_proposal(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """[FIX_OUTCOME] attaches an AI proposal to the active fix without deciding it."""
        outcome = format_marker("FIX_OUTCOME", {"outcome": "applied_success", "reason": "works"})
        client = scripted(monkeypatch, FIX, "Great.\n" + outcome)
        session = start(engineer)
        first_reply(session, client)
        turn = chat.send_message(session=session, user=engineer, content="it works", client=client)
        fix = SuggestedFix.objects.get(session=session)
        assert turn.outcome_proposed
        assert fix.ai_outcome_proposal is not None
        assert fix.ai_outcome_proposal["outcome"] == "applied_success"
        assert fix.status == "proposed"


class TestBadReplies:
    def test_broken_marker_json_shows_text_and_changes_nothing(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Malformed blocks are stripped, logged on the step, and have no effect."""
        reply = 'Here is my view.\n[SUGGEST_FIX]{"title": "x", "confidence": }\n[PROMOTE]{oops'
        client = scripted(monkeypatch, reply)
        session = start(engineer)
        v0 = version(session)
        turn = first_reply(session, client)
        step = AISessionStep.objects.get(pk=turn.assistant_step.pk)
        assert step.content == "Here is my view."
        assert len(step.marker_errors) == 2
        assert not SuggestedFix.objects.filter(session=session).exists()
        assert not Fact.objects.filter(session=session).exists()
        assert version(session) == v0

    def test_outcome_without_fix_is_ignored(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A [FIX_OUTCOME] with no active fix is noted on the step, nothing else."""
        outcome = format_marker("FIX_OUTCOME", {"outcome": "applied_failed", "reason": "no"})
        client = scripted(monkeypatch, "Hmm.\n" + outcome)
        session = start(engineer)
        turn = first_reply(session, client)
        assert not turn.outcome_proposed
        assert any("FIX_OUTCOME" in e for e in turn.assistant_step.marker_errors)

    def test_empty_reply_shows_a_placeholder(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A reply of markers only still shows something."""
        client = scripted(monkeypatch, tasks(["Q?"]))
        session = start(engineer)
        turn = first_reply(session, client)
        assert turn.assistant_step.content == chat.EMPTY_REPLY


class TestValidation:
    @pytest.mark.parametrize("content", ["", "   \n "])
    def test_empty_message_is_refused(self, engineer: User, content: str) -> None:
        """An empty message is a 422 and saves nothing."""
        session = start(engineer)
        with pytest.raises(Unprocessable) as info:
            chat.add_user_step(session=session, user=engineer, content=content)
        assert info.value.code == "message_empty"
        assert session.steps.count() == 1

    def test_over_long_message_is_refused(self, engineer: User) -> None:
        """Over MESSAGE_LIMIT characters is a 422 naming the limit."""
        session = start(engineer)
        with pytest.raises(Unprocessable) as info:
            chat.add_user_step(
                session=session, user=engineer, content="x" * (steps.MESSAGE_LIMIT + 1)
            )
        assert "8,000" in info.value.detail
        assert session.steps.count() == 1


class TestFailures:
    def test_timeout_keeps_user_step_and_retry_answers_it_once(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A provider timeout saves the engineer's step; retry answers it without a duplicate."""
        client = scripted(monkeypatch, "Hello.", LLMTimeout("slow"), "Answer.")
        session = start(engineer)
        first_reply(session, client)
        with pytest.raises(chat.ChatFailed) as info:
            chat.send_message(session=session, user=engineer, content="Still broken", client=client)
        assert info.value.code == "llm_timeout" and info.value.status == 502
        pending = selectors.pending_user_step(session)
        assert pending is not None and pending.content == "Still broken"
        turn = chat.retry_reply(session=session, client=client)
        assert turn.user_step.pk == pending.pk
        roles = list(session.steps.order_by("pk").values_list("role", flat=True))
        assert roles == ["user", "assistant", "user", "assistant"]
        with pytest.raises(Conflict):
            chat.retry_reply(session=session, client=client)

    def test_answered_step_is_not_answered_twice(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """run_reply on an answered step returns the existing reply without a model call."""
        client = scripted(monkeypatch, "One.")
        session = start(engineer)
        turn = first_reply(session, client)
        again = chat.run_reply(session=session, user_step=turn.user_step, client=client)
        assert again.duplicate and again.assistant_step.pk == turn.assistant_step.pk
        assert len(client.requests) == 1

    def test_generic_llm_error_is_llm_error_code(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Any other provider failure answers code llm_error with the step id."""
        client = scripted(monkeypatch, error=LLMError("down"))
        session = start(engineer)
        with pytest.raises(chat.ChatFailed) as info:
            first_reply(session, client)
        assert info.value.code == "llm_error"
        assert info.value.extra["user_step_id"] == session.steps.get().pk


class TestOfflineAssistant:
    def test_offline_assistant_carries_outlook_to_a_suggested_fix(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With the offline provider the session walks the Outlook runbook to a fix."""
        client = get_llm_client(provider="offline")
        use_client(monkeypatch, client)
        session = start(engineer)
        turn = first_reply(session, client)  # type: ignore[arg-type]
        assert TaskItem.objects.filter(session=session, kind="question").exists()
        assert TaskItem.objects.filter(session=session, kind="check").exclude(command="").exists()
        assert "[TASKS]" not in turn.assistant_step.content
        for answer in (
            "Yes, webmail works fine in the browser. The password was changed yesterday.",
            "What should I do next? suggest a fix",
        ):
            chat.send_message(session=session, user=engineer, content=answer, client=client)
        assert SuggestedFix.objects.filter(session=session, superseded_at__isnull=True).exists()
        fix = SuggestedFix.objects.get(session=session, superseded_at__isnull=True)
        assert fix.script
