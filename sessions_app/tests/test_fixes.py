"""Suggested-fix lifecycle services: supersession, decisions, apply, outcomes, AI proposals."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from accounts.models import AuditEvent, User
from flowpilot.errors import Conflict, NotFound, Unprocessable
from flowpilot.llm.markers import parse_markers
from sessions_app import selectors
from sessions_app.models import AISession, FixStatus, SuggestedFix
from sessions_app.services import fixes

pytestmark = pytest.mark.django_db

SCRIPT = "Restart-Service -Name {{service}} -Force"
PARAMS: list[dict[str, Any]] = [
    {"name": "service", "type": "string", "required": True, "default": "Spooler"}
]


def make_session(user: User, problem: str = "Printer queue is stuck") -> AISession:
    return AISession.objects.create(account=user.account, user=user, problem_summary=problem)


def make_fix(
    session: AISession,
    *,
    title: str = "Restart the print spooler",
    script: str = SCRIPT,
    confidence: int = 80,
) -> SuggestedFix:
    return fixes.propose_fix(
        session=session,
        step=None,
        title=title,
        description="Clears stuck jobs held by the spooler.",
        confidence=confidence,
        script=script,
        parameters=PARAMS,
    )


def version(session: AISession) -> int:
    return AISession.objects.values_list("state_version", flat=True).get(pk=session.pk)


class TestSupersession:
    def test_a_new_fix_supersedes_the_active_one(self, engineer: User) -> None:
        """Proposing again leaves exactly one active fix: the new one; the old is stamped."""
        session = make_session(engineer)
        first = make_fix(session)
        second = make_fix(session, title="Clear the spool folder")
        first.refresh_from_db()
        assert first.superseded_at is not None
        assert selectors.active_fix(session) == second
        assert SuggestedFix.objects.filter(session=session, superseded_at__isnull=True).count() == 1

    def test_database_refuses_two_active_fixes(self, engineer: User) -> None:
        """The partial unique constraint holds even when the service is bypassed."""
        session = make_session(engineer)
        make_fix(session)
        with pytest.raises(IntegrityError), transaction.atomic():
            SuggestedFix.objects.create(account=engineer.account, session=session, title="Dup")

    def test_database_refuses_an_unknown_status(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        with pytest.raises(IntegrityError), transaction.atomic():
            SuggestedFix.objects.filter(pk=fix.pk).update(status="maybe")

    def test_confidence_is_clamped(self, engineer: User) -> None:
        session = make_session(engineer)
        assert make_fix(session, confidence=250).confidence == 100
        assert make_fix(session, confidence=-5).confidence == 0

    def test_get_fix_of_another_session_is_not_found(self, engineer: User) -> None:
        mine = make_session(engineer)
        other = make_session(engineer, "Other")
        fix = make_fix(other)
        with pytest.raises(NotFound):
            selectors.get_fix(mine, fix.pk)
        with pytest.raises(NotFound):
            selectors.get_fix(mine, "abc")


class TestDecisions:
    """The decision on the fix row; what a decision does with scripts is tested in scripts."""

    @pytest.mark.parametrize("decision", ["one_off", "draft_template", "build_template"])
    def test_a_decision_is_recorded_bumped_and_audited(self, engineer: User, decision: str) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        before = version(session)
        fix = fixes.record_decision(session=session, fix=fix, decision=decision, actor=engineer)
        assert fix.decision == decision and fix.decided_at is not None
        assert fix.superseded_at is None
        assert version(session) == before + 1
        assert AuditEvent.objects.filter(type="fix.decision").count() == 1

    def test_dismiss_supersedes_the_fix(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_decision(session=session, fix=fix, decision="dismissed", actor=engineer)
        fix.refresh_from_db()
        assert fix.superseded_at is not None
        assert fix.status == FixStatus.DISMISSED
        assert selectors.active_fix(session) is None

    def test_decision_on_a_superseded_fix_conflicts(self, engineer: User) -> None:
        session = make_session(engineer)
        old = make_fix(session)
        make_fix(session, title="Newer")
        old.refresh_from_db()
        for decision in ("dismissed", "one_off"):
            with pytest.raises(Conflict):
                fixes.record_decision(session=session, fix=old, decision=decision, actor=engineer)

    def test_unknown_decision_is_unprocessable(self, engineer: User) -> None:
        session = make_session(engineer)
        with pytest.raises(Unprocessable):
            fixes.record_decision(
                session=session, fix=make_fix(session), decision="maybe", actor=engineer
            )


class TestApply:
    def test_apply_stamps_applied_at_and_keeps_proposed(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        before = version(session)
        fix = fixes.apply_fix(session=session, fix=fix, actor=engineer)
        assert fix.applied_at is not None
        assert fix.status == FixStatus.PROPOSED
        assert version(session) == before + 1

    def test_apply_is_idempotent(self, engineer: User) -> None:
        """A second apply keeps the first time and does not bump the version again."""
        session = make_session(engineer)
        fix = fixes.apply_fix(session=session, fix=make_fix(session), actor=engineer)
        first_time = fix.applied_at
        before = version(session)
        again = fixes.apply_fix(session=session, fix=fix, actor=engineer)
        assert again.applied_at == first_time
        assert version(session) == before

    @pytest.mark.parametrize(
        "outcome,extra",
        [
            ("applied_success", {}),
            ("applied_failed", {}),
            ("applied_pending", {"reason": "reboot tonight"}),
            ("applied_partial", {"notes": "one printer still stuck"}),
            ("dismissed", {}),
        ],
    )
    def test_apply_after_an_outcome_conflicts(
        self, engineer: User, outcome: str, extra: dict[str, str]
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(session=session, fix=fix, outcome=outcome, actor=engineer, **extra)
        with pytest.raises(Conflict):
            fixes.apply_fix(session=session, fix=fix, actor=engineer)

    def test_apply_on_a_superseded_fix_conflicts(self, engineer: User) -> None:
        session = make_session(engineer)
        old = make_fix(session)
        make_fix(session, title="Newer")
        with pytest.raises(Conflict):
            fixes.apply_fix(session=session, fix=old, actor=engineer)


EXTRA = {
    "applied_success": {},
    "applied_failed": {"failure_reason": "still stuck"},
    "applied_partial": {"notes": "half the queue cleared"},
    "applied_pending": {"reason": "waiting for a reboot"},
    "dismissed": {},
}


class TestOutcomeTransitions:
    @pytest.mark.parametrize("start", ["proposed", "applied_partial", "applied_pending"])
    @pytest.mark.parametrize("target", list(EXTRA))
    def test_open_statuses_move_to_any_outcome(
        self, engineer: User, start: str, target: str
    ) -> None:
        """proposed, partial and pending accept every outcome (the table's open rows)."""
        session = make_session(engineer)
        fix = make_fix(session)
        SuggestedFix.objects.filter(pk=fix.pk).update(status=start)
        fix.refresh_from_db()
        before = version(session)
        fix = fixes.record_outcome(
            session=session, fix=fix, outcome=target, actor=engineer, **EXTRA[target]
        )
        assert fix.status == target
        assert version(session) == before + 1

    @pytest.mark.parametrize("start", ["applied_success", "applied_failed", "dismissed"])
    @pytest.mark.parametrize("target", list(EXTRA))
    def test_terminal_statuses_refuse_every_outcome(
        self, engineer: User, start: str, target: str
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        SuggestedFix.objects.filter(pk=fix.pk).update(status=start)
        fix.refresh_from_db()
        before = version(session)
        with pytest.raises(Conflict) as exc:
            fixes.record_outcome(
                session=session, fix=fix, outcome=target, actor=engineer, **EXTRA[target]
            )
        assert exc.value.code == "outcome_final"
        fix.refresh_from_db()
        assert fix.status == start
        assert version(session) == before

    def test_partial_requires_notes(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        with pytest.raises(Unprocessable) as exc:
            fixes.record_outcome(
                session=session, fix=fix, outcome="applied_partial", actor=engineer, notes="  "
            )
        assert exc.value.status == 422
        assert "notes" in exc.value.extra["errors"]
        fix.refresh_from_db()
        assert fix.status == FixStatus.PROPOSED

    def test_pending_requires_a_reason(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        with pytest.raises(Unprocessable) as exc:
            fixes.record_outcome(
                session=session, fix=fix, outcome="applied_pending", actor=engineer
            )
        assert "reason" in exc.value.extra["errors"]

    def test_failed_takes_an_optional_reason(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = fixes.record_outcome(
            session=session,
            fix=make_fix(session),
            outcome="applied_failed",
            actor=engineer,
            failure_reason="Access denied on the spool folder",
        )
        assert fix.failure_reason == "Access denied on the spool folder"
        other = make_session(engineer)
        bare = fixes.record_outcome(
            session=other, fix=make_fix(other), outcome="applied_failed", actor=engineer
        )
        assert bare.status == FixStatus.APPLIED_FAILED and bare.failure_reason == ""

    def test_pending_stamps_applied_at_but_not_verified_at(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = fixes.record_outcome(
            session=session,
            fix=make_fix(session),
            outcome="applied_pending",
            actor=engineer,
            reason="AD replication",
        )
        assert fix.applied_at is not None
        assert fix.verified_at is None
        assert fix.pending_reason == "AD replication"

    @pytest.mark.parametrize("outcome", ["applied_success", "applied_failed"])
    def test_success_and_failed_stamp_verified_and_applied(
        self, engineer: User, outcome: str
    ) -> None:
        session = make_session(engineer)
        fix = fixes.record_outcome(
            session=session, fix=make_fix(session), outcome=outcome, actor=engineer
        )
        assert fix.verified_at is not None
        assert fix.applied_at is not None

    def test_success_keeps_an_earlier_applied_at(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = fixes.apply_fix(session=session, fix=make_fix(session), actor=engineer)
        applied = fix.applied_at
        fix = fixes.record_outcome(
            session=session, fix=fix, outcome="applied_success", actor=engineer
        )
        assert fix.applied_at == applied
        assert fix.verified_at is not None and applied is not None
        assert fix.verified_at >= applied

    def test_pending_then_worked(self, engineer: User) -> None:
        """Waiting to verify, then worked: verified_at appears, applied_at stays."""
        session = make_session(engineer)
        fix = fixes.record_outcome(
            session=session,
            fix=make_fix(session),
            outcome="applied_pending",
            actor=engineer,
            reason="reboot",
        )
        applied = fix.applied_at
        fix = fixes.record_outcome(
            session=session, fix=fix, outcome="applied_success", actor=engineer
        )
        assert fix.status == FixStatus.APPLIED_SUCCESS
        assert fix.applied_at == applied
        assert fix.verified_at is not None

    def test_outcome_on_a_superseded_fix_conflicts(self, engineer: User) -> None:
        session = make_session(engineer)
        old = make_fix(session)
        make_fix(session, title="Newer")
        with pytest.raises(Conflict) as exc:
            fixes.record_outcome(
                session=session, fix=old, outcome="applied_success", actor=engineer
            )
        assert exc.value.code == "fix_superseded"


class TestAiOutcomeProposal:
    def _propose(self, session: AISession) -> None:
        reply = parse_markers(
            'It should print now.\n[FIX_OUTCOME]{"outcome": "applied_success", '
            '"reason": "The engineer said the queue is empty."}'
        )
        assert reply.outcome is not None
        fixes.record_ai_outcome_proposal(
            session=session, outcome=reply.outcome.outcome, reason=reply.outcome.reason
        )

    def test_a_chat_turn_with_fix_outcome_sets_the_proposal(self, engineer: User) -> None:
        """End to end through the chat service: [SUGGEST_FIX] creates the fix, a later
        [FIX_OUTCOME] attaches the proposal without changing the status."""
        from flowpilot.llm.testing import ScriptedClient
        from sessions_app.services import chat

        session = make_session(engineer)
        client = ScriptedClient(
            [
                'Try this.\n[SUGGEST_FIX]{"title": "Restart the print spooler", '
                '"description": "Clears stuck jobs.", "confidence": 140, '
                '"script": "Restart-Service Spooler", "parameters": []}',
                'Great, that sounds fixed.\n[FIX_OUTCOME]{"outcome": "applied_success", '
                '"reason": "The engineer reports the queue is empty."}',
            ]
        )
        chat.send_message(session=session, user=engineer, content="Queue is stuck", client=client)
        fix = selectors.active_fix(session)
        assert fix is not None and fix.confidence == 100 and fix.ai_outcome_proposal is None
        chat.send_message(session=session, user=engineer, content="It prints now", client=client)
        fix.refresh_from_db()
        assert fix.ai_outcome_proposal is not None
        assert fix.ai_outcome_proposal["outcome"] == "applied_success"
        assert fix.status == FixStatus.PROPOSED

    def test_fix_outcome_marker_sets_the_proposal(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        self._propose(session)
        fix.refresh_from_db()
        assert fix.ai_outcome_proposal is not None
        assert fix.ai_outcome_proposal["outcome"] == "applied_success"
        assert fix.status == FixStatus.PROPOSED

    @pytest.mark.parametrize("outcome", ["applied_success", "applied_failed", "dismissed"])
    def test_terminal_outcome_clears_the_proposal(self, engineer: User, outcome: str) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        self._propose(session)
        fix = fixes.record_outcome(session=session, fix=fix, outcome=outcome, actor=engineer)
        assert fix.ai_outcome_proposal is None

    def test_pending_keeps_the_proposal(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        self._propose(session)
        fix = fixes.record_outcome(
            session=session, fix=fix, outcome="applied_pending", actor=engineer, reason="sync"
        )
        assert fix.ai_outcome_proposal is not None

    def test_not_yet_clears_without_touching_status_or_version(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        self._propose(session)
        before = version(session)
        fix = fixes.clear_ai_outcome_proposal(session=session, fix=fix)
        assert fix.ai_outcome_proposal is None
        fix.refresh_from_db()
        assert fix.ai_outcome_proposal is None
        assert fix.status == FixStatus.PROPOSED
        assert version(session) == before

    def test_no_proposal_for_a_terminal_fix(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(session=session, fix=fix, outcome="applied_failed", actor=engineer)
        assert not fixes.record_ai_outcome_proposal(
            session=session, outcome="applied_success", reason="x"
        )


class TestAiOutcomeProposalRace:
    def test_a_fix_that_turned_terminal_after_being_read_gets_no_proposal(
        self, engineer: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The proposal is one conditional UPDATE: a copy of the fix read before the engineer
        recorded a final outcome cannot put a proposal back on it."""
        session = make_session(engineer)
        fix = make_fix(session)
        stale = SuggestedFix.objects.get(pk=fix.pk)  # read while still proposed
        fixes.record_outcome(session=session, fix=fix, outcome="applied_failed", actor=engineer)
        monkeypatch.setattr(selectors, "active_fix", lambda _session: stale)

        stored = fixes.record_ai_outcome_proposal(
            session=session, outcome="applied_success", reason="Sounds fixed"
        )

        assert stored is False
        fix.refresh_from_db()
        assert fix.status == FixStatus.APPLIED_FAILED
        assert fix.ai_outcome_proposal is None

    def test_a_superseded_fix_gets_no_proposal_but_the_new_one_does(self, engineer: User) -> None:
        """Only the active fix takes the assistant's proposal."""
        session = make_session(engineer)
        old = make_fix(session)
        new = make_fix(session, title="Clear the spool folder")
        assert fixes.record_ai_outcome_proposal(
            session=session, outcome="applied_partial", reason="r"
        )
        old.refresh_from_db()
        new.refresh_from_db()
        assert old.ai_outcome_proposal is None
        assert new.ai_outcome_proposal is not None
        assert new.ai_outcome_proposal["outcome"] == "applied_partial"


class TestResolvedSession:
    @pytest.mark.parametrize("action", ["apply", "outcome", "decision", "draft"])
    def test_fix_services_refuse_a_resolved_session(self, engineer: User, action: str) -> None:
        """After the session is resolved every fix change is a 409 session_closed."""
        from sessions_app.services import resolution

        session = make_session(engineer)
        fix = make_fix(session)
        resolution.post_resolution_note(session=session, actor=engineer, markdown="Done")
        calls = {
            "apply": lambda: fixes.apply_fix(session=session, fix=fix, actor=engineer),
            "outcome": lambda: fixes.record_outcome(
                session=session, fix=fix, outcome="applied_failed", actor=engineer
            ),
            "decision": lambda: fixes.record_decision(
                session=session, fix=fix, decision="dismissed", actor=engineer
            ),
            "draft": lambda: fixes.store_fix_script(
                session=session, fix=fix, script="Get-Service", parameters=[], actor=engineer
            ),
        }
        with pytest.raises(Conflict) as exc:
            calls[action]()
        assert exc.value.code == "session_closed"
        assert exc.value.status == 409
        fix.refresh_from_db()
        assert fix.status == FixStatus.PROPOSED and fix.superseded_at is None


class TestStoreFixScript:
    def test_stores_script_and_parameters_without_applying(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session, script="")
        before = version(session)
        fix = fixes.store_fix_script(
            session=session,
            fix=fix,
            script="Get-Printer -Name {{printer}}",
            parameters=[{"name": "printer", "sensitive": False}],
            actor=engineer,
        )
        assert fix.script == "Get-Printer -Name {{printer}}"
        assert fix.parameters[0]["name"] == "printer"
        assert fix.applied_at is None
        assert version(session) == before + 1

    def test_empty_script_is_unprocessable(self, engineer: User) -> None:
        session = make_session(engineer)
        with pytest.raises(Unprocessable):
            fixes.store_fix_script(
                session=session, fix=make_fix(session), script="  ", parameters=[], actor=engineer
            )

    @pytest.mark.parametrize("outcome", ["applied_success", "applied_failed", "dismissed"])
    def test_script_on_a_terminal_fix_conflicts(self, engineer: User, outcome: str) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(session=session, fix=fix, outcome=outcome, actor=engineer)
        with pytest.raises(Conflict):
            fixes.store_fix_script(
                session=session, fix=fix, script="x", parameters=[], actor=engineer
            )
        fix.refresh_from_db()
        assert fix.script == SCRIPT
