"""Session pages: list, new session, the chat page, streaming, lane and What we know actions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from flowpilot.llm import LLMTimeout
from flowpilot.llm.markers import format_marker
from sessions_app.models import AISession, AISessionStep, Fact, StepRole, TaskItem
from sessions_app.services import chat, steps
from sessions_app.tests.chat_support import OUTLOOK, scripted, start, tasks, version

pytestmark = pytest.mark.django_db
ClientFor = Callable[[User], Client]


def sse_events(response: Any) -> list[tuple[str, dict[str, Any]]]:
    async def collect() -> list[bytes]:
        return [chunk async for chunk in response.streaming_content]

    body = b"".join(async_to_sync(collect)()).decode()
    events = []
    for block in body.split("\n\n"):
        lines = block.strip().splitlines()
        if not lines or lines[0].startswith(":"):
            continue
        name = lines[0].removeprefix("event: ")
        events.append((name, json.loads(lines[1].removeprefix("data: "))))
    return events


def stream(client: Client, session: AISession, step: AISessionStep) -> list[tuple[str, Any]]:
    response = client.get(f"/sessions/{session.pk}/steps/{step.pk}/stream")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream"
    return sse_events(response)


class TestNewSession:
    def test_new_session_creates_and_redirects(self, engineer: User, client_for: ClientFor) -> None:
        """Posting the form creates the session with its first step and opens it."""
        client = client_for(engineer)
        response = client.post("/sessions/new", {"problem": OUTLOOK, "psa_ticket_id": "#4821"})
        session = AISession.objects.get(user=engineer)
        assert response.status_code == 302 and response["Location"] == f"/sessions/{session.pk}"
        assert session.psa_ticket_id == "4821"
        assert session.steps.get().content == OUTLOOK

    def test_empty_and_overlong_problem_are_field_errors(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """The form shows field errors and creates nothing."""
        client = client_for(engineer)
        empty = client.post("/sessions/new", {"problem": " "})
        long = client.post("/sessions/new", {"problem": "x" * (steps.MESSAGE_LIMIT + 1)})
        bad_ticket = client.post("/sessions/new", {"problem": "VPN", "psa_ticket_id": "no way!"})
        assert empty.status_code == long.status_code == bad_ticket.status_code == 200
        assert b"field-error" in empty.content and b"8,000" in long.content
        assert b"letters, digits" in bad_ticket.content
        assert not AISession.objects.exists()

    def test_viewer_cannot_start_a_session(self, viewer: User, client_for: ClientFor) -> None:
        """Viewers read; the new-session page is 403 for them."""
        assert client_for(viewer).post("/sessions/new", {"problem": "x"}).status_code == 403


class TestSessionPage:
    def test_page_shows_steps_lane_facts_and_assistant(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The page renders the chat, the lane with a copyable command and the assistant label."""
        client_ai = scripted(
            monkeypatch, "Let's see.\n" + tasks(["Webmail?"], [("Ping", "ping x")])
        )
        session = start(engineer)
        chat.run_reply(session=session, user_step=session.steps.get(), client=client_ai)
        Fact.objects.create(
            account=engineer.account, session=session, text="Only one user.", source="note"
        )
        html = client_for(engineer).get(f"/sessions/{session.pk}").content.decode()
        assert "Let&#x27;s see." in html or "Let's see." in html
        assert "Webmail?" in html and "ping x" in html and "data-copy" in html
        assert "Only one user." in html and "What we know" in html
        assert "Scripted test assistant" in html
        assert "_fix_panel" not in html  # the fix panel include rendered, not shown as text

    def test_model_output_cannot_inject_html(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Scripts, handlers, javascript: links and images from the model are neutralised."""
        evil = (
            "Hi <script>alert('x')</script> <img src=https://evil.example/a.png onerror=alert(1)>"
            " [click](javascript:alert(1)) <a href='https://ok.example' onclick='x()'>ok</a>"
            '\n\n<iframe src="https://evil.example"></iframe>'
        )
        client_ai = scripted(monkeypatch, evil)
        session = start(engineer)
        chat.run_reply(session=session, user_step=session.steps.get(), client=client_ai)
        html = client_for(engineer).get(f"/sessions/{session.pk}").content.decode()
        chat_html = html.split('data-testid="chat-log">')[1].split('<form class="composer"')[0]
        assert "<script>alert" not in chat_html and "onerror" not in chat_html
        assert "<img" not in chat_html and "javascript:" not in chat_html
        assert "<iframe" not in chat_html and "onclick" not in chat_html
        assert 'href="https://ok.example"' in chat_html

    def test_engineer_text_is_escaped(self, engineer: User, client_for: ClientFor) -> None:
        """The engineer's own message is shown as text, never as HTML."""
        session = start(engineer, "<b>bold</b><script>x()</script>")
        html = client_for(engineer).get(f"/sessions/{session.pk}").content.decode()
        assert "&lt;script&gt;x()" in html and "<script>x()" not in html

    @pytest.mark.parametrize("session_id", ["0", "999999999", str(2**63), str(2**80)])
    def test_an_unknown_or_out_of_range_id_is_404(
        self, engineer: User, client_for: ClientFor, session_id: str
    ) -> None:
        client = client_for(engineer)
        assert client.get(f"/sessions/{session_id}").status_code == 404
        assert client.get(f"/sessions/{session_id}/lane").status_code == 404

    def test_a_viewer_reads_the_accounts_newest_sessions_in_the_sidebar(
        self, engineer: User, viewer: User, stranger: User, client_for: ClientFor
    ) -> None:
        session = start(engineer, "Printer offline")
        start(stranger, "Not this account")
        html = client_for(viewer).get(f"/sessions/{session.pk}").content.decode()
        sidebar = html.split('data-testid="sessions-sidebar"', 1)[1].split("</nav>", 1)[0]
        assert "Printer offline" in sidebar and "Not this account" not in sidebar

    def test_foreign_session_is_404_and_viewer_reads_without_composer(
        self, engineer: User, viewer: User, stranger: User, client_for: ClientFor
    ) -> None:
        """Another account's session is 404; a viewer reads it with no composer."""
        session = start(engineer)
        assert client_for(stranger).get(f"/sessions/{session.pk}").status_code == 404
        html = client_for(viewer).get(f"/sessions/{session.pk}").content.decode()
        assert 'id="composer"' not in html and "You can read this session" in html

    @pytest.mark.parametrize("steps", [5, 100])
    def test_query_count_is_flat(
        self,
        engineer: User,
        client_for: ClientFor,
        steps: int,
        django_assert_max_num_queries: Any,
        django_assert_num_queries: Any,
    ) -> None:
        """The page costs the same queries at 5 and 100 steps: 9 (bench budget 10)."""
        session = start(engineer)
        for index in range(steps - 1):
            AISessionStep.objects.create(
                account=engineer.account,
                session=session,
                role=StepRole.ASSISTANT if index % 2 == 0 else StepRole.USER,
                content=f"**step** {index}",
                author=None if index % 2 == 0 else engineer,
            )
        for kind, text in (("question", "Q?"), ("check", "C"), ("action", "A")):
            TaskItem.objects.create(account=engineer.account, session=session, kind=kind, text=text)
        Fact.objects.create(account=engineer.account, session=session, text="F", source="note")
        client = client_for(engineer)
        client.get(f"/sessions/{session.pk}")  # warm caches (content types, templates)
        with django_assert_num_queries(8) as ctx:
            response = client.get(f"/sessions/{session.pk}")
        assert response.status_code == 200
        PAGE_QUERIES[steps] = len(ctx.captured_queries)
        if len(PAGE_QUERIES) == 2:
            assert PAGE_QUERIES[5] == PAGE_QUERIES[100]

    def test_every_author_is_named_without_a_query_per_step(
        self, engineer: User, teammate: User, admin_user: User, client_for: ClientFor
    ) -> None:
        """A picked-up session: the engineer's and the reader's steps cost no query for their
        authors, other people's one query whatever their steps; every step shows its author."""
        session = start(engineer)
        AISession.objects.filter(pk=session.pk).update(escalated_to=teammate, status="escalated")
        client = client_for(teammate)
        counts = []
        for authors in ((engineer, teammate), (admin_user,), (admin_user, engineer)):
            for author in authors * 3:
                AISessionStep.objects.create(
                    account=engineer.account,
                    session=session,
                    role=StepRole.USER,
                    content=f"From {author.email}",
                    author=author,
                )
            client.get(f"/sessions/{session.pk}")
            with CaptureQueriesContext(connection) as ctx:
                html = client.get(f"/sessions/{session.pk}").content.decode()
            counts.append(len(ctx.captured_queries))
        assert counts[1] == counts[0] + 1 and counts[2] == counts[1]
        for author in (engineer, teammate, admin_user):
            assert html.count(f'<span class="step-who">{author.display_name}</span>') >= 3


PAGE_QUERIES: dict[int, int] = {}


class TestStreaming:
    def test_stream_sends_tokens_then_done_with_lane(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Tokens arrive without markers; done carries the sanitised step and the new lane."""
        scripted(
            monkeypatch,
            "Thanks, checking **Outlook** now.\n" + tasks(["Webmail works?"]),
            chunk_size=1,
        )
        session = start(engineer)
        events = stream(client_for(engineer), session, session.steps.get())
        names = [name for name, _ in events]
        assert names[-1] == "done" and names.count("token") >= 3
        streamed = "".join(data["text"] for name, data in events if name == "token")
        assert "[TASKS]" not in streamed and streamed.startswith("Thanks, checking")
        done = events[-1][1]
        assert "<strong>Outlook</strong>" in done["html"] and "Webmail works?" in done["lane_html"]
        assert session.steps.filter(role="assistant").count() == 1

    def test_stream_failure_keeps_step_and_retry_stream_answers_once(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A mid-stream error sends `fail`; re-opening the stream answers the same step once."""
        client_ai = scripted(
            monkeypatch, "Part one and more words here", fail_after_chunks=1,
            error_mid_stream=LLMTimeout("slow"),
        )  # fmt: skip
        session = start(engineer)
        step = session.steps.get()
        client = client_for(engineer)
        events = stream(client, session, step)
        assert events[-1][0] == "fail" and events[-1][1]["code"] == "llm_timeout"
        assert list(session.steps.values_list("role", flat=True)) == ["user"]
        client_ai.fail_after_chunks = None
        client_ai.queue("Recovered answer.")
        events = stream(client, session, step)
        assert events[-1][0] == "done"
        again = stream(client, session, step)
        assert [name for name, _ in again] == ["done"]
        assert session.steps.filter(role="assistant").count() == 1
        assert len(client_ai.requests) == 2

    def test_stream_404_and_403(
        self, engineer: User, viewer: User, stranger: User, client_for: ClientFor
    ) -> None:
        """A stranger gets 404, a viewer 403, and nothing is answered."""
        session = start(engineer)
        step = session.steps.get()
        url = f"/sessions/{session.pk}/steps/{step.pk}/stream"
        assert client_for(stranger).get(url).status_code == 404
        assert client_for(viewer).get(url).status_code == 403
        assert (
            client_for(engineer).get(f"/sessions/{session.pk}/steps/999999/stream").status_code
            == 404
        )
        assert session.steps.count() == 1


class TestSendAndLane:
    def test_htmx_send_returns_step_and_stream_placeholder(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        """HTMX send saves the step and answers its bubble plus a streaming placeholder."""
        session = start(engineer)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/messages", {"content": "Webmail works"}, HTTP_HX_REQUEST="true"
        )
        step = session.steps.order_by("-pk").first()
        assert step is not None and step.content == "Webmail works"
        assert f"/steps/{step.pk}/stream" in response.content.decode()

    def test_send_errors_are_field_errors(self, engineer: User, client_for: ClientFor) -> None:
        """Empty and over-long messages come back as composer errors; nothing is saved."""
        session = start(engineer)
        client = client_for(engineer)
        for content in ("", "x" * (steps.MESSAGE_LIMIT + 1)):
            response = client.post(
                f"/sessions/{session.pk}/messages", {"content": content}, HTTP_HX_REQUEST="true"
            )
            assert response["HX-Retarget"] == "#composer-error"
            assert b"field-error" in response.content
        assert session.steps.count() == 1

    def test_plain_send_runs_the_turn(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without JavaScript the form runs a blocking turn and redirects back."""
        scripted(monkeypatch, "Reply one.", "Reply two.")
        session = start(engineer)
        client = client_for(engineer)
        client.post(f"/sessions/{session.pk}/retry")
        response = client.post(f"/sessions/{session.pk}/messages", {"content": "next"})
        assert response.status_code == 302
        assert list(session.steps.values_list("content", flat=True)) == [
            OUTLOOK, "Reply one.", "next", "Reply two.",
        ]  # fmt: skip

    def test_send_403_and_404(
        self, engineer: User, viewer: User, stranger: User, teammate: User, client_for: ClientFor
    ) -> None:
        """Viewer 403, a teammate who did not pick it up 403, stranger 404."""
        session = start(engineer)
        url = f"/sessions/{session.pk}/messages"
        assert client_for(viewer).post(url, {"content": "x"}).status_code == 403
        assert client_for(teammate).post(url, {"content": "x"}).status_code == 403
        assert client_for(stranger).post(url, {"content": "x"}).status_code == 404
        assert session.steps.count() == 1

    def test_tick_answer_promote_and_edit_note_via_htmx(
        self, engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Tick, promote (synthesised), add and edit a note; fact changes fire session-changed."""
        client_ai = scripted(
            monkeypatch, tasks(["Webmail?"], [("Ping Exchange", "Test-NetConnection")]),
            "The PC reaches Exchange.",
        )  # fmt: skip
        session = start(engineer)
        chat.run_reply(session=session, user_step=session.steps.get(), client=client_ai)
        check = TaskItem.objects.get(kind="check")
        client = client_for(engineer)
        hx: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
        base = f"/sessions/{session.pk}"
        tick = client.post(f"{base}/lane/{check.uid}", {"done": ["0", "1"]}, **hx)
        check.refresh_from_db()
        assert check.status == "done" and "session-changed" not in tick.get("HX-Trigger", "")
        v0 = version(session)
        promoted = client.post(f"{base}/lane/{check.uid}/promote", {"answer": ""}, **hx)
        assert "session-changed" in promoted["HX-Trigger"]
        fact = Fact.objects.get(session=session)
        assert fact.text == "The PC reaches Exchange." and fact.source == "check"
        assert "The PC reaches Exchange." in promoted.content.decode()
        assert version(session) == v0 + 1
        client.post(f"{base}/facts", {"text": "User is on hotel Wi-Fi"}, **hx)
        note = Fact.objects.get(source="note")
        editor = client.get(f"{base}/facts/{note.pk}", **hx)
        assert b"<textarea" in editor.content
        client.post(f"{base}/facts/{note.pk}", {"text": "User is on home Wi-Fi"}, **hx)
        note.refresh_from_db()
        assert note.text == "User is on home Wi-Fi"
        refused = client.post(f"{base}/facts/{fact.pk}", {"text": "changed"}, **hx)
        assert "edit its answer" in refused.content.decode()
        fact.refresh_from_db()
        assert fact.text == "The PC reaches Exchange."
        client.post(f"{base}/facts/{note.pk}/delete", **hx)
        note.refresh_from_db()
        assert note.deleted_at is not None
        assert version(session) == v0 + 4

    def test_lane_and_fact_actions_403_404(
        self, engineer: User, viewer: User, stranger: User, client_for: ClientFor
    ) -> None:
        """Viewers get 403 on every write, strangers 404; a bad uid is 404."""
        session = start(engineer)
        item = TaskItem.objects.create(
            account=engineer.account, session=session, kind="question", text="Q?"
        )
        fact = Fact.objects.create(
            account=engineer.account, session=session, text="F", source="note"
        )
        base = f"/sessions/{session.pk}"
        urls = [
            f"{base}/lane/{item.uid}", f"{base}/lane/{item.uid}/promote", f"{base}/facts",
            f"{base}/facts/{fact.pk}", f"{base}/facts/{fact.pk}/delete", f"{base}/ticket",
        ]  # fmt: skip
        for url in urls:
            assert client_for(viewer).post(url, {"text": "x"}).status_code == 403, url
            assert client_for(stranger).post(url, {"text": "x"}).status_code == 404, url
        assert (
            client_for(engineer).post(f"{base}/lane/not-a-uuid", {"done": "1"}).status_code == 404
        )
        fact.refresh_from_db()
        assert fact.text == "F" and fact.deleted_at is None


class TestListAndDashboard:
    def test_sidebar_lists_mine_and_picked_up_with_badges(
        self, engineer: User, teammate: User, client_for: ClientFor,
        django_assert_max_num_queries: Any,
    ) -> None:  # fmt: skip
        """The sidebar shows my sessions and those I picked up, with ticket and status pills."""
        mine = start(engineer, "Printer offline")
        AISession.objects.filter(pk=mine.pk).update(psa_ticket_id="4821")
        picked = start(teammate, "VPN drops")
        AISession.objects.filter(pk=picked.pk).update(escalated_to=engineer, status="escalated")
        start(teammate, "Not mine")
        client = client_for(engineer)
        with django_assert_max_num_queries(8):
            html = client.get("/sessions").content.decode()
        assert "Printer offline" in html and "#4821" in html
        assert "VPN drops" in html and "Escalated" in html and "Picked up" in html
        assert "Not mine" not in html

    def test_ticket_link(self, engineer: User, client_for: ClientFor) -> None:
        """Linking a ticket stores it and bumps state_version; bad ids are refused."""
        session = start(engineer)
        client = client_for(engineer)
        v0 = version(session)
        client.post(f"/sessions/{session.pk}/ticket", {"psa_ticket_id": "#9912"})
        client.post(f"/sessions/{session.pk}/ticket", {"psa_ticket_id": "bad id!"})
        session.refresh_from_db()
        assert session.psa_ticket_id == "9912" and version(session) == v0 + 1


def test_promote_marker_fact_shows_in_page(
    engineer: User, client_for: ClientFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fact promoted by the assistant appears in What we know."""
    client_ai = scripted(monkeypatch, format_marker("PROMOTE", {"text": "MFA is enforced."}))
    session = start(engineer)
    chat.run_reply(session=session, user_step=session.steps.get(), client=client_ai)
    assert (
        "MFA is enforced." in client_for(engineer).get(f"/sessions/{session.pk}").content.decode()
    )
