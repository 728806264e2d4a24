"""Posting the resolution note (resolve) and the escalation package (escalate), locally."""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import AuditEvent, User
from flowpilot.errors import Conflict
from flowpilot.llm import LLMRequest, LLMResult, get_llm_client
from sessions_app.models import AISession, SessionStatus
from sessions_app.services import fixes, resolution
from sessions_app.tests.test_fixes import make_fix, make_session

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]


def url(session: AISession, kind: str) -> str:
    return f"/api/v1/ai-sessions/{session.pk}/{kind}/post"


class TestResolve:
    def test_post_stores_the_edited_note_and_resolves(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        before = session.state_version
        note = "## Problem\n\nPrinter stuck.\n\n## Resolution\n\nRestarted the spooler (edited)."
        response = api_client_for(engineer).post(
            url(session, "resolution-note"), {"markdown": note}, format="json"
        )
        assert response.status_code == 200
        body = response.json()
        assert body["outcome"] == "resolved_local"
        assert body["status"] == "resolved"
        session.refresh_from_db()
        assert session.status == SessionStatus.RESOLVED
        assert session.resolution_note == note
        assert session.resolved_at is not None
        assert session.state_version == before + 1
        assert AuditEvent.objects.filter(type="session.resolved", actor=engineer).count() == 1

    def test_repost_on_a_resolved_session_is_409(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        client = api_client_for(engineer)
        client.post(url(session, "resolution-note"), {"markdown": "First"}, format="json")
        again = client.post(url(session, "resolution-note"), {"markdown": "Second"}, format="json")
        assert again.status_code == 409
        assert again.json()["code"] == "already_resolved"
        session.refresh_from_db()
        assert session.resolution_note == "First"

    def test_empty_markdown_posts_the_current_preview(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        fixes.record_outcome(session=session, fix=fix, outcome="applied_success", actor=engineer)
        session.refresh_from_db()
        result = resolution.post_resolution_note(session=session, actor=engineer, markdown="")
        assert "The issue is resolved" in result.markdown
        session.refresh_from_db()
        assert session.resolution_note == result.markdown

    def test_an_escalated_session_can_be_resolved(self, engineer: User) -> None:
        session = make_session(engineer)
        resolution.escalate_session(session=session, actor=engineer, markdown="pkg")
        result = resolution.post_resolution_note(session=session, actor=engineer, markdown="ok")
        assert result.session.status == SessionStatus.RESOLVED

    def test_too_long_is_422(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        response = api_client_for(engineer).post(
            url(session, "resolution-note"), {"markdown": "x" * 60_000}, format="json"
        )
        assert response.status_code == 422
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE

    def test_viewer_403_teammate_403_stranger_404(
        self,
        engineer: User,
        viewer: User,
        teammate: User,
        stranger: User,
        api_client_for: ApiFor,
    ) -> None:
        session = make_session(engineer)
        body = {"markdown": "x"}
        target = url(session, "resolution-note")
        assert api_client_for(viewer).post(target, body, format="json").status_code == 403
        assert api_client_for(teammate).post(target, body, format="json").status_code == 403
        assert api_client_for(stranger).post(target, body, format="json").status_code == 404
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE


class TestEscalate:
    def test_post_escalates_and_stores_the_package(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        response = api_client_for(engineer).post(
            url(session, "escalation-package"),
            {"markdown": "## Problem\n\nEdited package", "reason": "Needs domain admin rights"},
            format="json",
        )
        assert response.status_code == 200
        body = response.json()
        assert body["outcome"] == "escalated_local"
        assert body["escalation_reason"] == "Needs domain admin rights"
        session.refresh_from_db()
        assert session.status == SessionStatus.ESCALATED
        assert session.escalation_reason == "Needs domain admin rights"
        assert session.escalation_package["markdown"] == "## Problem\n\nEdited package"
        assert session.escalation_package["reason"] == "Needs domain admin rights"
        assert session.escalated_at is not None

    def test_without_markdown_the_generated_package_is_stored(self, engineer: User) -> None:
        session = make_session(engineer)
        result = resolution.escalate_session(session=session, actor=engineer)
        assert "## Suggested next steps" in result.markdown
        session.refresh_from_db()
        assert "## What we've tried" in session.escalation_package["markdown"]

    def test_escalating_a_resolved_or_escalated_session_is_409(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        client = api_client_for(engineer)
        assert client.post(url(session, "escalation-package"), {"markdown": "p"}).status_code == 200
        again = client.post(url(session, "escalation-package"), {"markdown": "p"})
        assert again.status_code == 409
        assert again.json()["code"] == "already_escalated"
        resolved = make_session(engineer)
        resolution.post_resolution_note(session=resolved, actor=engineer, markdown="done")
        with pytest.raises(Conflict):
            resolution.escalate_session(session=resolved, actor=engineer, markdown="p")

    def test_viewer_403_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        target = url(session, "escalation-package")
        assert api_client_for(viewer).post(target, {"markdown": "p"}).status_code == 403
        assert api_client_for(stranger).post(target, {"markdown": "p"}).status_code == 404
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE


class TestModelOutsideTheTransaction:
    @pytest.mark.django_db(transaction=True)
    @pytest.mark.parametrize("kind", ["resolution", "escalation"])
    def test_the_text_is_written_before_the_transaction_opens(
        self, engineer: User, kind: str
    ) -> None:
        """With nothing edited the model writes the text, and no transaction is open while it
        does (a slow model must not hold a database transaction); the post still lands."""
        session = make_session(engineer)
        in_transaction: list[bool] = []
        offline = get_llm_client(provider="offline")

        class Spy:
            def complete(self, request: LLMRequest) -> LLMResult:
                in_transaction.append(connection.in_atomic_block)
                return offline.complete(request)

        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=Spy()):
            if kind == "resolution":
                result = resolution.post_resolution_note(session=session, actor=engineer)
            else:
                result = resolution.escalate_session(session=session, actor=engineer)

        # Every model call (the note or package, and an escalation's assessment) ran outside.
        assert in_transaction and not any(in_transaction)
        session.refresh_from_db()
        expected = SessionStatus.RESOLVED if kind == "resolution" else SessionStatus.ESCALATED
        assert session.status == expected
        assert result.markdown.startswith("## Problem")

    def test_a_known_closed_session_is_refused_without_a_model_call(self, engineer: User) -> None:
        """Re-posting on a session already resolved answers 409 before any preview is built."""
        session = make_session(engineer)
        resolution.post_resolution_note(session=session, actor=engineer, markdown="done")
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True) as llm:
            with pytest.raises(Conflict) as resolved:
                resolution.post_resolution_note(session=session, actor=engineer)
            with pytest.raises(Conflict) as escalated:
                resolution.escalate_session(session=session, actor=engineer)
        assert llm.call_count == 0
        assert resolved.value.code == "already_resolved"
        assert escalated.value.code == "already_resolved"
