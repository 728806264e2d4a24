"""A resolved session is read-only (409 session_closed) until its engineer reopens it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, User
from sessions_app.models import AISession, Fact, SessionStatus
from sessions_app.tests.test_fixes import make_session

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]


def resolved(user: User) -> AISession:
    session = make_session(user)
    AISession.objects.filter(pk=session.pk).update(
        status=SessionStatus.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note="Restarted the spooler.",
    )
    session.refresh_from_db()
    return session


def reopen_url(session: AISession) -> str:
    return f"/api/v1/ai-sessions/{session.pk}/reopen"


class TestReopenApi:
    def test_engineer_reopens_with_a_reason(self, engineer: User, api_client_for: ApiFor) -> None:
        session = resolved(engineer)
        before = session.state_version
        response = api_client_for(engineer).post(
            reopen_url(session), {"reason": "The printer jams again"}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "active"
        session.refresh_from_db()
        assert session.status == SessionStatus.ACTIVE
        assert session.resolved_at is None
        assert session.state_version == before + 2  # the reopen, then the note
        note = Fact.objects.get(session=session)
        assert note.text == "Reopened: The printer jams again"
        event = AuditEvent.objects.get(type="session.reopened")
        assert event.payload == {"session_id": session.pk, "reason": "The printer jams again"}

    def test_whoever_picked_it_up_may_reopen(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        session = resolved(engineer)
        AISession.objects.filter(pk=session.pk).update(escalated_to=teammate)
        response = api_client_for(teammate).post(
            reopen_url(session), {"reason": "Back again"}, format="json"
        )
        assert response.status_code == 200

    def test_only_a_resolved_session_reopens(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        response = api_client_for(engineer).post(
            reopen_url(session), {"reason": "why not"}, format="json"
        )
        assert (response.status_code, response.json()["code"]) == (409, "not_resolved")

    def test_a_reason_is_required(self, engineer: User, api_client_for: ApiFor) -> None:
        session = resolved(engineer)
        for body in ({}, {"reason": "   "}, {"reason": "x" * 501}):
            response = api_client_for(engineer).post(reopen_url(session), body, format="json")
            assert response.status_code == 422, body
        session.refresh_from_db()
        assert session.status == SessionStatus.RESOLVED

    def test_viewer_403_teammate_403_stranger_404(
        self, engineer: User, teammate: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = resolved(engineer)
        body = {"reason": "again"}
        denied = api_client_for(viewer).post(reopen_url(session), body, format="json")
        assert denied.status_code == 403
        assert denied.json()["detail"] == "Engineer or admin access required"
        other = api_client_for(teammate).post(reopen_url(session), body, format="json")
        assert other.status_code == 403
        foreign = api_client_for(stranger).post(reopen_url(session), body, format="json")
        assert foreign.status_code == 404
        session.refresh_from_db()
        assert session.status == SessionStatus.RESOLVED


class TestReadOnlyWhileResolved:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("post", "messages", {"content": "Still broken?"}),
            ("post", "messages/retry", {}),
            ("post", "facts", {"text": "A note"}),
            ("post", "facts/promote", {"task_item_id": "00000000-0000-0000-0000-000000000000"}),
            ("patch", "", {"psa_ticket_id": "4821"}),
        ],
    )
    def test_writes_answer_409_session_closed(
        self,
        engineer: User,
        api_client_for: ApiFor,
        method: str,
        path: str,
        body: dict[str, str],
    ) -> None:
        session = resolved(engineer)
        url = f"/api/v1/ai-sessions/{session.pk}" + (f"/{path}" if path else "")
        response = getattr(api_client_for(engineer), method)(url, body, format="json")
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "session_closed"
        assert not Fact.objects.filter(session=session).exists()

    def test_reads_still_work(self, engineer: User, viewer: User, api_client_for: ApiFor) -> None:
        session = resolved(engineer)
        for user in (engineer, viewer):
            client = api_client_for(user)
            assert client.get(f"/api/v1/ai-sessions/{session.pk}").status_code == 200
            assert client.get(f"/api/v1/ai-sessions/{session.pk}/facts").status_code == 200


class TestPage:
    def test_resolved_page_hides_controls_and_offers_reopen(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        session = resolved(engineer)
        page = client_for(engineer)
        html = page.get(f"/sessions/{session.pk}").content.decode()
        assert 'data-testid="composer"' not in html
        assert 'data-testid="reopen"' in html
        assert "this session is read-only" in html
        assert "Restarted the spooler." in html
        response = page.post(f"/sessions/{session.pk}/reopen", {"reason": "Jams again"})
        assert response.status_code == 302
        after = page.get(response["Location"]).content.decode()
        assert 'data-testid="composer"' in after
        assert "Reopened: Jams again" in after

    def test_a_viewer_sees_no_reopen_button(
        self, engineer: User, viewer: User, client_for: Callable[[User], Client]
    ) -> None:
        session = resolved(engineer)
        html = client_for(viewer).get(f"/sessions/{session.pk}").content.decode()
        assert 'data-testid="reopen"' not in html
        assert "this session is read-only" in html

    def test_a_page_write_on_a_resolved_session_is_refused_not_a_500(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        session = resolved(engineer)
        page = client_for(engineer)
        plain = page.post(
            f"/sessions/{session.pk}/facts",
            {"text": "late note"},
            HTTP_REFERER=f"http://testserver/sessions/{session.pk}",
        )
        assert plain.status_code == 302
        assert plain["Location"] == f"http://testserver/sessions/{session.pk}"
        htmx = page.post(
            f"/sessions/{session.pk}/messages", {"content": "hi"}, HTTP_HX_REQUEST="true"
        )
        assert htmx.status_code == 200
        assert htmx["HX-Reswap"] == "none"
        assert "session_closed" not in htmx["HX-Trigger"]
        assert "read-only" in htmx["HX-Trigger"]
        assert not Fact.objects.filter(session=session).exists()


class TestViewerSessionList:
    def test_viewer_lists_the_accounts_sessions_filtered_with_flat_queries(
        self,
        engineer: User,
        teammate: User,
        viewer: User,
        stranger: User,
        client_for: Callable[[User], Client],
    ) -> None:
        mine = make_session(engineer, "Outlook keeps asking for a password")
        resolved(teammate)
        make_session(stranger, "Someone else's printer")
        page = client_for(viewer)
        page.get("/sessions")
        with CaptureQueriesContext(connection) as few:
            html = page.get("/sessions").content.decode()
        assert "Outlook keeps asking for a password" in html
        assert html.count("data-session-id=") >= 2
        assert "Someone else" not in html
        assert "No sessions yet" not in html
        assert 'href="/sessions/new"' not in html
        only_jane = page.get(f"/sessions?engineer={engineer.pk}").content.decode()
        assert f'data-session-id="{mine.pk}"' in only_jane
        assert "Sam Patel</td>" not in only_jane
        done = page.get("/sessions?status=resolved").content.decode()
        assert f'data-session-id="{mine.pk}"' not in done
        for index in range(15):
            make_session(engineer, f"Problem {index}")
        with CaptureQueriesContext(connection) as many:
            page.get("/sessions")
        assert len(many.captured_queries) == len(few.captured_queries)
        assert page.get("/sessions?engineer=x&before=99999999999999999999").status_code == 200


class TestReopenLivePush:
    """Reopening pushes the new status to the other tabs of the people on the session."""

    def test_the_engineer_and_whoever_picked_it_up_are_told_after_commit(
        self,
        engineer: User,
        teammate: User,
        api_client_for: ApiFor,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        session = resolved(engineer)
        AISession.objects.filter(pk=session.pk).update(escalated_to=teammate)
        with mock.patch("sessions_app.realtime.publish", autospec=True) as publish:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                response = api_client_for(teammate).post(
                    reopen_url(session), {"reason": "It jams again"}, format="json"
                )
            assert response.status_code == 200
            assert publish.call_count == 0  # nothing leaves before the commit
            for callback in callbacks:
                callback()
        groups = sorted(call.args[0] for call in publish.call_args_list)
        assert groups == sorted([f"user.{engineer.pk}", f"user.{teammate.pk}"])
        payload = publish.call_args_list[0].args[2]
        assert publish.call_args_list[0].args[1] == "session_status"
        assert payload["session_id"] == session.pk and payload["status"] == "active"
        html = payload["html"]
        assert f'id="session-{session.pk}-pill-head" hx-swap-oob="innerHTML"' in html
        assert f'id="session-{session.pk}-pill-row" hx-swap-oob="innerHTML"' in html
        assert ">Active</span>" in html
        assert "Sam Patel reopened this session: It jams again" in html

    def test_the_page_holds_the_targets_the_push_swaps(
        self, engineer: User, client_for: Callable[[User], Client]
    ) -> None:
        session = resolved(engineer)
        html = client_for(engineer).get(f"/sessions/{session.pk}").content.decode()
        for suffix in ("pill-head", "pill-row", "notice"):
            assert f'id="session-{session.pk}-{suffix}"' in html
