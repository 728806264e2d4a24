"""The fix card, outcome dialogs and preview popover as pages and HTMX fragments."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.permissions import ENGINEER_OR_ADMIN_REQUIRED
from sessions_app.models import AISession, FixStatus, SessionStatus
from sessions_app.services import fixes
from sessions_app.tests.test_fixes import make_fix, make_session

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def fix_url(session: AISession, fix_id: int, action: str) -> str:
    return f"/sessions/{session.pk}/fix/{fix_id}/{action}"


def trigger(response: object) -> dict[str, object]:
    return json.loads(response["HX-Trigger"])  # type: ignore[index]


class TestPanelRendering:
    def test_the_session_page_renders_the_panel_beside_the_lane(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """The panel is the task lane's sibling (a lane swap never replaces it), rendered from
        the page's context, and the page loads fixes.js once."""
        session = make_session(engineer)
        make_fix(session)
        html = client_for(engineer).get(f"/sessions/{session.pk}").content.decode()
        assert 'id="fix-panel"' in html
        assert 'data-testid="fix-card"' in html
        assert "80% confidence" in html
        assert "Restart-Service" in html
        assert 'data-testid="fix-apply"' in html
        assert "Preview resolve note" in html and "Escalate instead" in html
        lane = html[html.index('<div id="task-lane">') :]
        lane = lane[: lane.index('<div class="lane-inner lane-fix">')]
        assert 'id="fix-panel"' not in lane and 'id="fix-preview"' not in lane
        assert html.count("js/fixes.js") == 1

    def test_the_session_page_without_a_fix_says_so(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        html = client_for(engineer).get(f"/sessions/{session.pk}").content.decode()
        assert 'data-testid="no-fix"' in html
        assert 'data-testid="fix-card"' not in html

    def test_a_lane_action_answers_the_lane_without_the_panel(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        make_fix(session)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/facts", {"text": "User is on hotel Wi-Fi"}, **HX
        )
        html = response.content.decode()
        assert "hotel Wi-Fi" in html
        assert 'id="fix-panel"' not in html and 'id="fix-preview"' not in html

    def test_the_open_preview_refreshes_itself_declaratively(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        response = client_for(engineer).post(f"/sessions/{session.pk}/preview/resolution", **HX)
        html = response.content.decode()
        assert (
            'hx-trigger="session-changed from:body delay:500ms, fix-changed from:body delay:500ms"'
            in html
        )
        assert f'hx-post="/sessions/{session.pk}/preview/resolution"' in html

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

    def test_the_outcome_banners_read_as_sentences(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """ "Awaiting verification. User is on the road" and "Verified just now." (no "waiting
        on User is on the road", no space before the full stop)."""
        session = make_session(engineer)
        fix = make_fix(session)
        fixes = type(fix).objects.filter(pk=fix.pk)
        fixes.update(status="applied_pending", pending_reason="user is on the road")
        client = client_for(engineer)
        html = client.get(f"/sessions/{session.pk}/fix").content.decode()
        assert "waiting on <span" not in html
        assert '<span data-testid="fix-pending-reason">User is on the road</span>' in html
        fixes.update(status="applied_success", verified_at=timezone.now())
        html = client.get(f"/sessions/{session.pk}/fix").content.decode()
        assert "just now</time>." in html


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
        refused = client_for(viewer).post(url, body)
        assert refused.status_code == 403
        assert ENGINEER_OR_ADMIN_REQUIRED == "Engineer or admin access required"
        assert (
            '<p class="muted" id="error-message">Engineer or admin access required</p>'
            in refused.content.decode()
        )
        not_theirs = client_for(teammate).post(url, body)
        assert not_theirs.status_code == 403
        assert (
            "Only the session&#x27;s engineer or whoever picked it up can change it."
            in not_theirs.content.decode()
        )
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
        message = '<p class="muted" id="error-message">Engineer or admin access required</p>'
        preview = client_for(viewer).post(f"/sessions/{session.pk}/preview/resolution")
        assert preview.status_code == 403
        assert message in preview.content.decode()
        post = client_for(viewer).post(f"/sessions/{session.pk}/post/resolution")
        assert post.status_code == 403
        assert message in post.content.decode()
        assert (
            client_for(stranger).post(f"/sessions/{session.pk}/post/resolution").status_code == 404
        )
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE


class TestPopoverForWhoCanPost:
    def test_a_colleague_sees_the_preview_read_only(
        self, engineer: User, teammate: User, client_for: ClientFor
    ) -> None:
        """Any engineer may read a preview; only whoever works the session gets 'Confirm &
        post'. The others get the text read-only and a short note."""
        session = make_session(engineer)
        html = (
            client_for(teammate)
            .post(f"/sessions/{session.pk}/preview/resolution", **HX)
            .content.decode()
        )
        assert 'data-testid="preview-popover"' in html
        assert 'data-testid="preview-post"' not in html
        assert "Confirm &amp; post" not in html
        assert f'action="/sessions/{session.pk}/post/resolution"' not in html
        assert "Read-only: only the session's engineer or whoever picked it up" in html
        assert "## Problem" in html
        own = client_for(engineer).post(f"/sessions/{session.pk}/preview/resolution", **HX)
        assert 'data-testid="preview-post"' in own.content.decode()

    def test_an_escalated_session_offers_no_second_escalation(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """An escalated session's package is read-only; its resolve note can still be posted."""
        session = make_session(engineer)
        session.status = SessionStatus.ESCALATED
        session.save(update_fields=["status"])
        client = client_for(engineer)
        package = client.post(f"/sessions/{session.pk}/preview/escalation", **HX).content.decode()
        assert 'data-testid="preview-post"' not in package
        assert "This session is already escalated." in package
        note = client.post(f"/sessions/{session.pk}/preview/resolution", **HX).content.decode()
        assert 'data-testid="preview-post"' in note


class TestFailedPostKeepsTheText:
    def test_a_refused_post_answers_the_popover_with_the_edits_and_the_error(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """A 422 re-renders the popover (retargeted into the preview slot) with the edited
        package, the reason and the error inline; nothing is posted."""
        session = make_session(engineer)
        edited = "## Problem\n\nPrinter stuck <b>on floor 2</b> (edited by hand)"
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/post/escalation",
            {"markdown": edited, "reason": "x" * 2001},
            **HX,
        )
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#fix-preview"
        assert response["HX-Reswap"] == "innerHTML"
        html = response.content.decode()
        assert 'data-testid="preview-popover"' in html
        assert (
            "## Problem\n\nPrinter stuck &lt;b&gt;on floor 2&lt;/b&gt; (edited by hand)</textarea>"
            in html
        )
        assert 'value="' + "x" * 2001 + '"' in html
        assert 'data-testid="preview-post-error"' in html
        assert "Keep the reason under 2000 characters." in html
        assert 'data-dirty="true"' in html
        assert trigger(response)["toast"]["tone"] == "amber"  # type: ignore[index]
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE

    def test_resolved_meanwhile_keeps_the_text_read_only(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """Someone resolved the session first: the 409 keeps the engineer's note (read-only,
        to copy) and the header pill is swapped to Resolved."""
        session = make_session(engineer)
        client = client_for(engineer)
        client.post(f"/sessions/{session.pk}/post/resolution", {"markdown": "first"}, **HX)
        response = client.post(
            f"/sessions/{session.pk}/post/resolution", {"markdown": "My careful note"}, **HX
        )
        html = response.content.decode()
        assert response["HX-Retarget"] == "#fix-preview"
        assert "My careful note</textarea>" in html
        assert "This session is already resolved." in html
        assert 'data-testid="preview-post"' not in html
        assert 'id="session-status-pill"' in html and 'hx-swap-oob="true"' in html
        session.refresh_from_db()
        assert session.resolution_note == "first"

    def test_without_javascript_the_fix_page_keeps_the_text(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """A plain form post that is refused renders the fix page (422) with the text kept."""
        session = make_session(engineer)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/post/resolution", {"markdown": "y" * 50_001}
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert "Suggested fix and closing notes" in html
        assert "y" * 50_001 + "</textarea>" in html
        assert "The text is too long to post." in html


class TestStatusPill:
    @pytest.mark.parametrize(
        ("kind", "label"), [("resolution", "Resolved"), ("escalation", "Escalated")]
    )
    def test_a_post_swaps_the_header_pill_out_of_band(
        self, engineer: User, client_for: ClientFor, kind: str, label: str
    ) -> None:
        """The session page's header pill has an id; a successful post answers the new pill
        out of band next to the panel, so the header follows without a reload."""
        session = make_session(engineer)
        client = client_for(engineer)
        page = client.get(f"/sessions/{session.pk}").content.decode()
        assert 'id="session-status-pill"' in page
        response = client.post(f"/sessions/{session.pk}/post/{kind}", {"markdown": "done"}, **HX)
        html = response.content.decode()
        assert 'id="fix-panel"' in html
        pill = html[html.index('<span id="session-status-pill"') :]
        assert pill.startswith(
            '<span id="session-status-pill" class="session-status-pill" '
            'data-testid="session-status-pill" hx-swap-oob="true">'
        )
        assert f">{label}</span>" in pill
        assert "session-status-changed" in trigger(response)


class TestStyleAndStructure:
    def test_the_views_share_one_panel_context_and_no_template_tag_renders_it(self) -> None:
        """The fix views, the session page and the turn share a plain context module; no
        template tag looks the fix up or decides who may act on its own."""
        import importlib.util

        from sessions_app import fix_context, fix_views, views

        assert importlib.util.find_spec("sessions_app.templatetags.fix_panel") is None
        assert fix_views.fix_panel_context is fix_context.fix_panel_context  # type: ignore[attr-defined]
        assert views.fix_panel_context is fix_context.fix_panel_context  # type: ignore[attr-defined]


def test_a_stale_page_acting_on_a_resolved_session_gets_the_inline_409(
    engineer: User, client_for: ClientFor
) -> None:
    """A tab opened before the session was resolved still shows the buttons: using one answers
    the card with the session_closed message and an amber toast; the fix does not change."""
    from sessions_app.services import resolution

    session = make_session(engineer)
    fix = make_fix(session)
    resolution.post_resolution_note(session=session, actor=engineer, markdown="Done")
    response = client_for(engineer).post(fix_url(session, fix.pk, "apply"), **HX)
    html = response.content.decode()
    assert 'data-testid="fix-error"' in html
    assert "This session is resolved: its suggested fix can no longer change." in html
    assert trigger(response)["toast"]["tone"] == "amber"  # type: ignore[index]
    fix.refresh_from_db()
    assert fix.applied_at is None
