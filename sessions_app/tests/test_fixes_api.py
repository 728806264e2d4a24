"""The suggested-fix endpoints under /api/v1/ai-sessions/{id}/suggested-fixes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sessions_app.models import AISession, FixStatus
from sessions_app.services import fixes
from sessions_app.tests.test_fixes import make_fix, make_session, version

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]


def base(session: AISession) -> str:
    return f"/api/v1/ai-sessions/{session.pk}/suggested-fixes"


class TestActive:
    def test_it_returns_the_active_fix(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = api_client_for(engineer).get(f"{base(session)}/active")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == fix.pk
        assert body["status"] == "proposed" and body["confidence"] == 80
        assert body["verifying"] is False

    def test_it_answers_404_without_a_fix(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        response = api_client_for(engineer).get(f"{base(session)}/active/")
        assert response.status_code == 404
        assert response.json()["code"] == "no_active_fix"

    def test_viewer_reads_it(self, engineer: User, viewer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        make_fix(session)
        assert api_client_for(viewer).get(f"{base(session)}/active").status_code == 200

    def test_stranger_gets_404(
        self, engineer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        make_fix(session)
        assert api_client_for(stranger).get(f"{base(session)}/active").status_code == 404

    def test_anonymous_is_refused(self, engineer: User) -> None:
        session = make_session(engineer)
        assert APIClient().get(f"{base(session)}/active").status_code == 401


class TestApply:
    def test_apply_is_idempotent_then_409_after_outcome(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        client = api_client_for(engineer)
        url = f"{base(session)}/{fix.pk}/apply"
        first = client.post(url)
        assert first.status_code == 200
        assert first.json()["verifying"] is True
        second = client.post(url)
        assert second.status_code == 200
        assert second.json()["applied_at"] == first.json()["applied_at"]
        client.patch(
            f"{base(session)}/{fix.pk}/outcome", {"outcome": "applied_success"}, format="json"
        )
        third = client.post(url)
        assert third.status_code == 409
        assert third.json()["code"] == "outcome_recorded"

    def test_viewer_403_and_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        url = f"{base(session)}/{fix.pk}/apply"
        assert api_client_for(viewer).post(url).status_code == 403
        assert api_client_for(stranger).post(url).status_code == 404
        fix.refresh_from_db()
        assert fix.applied_at is None


class TestOutcome:
    def test_pending_then_success(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        client = api_client_for(engineer)
        url = f"{base(session)}/{fix.pk}/outcome"
        pending = client.patch(
            url, {"outcome": "applied_pending", "reason": "AD replication"}, format="json"
        )
        assert pending.status_code == 200
        assert pending.json()["pending_reason"] == "AD replication"
        assert pending.json()["verified_at"] is None
        assert pending.json()["applied_at"] is not None
        done = client.patch(url, {"outcome": "applied_success"}, format="json")
        assert done.status_code == 200
        assert done.json()["verified_at"] is not None
        again = client.patch(url, {"outcome": "applied_failed"}, format="json")
        assert again.status_code == 409
        assert again.json()["code"] == "outcome_final"

    @pytest.mark.parametrize(
        "body,field",
        [
            ({"outcome": "applied_partial"}, "notes"),
            ({"outcome": "applied_partial", "notes": " "}, "notes"),
            ({"outcome": "applied_pending"}, "reason"),
        ],
    )
    def test_missing_notes_or_reason_is_422(
        self, engineer: User, api_client_for: ApiFor, body: dict[str, str], field: str
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = api_client_for(engineer).patch(
            f"{base(session)}/{fix.pk}/outcome", body, format="json"
        )
        assert response.status_code == 422
        assert field in response.json()["errors"]
        fix.refresh_from_db()
        assert fix.status == FixStatus.PROPOSED

    @pytest.mark.parametrize(
        "body,stored",
        [
            (
                {"outcome": "applied_partial", "partial_notes": "Mail flows, calendar not"},
                ("partial_notes", "Mail flows, calendar not"),
            ),
            (
                {"outcome": "applied_pending", "pending_reason": "AD replication"},
                ("pending_reason", "AD replication"),
            ),
            (
                {"outcome": "applied_failed", "failure_reason": "Same error"},
                ("failure_reason", "Same error"),
            ),
            (
                {"outcome": "applied_partial", "notes": "Short alias"},
                ("partial_notes", "Short alias"),
            ),
            (
                {"outcome": "applied_pending", "reason": "Short alias"},
                ("pending_reason", "Short alias"),
            ),
        ],
    )
    def test_the_fix_field_names_and_their_short_aliases_are_accepted(
        self,
        engineer: User,
        api_client_for: ApiFor,
        body: dict[str, str],
        stored: tuple[str, str],
    ) -> None:
        """PATCH takes the resource's own field names; notes/reason stay as aliases."""
        session = make_session(engineer)
        fix = make_fix(session)
        response = api_client_for(engineer).patch(
            f"{base(session)}/{fix.pk}/outcome", body, format="json"
        )
        assert response.status_code == 200, response.json()
        field, value = stored
        assert response.json()[field] == value
        fix.refresh_from_db()
        assert getattr(fix, field) == value and fix.status == body["outcome"]

    def test_unknown_outcome_is_400(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = api_client_for(engineer).patch(
            f"{base(session)}/{fix.pk}/outcome", {"outcome": "great"}, format="json"
        )
        assert response.status_code == 400

    def test_viewer_403_and_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        url = f"{base(session)}/{fix.pk}/outcome"
        body = {"outcome": "applied_success"}
        assert api_client_for(viewer).patch(url, body, format="json").status_code == 403
        assert api_client_for(stranger).patch(url, body, format="json").status_code == 404
        fix.refresh_from_db()
        assert fix.status == FixStatus.PROPOSED

    def test_admin_may_record_on_an_engineers_session(
        self, engineer: User, admin_user: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = api_client_for(admin_user).patch(
            f"{base(session)}/{fix.pk}/outcome", {"outcome": "applied_success"}, format="json"
        )
        assert response.status_code == 200


class TestAiProposal:
    def test_delete_clears_it_and_keeps_the_version(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_ai_outcome_proposal(session=session, outcome="applied_success", reason="ok")
        before = version(session)
        response = api_client_for(engineer).delete(f"{base(session)}/{fix.pk}/ai-outcome-proposal")
        assert response.status_code == 200
        assert response.json()["ai_outcome_proposal"] is None
        fix.refresh_from_db()
        assert fix.ai_outcome_proposal is None
        assert version(session) == before

    def test_viewer_403_and_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_ai_outcome_proposal(session=session, outcome="applied_success", reason="ok")
        url = f"{base(session)}/{fix.pk}/ai-outcome-proposal"
        assert api_client_for(viewer).delete(url).status_code == 403
        assert api_client_for(stranger).delete(url).status_code == 404
        fix.refresh_from_db()
        assert fix.ai_outcome_proposal is not None


class TestResolvedSession:
    @pytest.mark.parametrize(
        ("method", "action", "body"),
        [
            ("post", "apply", {}),
            ("patch", "outcome", {"outcome": "applied_success"}),
            ("post", "decision", {"decision": "one_off"}),
            ("post", "draft", {"script": "Get-Service Spooler", "parameters": []}),
        ],
    )
    def test_a_resolved_session_refuses_every_fix_change_with_409(
        self, engineer: User, api_client_for: ApiFor, method: str, action: str, body: dict[str, str]
    ) -> None:
        """Once resolved, apply / outcome / decision / draft answer 409 session_closed and
        change nothing (the pages already hide these buttons)."""
        from sessions_app.services import resolution

        session = make_session(engineer)
        fix = make_fix(session)
        resolution.post_resolution_note(session=session, actor=engineer, markdown="Done")
        before = version(session)

        response = getattr(api_client_for(engineer), method)(
            f"{base(session)}/{fix.pk}/{action}", body, format="json"
        )

        assert response.status_code == 409
        assert response.json()["code"] == "session_closed"
        assert response.json()["detail"] == (
            "This session is resolved: its suggested fix can no longer change."
        )
        fix.refresh_from_db()
        assert fix.status == FixStatus.PROPOSED
        assert fix.applied_at is None and fix.decision == ""
        assert fix.script == "Restart-Service -Name {{service}} -Force"
        assert version(session) == before

    def test_an_escalated_session_still_takes_outcomes(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        """Escalation is not closure: the fix keeps moving."""
        from sessions_app.services import resolution

        session = make_session(engineer)
        fix = make_fix(session)
        resolution.escalate_session(session=session, actor=engineer, markdown="pkg")
        response = api_client_for(engineer).patch(
            f"{base(session)}/{fix.pk}/outcome", {"outcome": "applied_success"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["status"] == "applied_success"


HUGE = "10000000000000000000000000"


API_ROUTES = [
    ("get", "/api/v1/ai-sessions/{s}/suggested-fixes/active"),
    ("post", "/api/v1/ai-sessions/{s}/suggested-fixes/{f}/decision"),
    ("post", "/api/v1/ai-sessions/{s}/suggested-fixes/{f}/apply"),
    ("patch", "/api/v1/ai-sessions/{s}/suggested-fixes/{f}/outcome"),
    ("delete", "/api/v1/ai-sessions/{s}/suggested-fixes/{f}/ai-outcome-proposal"),
    ("post", "/api/v1/ai-sessions/{s}/suggested-fixes/{f}/draft"),
    ("post", "/api/v1/ai-sessions/{s}/resolution-note/preview"),
    ("post", "/api/v1/ai-sessions/{s}/escalation-package/preview"),
    ("post", "/api/v1/ai-sessions/{s}/resolution-note/post"),
    ("post", "/api/v1/ai-sessions/{s}/escalation-package/post"),
]


class TestIdsBeyondAnyRow:
    @pytest.mark.parametrize(
        ("method", "path", "which"),
        [
            (method, path, which)
            for method, path in API_ROUTES
            for which in ("session", "fix")
            if which == "session" or "{f}" in path
        ],
    )
    def test_api_answers_404_for_an_id_no_database_row_can_have(
        self, engineer: User, api_client_for: ApiFor, method: str, path: str, which: str
    ) -> None:
        """Session or fix ids past the 64-bit range are not found (never a 500)."""
        session = make_session(engineer)
        fix = make_fix(session)
        url = path.format(
            s=HUGE if which == "session" else session.pk, f=HUGE if which == "fix" else fix.pk
        )
        response = getattr(api_client_for(engineer), method)(url, {}, format="json")
        assert response.status_code == 404
        assert "code" in response.json()

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("get", "/sessions/{s}/fix"),
            ("get", "/sessions/{s}/fix/card"),
            ("post", "/sessions/{s}/fix/{f}/apply"),
            ("post", "/sessions/{s}/fix/{f}/outcome"),
            ("post", "/sessions/{s}/fix/{f}/decision"),
            ("post", "/sessions/{s}/fix/{f}/not-yet"),
            ("post", "/sessions/{s}/preview/resolution"),
            ("post", "/sessions/{s}/post/resolution"),
        ],
    )
    def test_pages_answer_404_for_an_id_no_database_row_can_have(
        self, engineer: User, client_for: Callable[[User], Any], method: str, path: str
    ) -> None:
        """The fix pages answer 404 for such ids too (never a 500)."""
        session = make_session(engineer)
        client = client_for(engineer)
        urls = [path.format(s=HUGE, f=1)]
        if "{f}" in path:
            urls.append(path.format(s=session.pk, f=HUGE))
        for url in urls:
            assert getattr(client, method)(url).status_code == 404, url
