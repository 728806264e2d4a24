"""The fix card, outcome dialogs and preview popover as pages and HTMX fragments."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from accounts.models import User
from sessions_app.models import AISession, FixStatus, SessionStatus
from sessions_app.services import fixes
from sessions_app.tests.test_fixes import make_fix, make_session

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
HX = {"HTTP_HX_REQUEST": "true"}


def fix_url(session: AISession, fix_id: int, action: str) -> str:
    return f"/sessions/{session.pk}/fix/{fix_id}/{action}"


def trigger(response: object) -> dict[str, object]:
    return json.loads(response["HX-Trigger"])  # type: ignore[index]


class TestPanelRendering:
    def test_include_renders_the_card_for_the_session_page(
        self, engineer: User, rf: RequestFactory
    ) -> None:
        """The session page's include, given session and fix, renders the amber card."""
        session = make_session(engineer)
        fix = make_fix(session)
        request = rf.get(f"/sessions/{session.pk}")
        request.user = engineer
        request.htmx = False  # type: ignore[attr-defined]
        html = Template('{% include "sessions_app/_fix_panel.html" %}').render(
            Context({"session": session, "fix": fix, "request": request})
        )
        assert 'id="fix-panel"' in html
        assert 'data-testid="fix-card"' in html
        assert "80% confidence" in html
        assert "Restart-Service -Name {{service}} -Force" in html
        assert 'data-testid="fix-apply"' in html
        assert "Preview resolve note" in html and "Escalate instead" in html

    def test_include_without_a_fix_says_so(self, engineer: User, rf: RequestFactory) -> None:
        session = make_session(engineer)
        request = rf.get("/")
        request.user = engineer
        request.htmx = False  # type: ignore[attr-defined]
        html = Template('{% include "sessions_app/_fix_panel.html" %}').render(
            Context({"session": session, "fix": None, "request": request})
        )
        assert 'data-testid="no-fix"' in html
        assert 'data-testid="fix-card"' not in html

    def test_viewer_sees_the_card_without_actions(
        self, engineer: User, viewer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        make_fix(session)
        response = client_for(viewer).get(f"/sessions/{session.pk}/fix/card")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="fix-card"' in html
        assert 'data-testid="fix-apply"' not in html
        assert 'data-testid="fix-decision-one_off"' not in html

    def test_stranger_gets_404(self, engineer: User, stranger: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        make_fix(session)
        assert client_for(stranger).get(f"/sessions/{session.pk}/fix").status_code == 404

    @pytest.mark.parametrize(
        "status,extra,testid,text",
        [
            ("applied_partial", {"partial_notes": "Floor 2 still stuck"}, "fix-banner-partial",
             "Floor 2 still stuck"),
            ("applied_pending", {"pending_reason": "AD replication"}, "fix-banner-pending",
             "Awaiting verification"),
            ("applied_success", {}, "fix-banner-success", "Worked."),
            ("applied_failed", {"failure_reason": "Access denied"}, "fix-banner-failed",
             "Access denied"),
        ],
    )  # fmt: skip
    def test_each_outcome_has_its_banner(
        self,
        engineer: User,
        client_for: ClientFor,
        status: str,
        extra: dict[str, str],
        testid: str,
        text: str,
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        type(fix).objects.filter(pk=fix.pk).update(status=status, **extra)
        html = client_for(engineer).get(f"/sessions/{session.pk}/fix").content.decode()
        assert f'data-testid="{testid}"' in html
        assert text in html


class TestActions:
    def test_apply_moves_the_card_to_verifying(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = client_for(engineer).post(fix_url(session, fix.pk, "apply"), **HX)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-testid="fix-banner-verifying"' in html
        assert "Waiting to verify…" in html
        assert 'data-testid="fix-worked"' in html
        events = trigger(response)
        assert "fix-changed" in events
        fix.refresh_from_db()
        assert fix.applied_at is not None

    def test_plain_form_post_redirects_back(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = client_for(engineer).post(
            fix_url(session, fix.pk, "apply"), {"next": f"/sessions/{session.pk}/fix"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/sessions/{session.pk}/fix"
        fix.refresh_from_db()
        assert fix.applied_at is not None

    def test_pending_without_reason_reopens_the_dialog_with_the_error(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = client_for(engineer).post(
            fix_url(session, fix.pk, "outcome"),
            {"outcome": "applied_pending", "reason": "", "dialog": "pending"},
            **HX,
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="fix-dialog-pending"' in html
        assert "data-autoshow" in html
        assert 'data-testid="fix-dialog-error"' in html
        assert "Say what you are waiting on" in html
        fix.refresh_from_db()
        assert fix.status == FixStatus.PROPOSED

    def test_partial_without_notes_as_a_form_is_422_with_the_error(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = client_for(engineer).post(
            fix_url(session, fix.pk, "outcome"),
            {"outcome": "applied_partial", "notes": " ", "dialog": "partial"},
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert "Say what worked and what still fails." in html
        assert " open" in html.split('id="fix-dialog-partial"')[1].split(">")[0]

    def test_pending_then_worked(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        client = client_for(engineer)
        pending = client.post(
            fix_url(session, fix.pk, "outcome"),
            {"outcome": "applied_pending", "reason": "Reboot tonight", "dialog": "pending"},
            **HX,
        )
        html = pending.content.decode()
        assert 'data-testid="fix-banner-pending"' in html and "Reboot tonight" in html
        assert trigger(pending)["toast"]["tone"] == "cyan"  # type: ignore[index]
        worked = client.post(
            fix_url(session, fix.pk, "outcome"), {"outcome": "applied_success"}, **HX
        )
        assert 'data-testid="fix-banner-success"' in worked.content.decode()
        fix.refresh_from_db()
        assert fix.status == FixStatus.APPLIED_SUCCESS

    def test_terminal_outcome_conflict_shows_an_inline_error(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(session=session, fix=fix, outcome="applied_failed", actor=engineer)
        response = client_for(engineer).post(
            fix_url(session, fix.pk, "outcome"), {"outcome": "applied_success"}, **HX
        )
        assert 'data-testid="fix-error"' in response.content.decode()
        assert trigger(response)["toast"]["tone"] == "amber"  # type: ignore[index]
        fix.refresh_from_db()
        assert fix.status == FixStatus.APPLIED_FAILED

    def test_ai_proposal_banner_confirm_and_not_yet(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_ai_outcome_proposal(
            session=session, outcome="applied_success", reason="User says it prints"
        )
        client = client_for(engineer)
        html = client.get(f"/sessions/{session.pk}/fix").content.decode()
        assert "The assistant thinks this worked — confirm?" in html
        not_yet = client.post(fix_url(session, fix.pk, "not-yet"), **HX)
        assert "The assistant thinks" not in not_yet.content.decode()
        fix.refresh_from_db()
        assert fix.ai_outcome_proposal is None and fix.status == FixStatus.PROPOSED

    def test_decision_one_off_shows_the_rendered_script(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = client_for(engineer).post(
            fix_url(session, fix.pk, "decision"), {"decision": "one_off"}, **HX
        )
        assert "Restart-Service -Name Spooler -Force" in response.content.decode()
        fix.refresh_from_db()
        assert fix.decision == "one_off"

    def test_viewer_403_teammate_403_stranger_404(
        self,
        engineer: User,
        viewer: User,
        teammate: User,
        stranger: User,
        client_for: ClientFor,
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        url = fix_url(session, fix.pk, "outcome")
        body = {"outcome": "applied_success"}
        assert client_for(viewer).post(url, body).status_code == 403
        assert client_for(teammate).post(url, body).status_code == 403
        assert client_for(stranger).post(url, body).status_code == 404
        other_fix = make_fix(make_session(engineer, "Other"))
        assert client_for(engineer).post(fix_url(session, other_fix.pk, "apply")).status_code == 404
        fix.refresh_from_db()
        assert fix.status == FixStatus.PROPOSED


class TestPreviewAndPost:
    def test_preview_popover_then_cached(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        client = client_for(engineer)
        first = client.post(f"/sessions/{session.pk}/preview/resolution", **HX)
        html = first.content.decode()
        assert first.status_code == 200
        assert 'data-testid="preview-popover"' in html
        assert "Fresh" in html and "## Root cause" in html
        second = client.post(f"/sessions/{session.pk}/preview/resolution", **HX)
        assert "Cached" in second.content.decode()

    def test_preview_without_htmx_renders_the_page(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        response = client_for(engineer).post(f"/sessions/{session.pk}/preview/escalation")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Suggested fix and closing notes" in html
        assert "## Suggested next steps" in html

    def test_unknown_preview_kind_is_404(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        assert client_for(engineer).post(f"/sessions/{session.pk}/preview/poem").status_code == 404

    def test_confirm_and_post_resolves(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/post/resolution",
            {"markdown": "## Resolution\n\nRestarted the spooler. <script>x</script>"},
            **HX,
        )
        html = response.content.decode()
        assert 'data-testid="session-resolved-banner"' in html
        assert "<script>x</script>" not in html
        assert "<h2>Resolution</h2>" in html
        assert trigger(response)["toast"]["tone"] == "emerald"  # type: ignore[index]
        session.refresh_from_db()
        assert session.status == SessionStatus.RESOLVED

    def test_repost_shows_a_toast_not_an_error_page(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        client = client_for(engineer)
        client.post(f"/sessions/{session.pk}/post/resolution", {"markdown": "one"}, **HX)
        again = client.post(f"/sessions/{session.pk}/post/resolution", {"markdown": "two"}, **HX)
        assert again.status_code == 200
        assert trigger(again)["toast"]["message"] == "This session is already resolved."  # type: ignore[index]
        plain = client.post(f"/sessions/{session.pk}/post/resolution", {"markdown": "three"})
        assert plain.status_code == 409
        session.refresh_from_db()
        assert session.resolution_note == "one"

    def test_escalate_with_reason(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/post/escalation",
            {"markdown": "## Problem\n\npkg", "reason": "Needs on-site visit"},
            **HX,
        )
        assert 'data-testid="session-escalated-banner"' in response.content.decode()
        session.refresh_from_db()
        assert session.status == SessionStatus.ESCALATED
        assert session.escalation_reason == "Needs on-site visit"

    def test_viewer_cannot_preview_or_post(
        self, engineer: User, viewer: User, stranger: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        assert (
            client_for(viewer).post(f"/sessions/{session.pk}/preview/resolution").status_code == 403
        )
        assert client_for(viewer).post(f"/sessions/{session.pk}/post/resolution").status_code == 403
        assert (
            client_for(stranger).post(f"/sessions/{session.pk}/post/resolution").status_code == 404
        )
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE
