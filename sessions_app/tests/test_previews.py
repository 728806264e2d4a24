"""Resolution-note and escalation-package previews: bundle, outcome-aware text, cache."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.errors import UpstreamError
from flowpilot.llm import LLMTimeout
from flowpilot.llm import client as llm_client
from flowpilot.llm.testing import ScriptedClient
from sessions_app import selectors
from sessions_app.models import AISession, Fact, FactSource
from sessions_app.services import fixes, previews
from sessions_app.tests.test_fixes import make_fix, make_session

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]
RESOLUTION_SECTIONS = ["## Problem", "## What we confirmed", "## Root cause", "## Resolution"]
ESCALATION_SECTIONS = [
    "## Problem",
    "## What we've confirmed",
    "## What we've tried",
    "## Current hypothesis",
    "## Suggested next steps",
]


def add_fact(session: AISession, text: str) -> Fact:
    """Stand-in for the facts service: write the fact and bump the version it promises."""
    fact = Fact.objects.create(
        account_id=session.account_id, session=session, text=text, source=FactSource.NOTE
    )
    session.bump_state_version()
    return fact


@pytest.fixture
def llm_spy() -> Iterator[mock.MagicMock]:
    """The model choke point, mocked with autospec but answering with the real offline client."""
    with mock.patch(
        "flowpilot.llm.client.get_llm_client",
        autospec=True,
        side_effect=llm_client.get_llm_client,
    ) as spy:
        yield spy


def preview(session: AISession, kind: previews.PreviewKind = "resolution_note") -> Any:
    session.refresh_from_db()
    return previews.get_preview(session=session, kind=kind)


class TestBundle:
    def test_bundle_has_facts_fix_outcome_and_script_runs(self, engineer: User) -> None:
        session = make_session(engineer)
        session.psa_ticket_id = "48213"
        session.save(update_fields=["psa_ticket_id"])
        add_fact(session, "The spooler service is stopped")
        gone = add_fact(session, "Deleted fact")
        Fact.objects.filter(pk=gone.pk).update(deleted_at=session.created_at)
        fix = make_fix(session)
        fixes.record_outcome(
            session=session,
            fix=fix,
            outcome="applied_partial",
            actor=engineer,
            notes="one printer still stuck",
        )

        def runs(_: AISession) -> list[dict[str, Any]]:
            return [
                {
                    "template": "Reset user password",
                    # Sources answer runs as stored: redacted by the script library.
                    "parameters": {"user": "jdoe", "new_password": "[redacted]"},
                }
            ]

        previews.register_script_run_source(runs)
        try:
            bundle = previews.build_bundle(session)
        finally:
            previews._script_run_sources.remove(runs)
        assert bundle["problem"] == "Printer queue is stuck"
        assert bundle["ticket"] == "48213"
        assert bundle["facts"] == ["The spooler service is stopped"]
        assert bundle["fix"]["status"] == "applied_partial"
        assert bundle["fix"]["partial_notes"] == "one printer still stuck"
        assert bundle["fix"]["applied_at"] is not None
        params = bundle["script_runs"][0]["parameters"]
        assert params == {"user": "jdoe", "new_password": "[redacted]"}
        assert bundle["script_runs"][0]["template"] == "Reset user password"

    def test_the_model_gets_the_bundle_on_the_heavy_tier(self, engineer: User) -> None:
        session = make_session(engineer)
        add_fact(session, "Queue has 14 stuck jobs")
        client = ScriptedClient(default="## Problem\n\nx\n")
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=client):
            result = preview(session, "escalation_package")
        assert result.markdown.startswith("## Problem")
        request = client.requests[0]
        assert request.purpose == "escalation_package"
        assert request.tier == "heavy"
        assert request.context["facts"] == ["Queue has 14 stuck jobs"]
        assert "Escalation package" in request.system


class TestOutcomeAwareText:
    def test_four_and_five_sections(self, engineer: User) -> None:
        session = make_session(engineer)
        note = preview(session).markdown
        package = preview(session, "escalation_package").markdown
        assert [line for line in note.splitlines() if line.startswith("## ")] == (
            RESOLUTION_SECTIONS
        )
        assert [line for line in package.splitlines() if line.startswith("## ")] == (
            ESCALATION_SECTIONS
        )

    def test_success_reads_as_closure(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(session=session, fix=fix, outcome="applied_success", actor=engineer)
        note = preview(session).markdown
        assert "verified it worked" in note
        assert "The issue is resolved" in note

    def test_after_failed_the_regenerated_note_speaks_of_what_was_tried(
        self, engineer: User
    ) -> None:
        """End to end: a cached 'applied' note is replaced by one saying what was tried and
        that the problem is still open; never a closure."""
        session = make_session(engineer)
        add_fact(session, "The spooler service is stopped")
        fix = make_fix(session)
        fixes.apply_fix(session=session, fix=fix, actor=engineer)
        before = preview(session)
        assert "pending verification" in before.markdown
        fixes.record_outcome(
            session=session,
            fix=fix,
            outcome="applied_failed",
            actor=engineer,
            failure_reason="Jobs came back after five minutes",
        )
        after = preview(session)
        assert after.from_cache is False
        assert after.state_version > before.state_version
        assert "Tried **Restart the print spooler**" in after.markdown
        assert "did not fix the problem: Jobs came back after five minutes." in after.markdown
        assert "still open" in after.markdown
        assert "resolved" not in after.markdown.lower()
        assert "verified it worked" not in after.markdown

    def test_partial_speaks_of_follow_up(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(
            session=session,
            fix=fix,
            outcome="applied_partial",
            actor=engineer,
            notes="Floor 2 printer still stuck",
        )
        package = preview(session, "escalation_package").markdown
        assert "partly helped: Floor 2 printer still stuck." in package
        assert "resolved" not in preview(session).markdown.lower()

    def test_pending_is_provisional(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(
            session=session,
            fix=fix,
            outcome="applied_pending",
            actor=engineer,
            reason="waiting for tonight's reboot",
        )
        note = preview(session).markdown
        assert "pending verification: waiting for tonight's reboot." in note
        assert "provisional" in note

    def test_a_dismissed_fix_is_still_described(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_decision(session=session, fix=fix, decision="dismissed", actor=engineer)
        note = preview(session).markdown
        assert "No fix applied yet" in note and "was dismissed" in note


class TestWhatWeTried:
    def test_bundle_keeps_superseded_fixes_with_an_outcome(self, engineer: User) -> None:
        """``tried`` lists earlier fixes with a recorded outcome, oldest first; a fix replaced
        without an outcome was never tried and stays out."""
        session = make_session(engineer)
        first = make_fix(session, title="Restart the print spooler")
        fixes.record_outcome(
            session=session,
            fix=first,
            outcome="applied_failed",
            actor=engineer,
            failure_reason="Jobs came back",
        )
        make_fix(session, title="Never tried")
        third = make_fix(session, title="Clear the spool folder")
        fixes.record_outcome(
            session=session, fix=third, outcome="applied_partial", actor=engineer, notes="half"
        )
        make_fix(session, title="Reinstall the driver")

        bundle = previews.build_bundle(session)

        assert bundle["fix"]["title"] == "Reinstall the driver"
        assert [(t["title"], t["status"]) for t in bundle["tried"]] == [
            ("Restart the print spooler", "applied_failed"),
            ("Clear the spool folder", "applied_partial"),
        ]
        assert bundle["tried"][0]["failure_reason"] == "Jobs came back"

    def test_escalation_package_remembers_a_failed_fix_after_a_new_suggestion(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        """End to end: fix A (suggested in chat) fails, the assistant suggests fix B; the
        escalation package preview still says A was tried and did not work."""
        from sessions_app.services import chat

        session = make_session(engineer)
        client = ScriptedClient(
            [
                'Try this.\n[SUGGEST_FIX]{"title": "Restart the print spooler", '
                '"description": "Clears stuck jobs.", "confidence": 70, '
                '"script": "Restart-Service Spooler", "parameters": []}',
                'Then try this.\n[SUGGEST_FIX]{"title": "Clear the spool folder", '
                '"description": "Removes corrupt jobs.", "confidence": 60, '
                '"script": "Remove-Item $env:windir/System32/spool/PRINTERS/*", '
                '"parameters": []}',
            ]
        )
        chat.send_message(session=session, user=engineer, content="Queue stuck", client=client)
        fix_a = selectors.active_fix(session)
        assert fix_a is not None
        api = api_client_for(engineer)
        response = api.patch(
            f"/api/v1/ai-sessions/{session.pk}/suggested-fixes/{fix_a.pk}/outcome",
            {"outcome": "applied_failed", "failure_reason": "Jobs came back in five minutes"},
            format="json",
        )
        assert response.status_code == 200
        chat.send_message(session=session, user=engineer, content="Still stuck", client=client)
        fix_b = selectors.active_fix(session)
        assert fix_b is not None and fix_b.title == "Clear the spool folder"

        response = api.post(
            f"/api/v1/ai-sessions/{session.pk}/escalation-package/preview", {}, format="json"
        )

        assert response.status_code == 200
        markdown = response.json()["markdown"]
        tried = markdown.split("## What we've tried", 1)[1].split("## Current hypothesis")[0]
        assert "Tried **Restart the print spooler**" in tried
        assert "it did not work: Jobs came back in five minutes." in tried
        assert "**Clear the spool folder** was suggested" in tried
        assert "No fix applied yet" not in markdown


class TestCache:
    def test_cache_hit_makes_no_model_call(self, engineer: User, llm_spy: mock.MagicMock) -> None:
        session = make_session(engineer)
        first = preview(session)
        assert first.from_cache is False
        assert llm_spy.call_count == 1
        second = preview(session)
        assert second.from_cache is True
        assert second.markdown == first.markdown
        assert llm_spy.call_count == 1

    def test_fact_write_misses_the_cache(self, engineer: User, llm_spy: mock.MagicMock) -> None:
        session = make_session(engineer)
        preview(session)
        add_fact(session, "The printer is online")
        result = preview(session)
        assert result.from_cache is False
        assert "- The printer is online" in result.markdown
        assert llm_spy.call_count == 2

    def test_a_note_from_the_facts_service_misses_the_cache(
        self, engineer: User, llm_spy: mock.MagicMock
    ) -> None:
        """The real facts service bumps state_version: the next preview is regenerated."""
        from sessions_app.services import facts

        session = make_session(engineer)
        preview(session)
        facts.add_note(session=session, user=engineer, text="User is on hotel Wi-Fi")
        result = preview(session)
        assert result.from_cache is False
        assert "- User is on hotel Wi-Fi" in result.markdown
        assert llm_spy.call_count == 2

    def test_kinds_are_cached_separately(self, engineer: User, llm_spy: mock.MagicMock) -> None:
        session = make_session(engineer)
        note = preview(session)
        package = preview(session, "escalation_package")
        assert package.from_cache is False and package.markdown != note.markdown
        assert preview(session).from_cache is True
        assert preview(session, "escalation_package").from_cache is True
        assert llm_spy.call_count == 2

    def test_refresh_regenerates(self, engineer: User, llm_spy: mock.MagicMock) -> None:
        session = make_session(engineer)
        preview(session)
        session.refresh_from_db()
        again = previews.get_preview(session=session, kind="resolution_note", refresh=True)
        assert again.from_cache is False
        assert llm_spy.call_count == 2

    def test_ai_proposal_delete_keeps_the_cache(
        self, engineer: User, llm_spy: mock.MagicMock
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_ai_outcome_proposal(session=session, outcome="applied_success", reason="ok")
        preview(session)
        fixes.clear_ai_outcome_proposal(session=session, fix=fix)
        assert preview(session).from_cache is True
        assert llm_spy.call_count == 1

    def test_model_failure_is_a_502_and_nothing_is_cached(self, engineer: User) -> None:
        session = make_session(engineer)
        client = ScriptedClient([LLMTimeout("slow")], default="## Problem\n")
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=client):
            with pytest.raises(UpstreamError) as exc:
                preview(session)
            assert exc.value.status == 502
            assert preview(session).from_cache is False


class TestPreviewApi:
    @pytest.mark.parametrize("path", ["resolution-note", "escalation-package"])
    def test_preview_then_cached(self, engineer: User, api_client_for: ApiFor, path: str) -> None:
        session = make_session(engineer)
        client = api_client_for(engineer)
        url = f"/api/v1/ai-sessions/{session.pk}/{path}/preview"
        first = client.post(url, {}, format="json")
        assert first.status_code == 200
        body = first.json()
        assert body["from_cache"] is False
        assert body["state_version"] == session.state_version
        assert body["markdown"].startswith("## Problem")
        second = client.post(url + "/", {}, format="json")
        assert second.json()["from_cache"] is True
        assert client.post(url, {"refresh": True}, format="json").json()["from_cache"] is False

    def test_a_cached_preview_never_answers_another_account(
        self, engineer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        """The fast cached path is scoped by account: a stranger still gets 404."""
        session = make_session(engineer)
        url = f"/api/v1/ai-sessions/{session.pk}/resolution-note/preview"
        assert api_client_for(engineer).post(url, {}, format="json").status_code == 200
        assert previews.cached_preview(
            account_id=engineer.account_id, session_id=session.pk, kind="resolution_note"
        )
        assert (
            previews.cached_preview(
                account_id=stranger.account_id, session_id=session.pk, kind="resolution_note"
            )
            is None
        )
        response = api_client_for(stranger).post(url, {}, format="json")
        assert response.status_code == 404
        assert "markdown" not in response.json()

    def test_model_failure_is_a_json_502(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        client = ScriptedClient(error=LLMTimeout("slow"))
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=client):
            response = api_client_for(engineer).post(
                f"/api/v1/ai-sessions/{session.pk}/resolution-note/preview", {}, format="json"
            )
        assert response.status_code == 502
        assert response.json()["code"] == "llm_unavailable"

    @pytest.mark.parametrize("path", ["resolution-note", "escalation-package"])
    def test_an_id_beyond_any_row_is_a_404(
        self, engineer: User, api_client_for: ApiFor, llm_spy: mock.MagicMock, path: str
    ) -> None:
        """A session id too large for the database is simply not found (SQLite used to raise
        OverflowError: a 500)."""
        url = f"/api/v1/ai-sessions/10000000000000000000000000/{path}/preview"
        response = api_client_for(engineer).post(url, {}, format="json")
        assert response.status_code == 404
        assert "markdown" not in response.json()
        assert llm_spy.call_count == 0

    def test_the_cached_path_refuses_out_of_range_ids_without_a_query(
        self, engineer: User, django_assert_num_queries: Any
    ) -> None:
        """The raw SQL of the hot path never sees an id no row can have."""
        for session_id in (10**25, 2**63, 0, -1):
            with django_assert_num_queries(0):
                assert (
                    previews.cached_preview(
                        account_id=engineer.account_id,
                        session_id=session_id,
                        kind="resolution_note",
                    )
                    is None
                )

    @pytest.mark.parametrize("path", ["resolution-note", "escalation-package"])
    def test_viewer_403_stranger_404(
        self,
        engineer: User,
        viewer: User,
        stranger: User,
        api_client_for: ApiFor,
        llm_spy: mock.MagicMock,
        path: str,
    ) -> None:
        session = make_session(engineer)
        url = f"/api/v1/ai-sessions/{session.pk}/{path}/preview"
        assert api_client_for(viewer).post(url, {}, format="json").status_code == 403
        assert api_client_for(stranger).post(url, {}, format="json").status_code == 404
        assert llm_spy.call_count == 0
