"""Institutional memory: indexing, similar sessions, search, reusing a fix, privacy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from sessions_app.memory import selectors, text
from sessions_app.memory.corpus import SESSIONS
from sessions_app.memory.history import record_past_session
from sessions_app.memory.indexing import index_session
from sessions_app.memory_models import SessionSearchDocument, SessionSearchTerm
from sessions_app.models import (
    AISession,
    AISessionStep,
    Fact,
    FixStatus,
    SessionStatus,
    StepRole,
    SuggestedFix,
)
from sessions_app.services import sessions

pytestmark = pytest.mark.django_db
BY_KEY = {past.key: past for past in SESSIONS}


def _past(user: User, key: str, *, index: bool = True) -> AISession:
    session = record_past_session(user=user, past=BY_KEY[key])
    if index:
        index_session(session_id=session.pk)
    return session


@pytest.fixture
def history(engineer: User) -> dict[str, AISession]:
    return {key: _past(engineer, key) for key in ("outlook-password", "outlook-ost", "vpn-dpd")}


@pytest.fixture
def current(engineer: User) -> AISession:
    session, _ = sessions.create_session(
        user=engineer, problem="Outlook keeps asking for the password after the password change"
    )
    return session


class TestIndexing:
    def test_resolving_queues_indexing_on_commit(
        self, engineer: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            session = _past(engineer, "print-spooler", index=False)
        doc = SessionSearchDocument.objects.get(session=session)
        assert doc.outcome == FixStatus.APPLIED_SUCCESS
        assert doc.fix_title == "Clear the spool folder and restart the spooler"
        assert "Event 7031" in doc.facts_text
        assert doc.engineer_id == engineer.pk

    def test_indexing_is_idempotent(self, engineer: User) -> None:
        session = _past(engineer, "vpn-dpd")
        counts = dict(SessionSearchTerm.objects.values_list("term", "doc_count"))
        assert index_session(session_id=session.pk) == "indexed"
        assert index_session(session_id=session.pk) == "indexed"
        assert SessionSearchDocument.objects.filter(session=session).count() == 1
        assert dict(SessionSearchTerm.objects.values_list("term", "doc_count")) == counts
        assert counts["fortigate"] == 1 and counts["#docs"] == 1

    def test_reopened_session_leaves_the_index_and_returns_when_resolved(
        self, engineer: User
    ) -> None:
        session = _past(engineer, "vpn-dpd")
        AISession.objects.filter(pk=session.pk).update(status=SessionStatus.ACTIVE)
        assert index_session(session_id=session.pk) == "removed"
        assert not selectors.search(
            engineer.account_id, "fortigate dpd", filters=selectors.SearchFilters()
        ).matches
        assert not SessionSearchTerm.objects.filter(term="fortigate").exists()
        AISession.objects.filter(pk=session.pk).update(status=SessionStatus.RESOLVED)
        assert index_session(session_id=session.pk) == "indexed"
        page = selectors.search(
            engineer.account_id, "fortigate dpd", filters=selectors.SearchFilters()
        )
        assert [m.session_id for m in page.matches] == [session.pk]

    def test_reopening_through_the_service_removes_the_document(
        self, engineer: User, django_capture_on_commit_callbacks: Any
    ) -> None:
        session = _past(engineer, "vpn-dpd")
        with django_capture_on_commit_callbacks(execute=True):
            sessions.reopen_session(session=session, actor=engineer, reason="Broken again")
        assert not SessionSearchDocument.objects.filter(session=session).exists()

    def test_deleted_session_leaves_the_index(self, engineer: User) -> None:
        session = _past(engineer, "vpn-dpd")
        session.delete()
        assert not SessionSearchDocument.objects.exists()
        assert not SessionSearchTerm.objects.filter(term="fortigate").exists()
        assert not selectors.search(
            engineer.account_id, "fortigate", filters=selectors.SearchFilters()
        ).matches

    def test_script_secrets_are_not_indexed(self, engineer: User) -> None:
        session = _past(engineer, "backup-cred")
        doc = SessionSearchDocument.objects.get(session=session)
        assert "Winter2026" not in doc.other_text
        assert "[redacted]" in doc.other_text
        assert not SessionSearchTerm.objects.filter(term__icontains="winter2026").exists()

    def test_failed_fix_is_remembered_as_tried(self, engineer: User) -> None:
        session = _past(engineer, "vpn-dpd")
        doc = SessionSearchDocument.objects.get(session=session)
        assert doc.fix_title == "Raise FortiGate DPD retry interval"
        assert [item["title"] for item in doc.failed_fixes] == ["Reinstall FortiClient"]


class TestSimilarApi:
    def test_similar_lists_past_sessions_never_itself(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        history: dict[str, AISession],
        current: AISession,
    ) -> None:
        response = api_client_for(engineer).get(f"/api/v1/ai-sessions/{current.pk}/similar")
        assert response.status_code == 200
        results = response.json()["results"]
        assert results[0]["session_id"] == history["outlook-password"].pk
        first = results[0]
        assert set(first) >= {
            "session_id",
            "problem",
            "outcome",
            "fix_title",
            "resolved_by",
            "resolved_at",
            "score",
            "why",
        }
        assert first["fix_title"] == "Clear cached Office credentials"
        assert first["outcome"] == "applied_success"
        assert first["resolved_by"]["name"] == engineer.display_name
        assert "password" in first["why"]
        assert first["failed_fixes"][0]["title"] == "Repair the Office installation"
        assert current.pk not in [item["session_id"] for item in results]
        assert len(results) <= 5

    def test_the_query_reads_first_message_and_live_facts_at_once(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        history: dict[str, AISession],
        current: AISession,
        django_assert_num_queries: Any,
        django_assert_max_num_queries: Any,
    ) -> None:
        source = history["outlook-password"]
        facts = list(Fact.objects.live_in(source))
        assert len(facts) >= 2
        facts[0].deleted_at = timezone.now()
        facts[0].save(update_fields=["deleted_at"])
        first = (
            AISessionStep.objects.filter(session=source, role=StepRole.USER).order_by("pk").first()
        )
        assert first is not None
        with django_assert_num_queries(1):
            found = selectors.first_message_and_facts(source)
        assert found == (first.content, [fact.text for fact in facts[1:]])
        client = api_client_for(engineer)
        # Authentication (2) + the session (1) + its texts (1) + lexicon (1) + candidates (1).
        with django_assert_max_num_queries(6):
            response = client.get(f"/api/v1/ai-sessions/{current.pk}/similar")
        assert response.json()["results"][0]["session_id"] == source.pk

    def test_a_resolved_session_is_not_similar_to_itself(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        history: dict[str, AISession],
    ) -> None:
        source = history["vpn-dpd"]
        response = api_client_for(engineer).get(f"/api/v1/ai-sessions/{source.pk}/similar")
        assert source.pk not in [item["session_id"] for item in response.json()["results"]]

    def test_viewer_reads_stranger_gets_404(
        self,
        api_client_for: Callable[[User], APIClient],
        viewer: User,
        stranger: User,
        history: dict[str, AISession],
        current: AISession,
    ) -> None:
        url = f"/api/v1/ai-sessions/{current.pk}/similar"
        assert api_client_for(viewer).get(url).status_code == 200
        assert api_client_for(stranger).get(url).status_code == 404

    def test_foreign_identical_session_never_appears(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        stranger: User,
        current: AISession,
    ) -> None:
        foreign = _past(stranger, "outlook-password")
        response = api_client_for(engineer).get(f"/api/v1/ai-sessions/{current.pk}/similar")
        assert response.json()["results"] == []
        search = api_client_for(engineer).get(
            "/api/v1/ai-sessions/search", {"q": "outlook password"}
        )
        assert search.json()["results"] == []
        theirs = api_client_for(stranger).get(
            "/api/v1/ai-sessions/search", {"q": "outlook password"}
        )
        assert [r["session_id"] for r in theirs.json()["results"]] == [foreign.pk]


class TestSearchApi:
    def test_search_finds_by_words_with_typos(
        self,
        api_client_for: Callable[[User], APIClient],
        viewer: User,
        history: dict[str, AISession],
    ) -> None:
        response = api_client_for(viewer).get("/api/v1/ai-sessions/search", {"q": "fortigte dpd"})
        assert response.status_code == 200
        body = response.json()
        assert body["results"][0]["session_id"] == history["vpn-dpd"].pk
        assert body["corrections"] == {"fortigte": "fortigate"}

    def test_filters(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        teammate: User,
        history: dict[str, AISession],
    ) -> None:
        mine = _past(teammate, "outlook-connecting")
        client = api_client_for(engineer)
        url = "/api/v1/ai-sessions/search"

        def ids(**params: Any) -> list[int]:
            response = client.get(url, params)
            assert response.status_code == 200, response.content
            return [item["session_id"] for item in response.json()["results"]]

        assert ids(q="outlook", engineer=teammate.pk) == [mine.pk]
        assert ids(ticket="#48213") == [history["outlook-password"].pk]
        assert ids(q="outlook", outcome="applied_failed") == []
        assert set(ids(outcome="applied_success")) == {s.pk for s in (*history.values(), mine)}
        assert ids(**{"from": "2999-01-01"}) == []
        assert len(ids(to="2999-01-01")) == 4

    def test_bad_parameters_answer_400(
        self, api_client_for: Callable[[User], APIClient], engineer: User
    ) -> None:
        client = api_client_for(engineer)
        for params in ({"cursor": "garbage"}, {"from": "yesterday"}, {"outcome": "maybe"}):
            response = client.get("/api/v1/ai-sessions/search", params)
            assert response.status_code == 400, params

    def test_cursor_pagination_walks_every_result_once(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        history: dict[str, AISession],
    ) -> None:
        client = api_client_for(engineer)
        for query in ({}, {"q": "outlook password fortigate"}):
            seen: list[int] = []
            params: dict[str, Any] = {**query, "page_size": 1}
            for _ in range(10):
                body = client.get("/api/v1/ai-sessions/search", params).json()
                seen += [item["session_id"] for item in body["results"]]
                if not body["next_cursor"]:
                    break
                params["cursor"] = body["next_cursor"]
            assert sorted(seen) == sorted({*seen}), query
            expected = 3 if not query else len(set(seen))
            assert len(seen) == expected

    def test_query_count_is_flat(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        django_assert_max_num_queries: Any,
    ) -> None:
        client = api_client_for(engineer)
        _past(engineer, "outlook-password")
        # Authentication (2) + lexicon (1) + corrections with their counts (≤ 1) + candidates (1).
        with django_assert_max_num_queries(5):
            client.get("/api/v1/ai-sessions/search", {"q": "outlok password"})
        for key in ("outlook-ost", "outlook-connecting", "outlook-shared", "vpn-dpd"):
            _past(engineer, key)
        with django_assert_max_num_queries(5):
            response = client.get("/api/v1/ai-sessions/search", {"q": "outlok password"})
        assert response.json()["results"]


class TestReuseFix:
    def test_reuse_proposes_the_worked_fix(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        history: dict[str, AISession],
        current: AISession,
    ) -> None:
        source = history["outlook-ost"]
        version = current.state_version
        url = f"/api/v1/ai-sessions/{current.pk}/suggested-fixes/from-session/{source.pk}"
        response = api_client_for(engineer).post(url)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["title"] == "Rebuild the OST file"
        assert body["reused_from"] == source.pk
        assert body["status"] == "proposed" and body["is_active"]
        assert f"session #{source.pk}" in body["description"]
        assert body["state_version"] == version + 1
        # A second reuse supersedes the first through the normal lifecycle.
        again = api_client_for(engineer).post(
            f"/api/v1/ai-sessions/{current.pk}/suggested-fixes/from-session/{history['outlook-password'].pk}"
        )
        assert again.status_code == 201
        assert SuggestedFix.objects.get(pk=body["id"]).superseded_at is not None
        active = api_client_for(engineer).get(
            f"/api/v1/ai-sessions/{current.pk}/suggested-fixes/active"
        )
        assert active.json()["id"] == again.json()["id"]

    def test_parameters_rebound_and_secrets_cleared(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
    ) -> None:
        source = _past(engineer, "backup-cred")
        SuggestedFix.objects.filter(session=source, status="applied_success").update(
            parameters=[
                {"name": "ticket_id", "default": "111"},
                {"name": "admin_password", "default": "Winter2026!", "sensitive": True},
                {"name": "share", "default": "\\\\nas\\backup"},
            ]
        )
        current, _ = sessions.create_session(
            user=engineer, problem="Backup fails", psa_ticket_id="777"
        )
        url = f"/api/v1/ai-sessions/{current.pk}/suggested-fixes/from-session/{source.pk}"
        body = api_client_for(engineer).post(url).json()
        params = {item["name"]: item["default"] for item in body["parameters"]}
        assert params == {"ticket_id": "777", "admin_password": None, "share": "\\\\nas\\backup"}
        assert "Winter2026" not in body["script"]

    def test_refusals(
        self,
        api_client_for: Callable[[User], APIClient],
        engineer: User,
        viewer: User,
        stranger: User,
        history: dict[str, AISession],
        current: AISession,
    ) -> None:
        source = history["outlook-ost"]
        url = f"/api/v1/ai-sessions/{current.pk}/suggested-fixes/from-session/{source.pk}"
        assert api_client_for(viewer).post(url).status_code == 403
        assert api_client_for(stranger).post(url).status_code == 404
        foreign = _past(stranger, "outlook-ost")
        cross = f"/api/v1/ai-sessions/{current.pk}/suggested-fixes/from-session/{foreign.pk}"
        assert api_client_for(engineer).post(cross).status_code == 404
        partial = _past(engineer, "vpn-mtu")
        SuggestedFix.objects.filter(session=partial).update(status=FixStatus.APPLIED_FAILED)
        nothing = f"/api/v1/ai-sessions/{current.pk}/suggested-fixes/from-session/{partial.pk}"
        assert api_client_for(engineer).post(nothing).json()["code"] == "no_worked_fix"
        closed = history["vpn-dpd"]
        shut = f"/api/v1/ai-sessions/{closed.pk}/suggested-fixes/from-session/{source.pk}"
        response = api_client_for(engineer).post(shut)
        assert response.status_code == 409 and response.json()["code"] == "session_closed"


class TestPages:
    def test_session_page_shows_solved_before(
        self,
        client_for: Callable[[User], Client],
        engineer: User,
        history: dict[str, AISession],
        current: AISession,
    ) -> None:
        """The page shows the panel at once and loads its matches after (hx-trigger load)."""
        client = client_for(engineer)
        page = client.get(f"/sessions/{current.pk}").content.decode()
        assert "Solved before" in page
        assert f'hx-get="/sessions/{current.pk}/solved-before"' in page
        assert 'hx-trigger="load, session-changed from:body"' in page
        html = client.get(
            f"/sessions/{current.pk}/solved-before", HTTP_HX_REQUEST="true"
        ).content.decode()
        assert f'data-session-id="{history["outlook-password"].pk}"' in html
        assert "Tried before, didn&#x27;t work" in html or "Tried before, didn't work" in html

    def test_panel_fragment_and_past_session(
        self,
        client_for: Callable[[User], Client],
        engineer: User,
        viewer: User,
        stranger: User,
        current: AISession,
    ) -> None:
        source = _past(engineer, "backup-cred")
        client = client_for(engineer)
        fragment = client.get(f"/sessions/{current.pk}/solved-before", HTTP_HX_REQUEST="true")
        assert fragment.status_code == 200 and b'id="solved-before"' in fragment.content
        assert client.get(f"/sessions/{current.pk}/solved-before").status_code == 302
        past = client.get(
            f"/sessions/{current.pk}/solved-before/{source.pk}", HTTP_HX_REQUEST="true"
        )
        html = past.content.decode()
        assert "Update the backup job credentials" in html
        assert "Winter2026" not in html and "[redacted]" in html
        assert "use-this-fix" in html
        full = client.get(f"/sessions/{current.pk}/solved-before/{source.pk}").content.decode()
        assert "<html" in full and "past-script" in full
        viewer_html = (
            client_for(viewer)
            .get(f"/sessions/{current.pk}/solved-before/{source.pk}")
            .content.decode()
        )
        assert "use-this-fix" not in viewer_html
        assert (
            client_for(stranger)
            .get(f"/sessions/{current.pk}/solved-before/{source.pk}")
            .status_code
            == 404
        )
        assert client.get(f"/sessions/{current.pk}/solved-before/{current.pk}").status_code == 404

    def test_use_this_fix_form(
        self,
        client_for: Callable[[User], Client],
        engineer: User,
        viewer: User,
        history: dict[str, AISession],
        current: AISession,
    ) -> None:
        source = history["outlook-password"]
        url = f"/sessions/{current.pk}/solved-before/{source.pk}/use"
        assert client_for(viewer).post(url).status_code == 403
        response = client_for(engineer).post(url)
        assert response.status_code == 302
        fix = SuggestedFix.objects.get(session=current, superseded_at__isnull=True)
        assert fix.reused_from_id == source.pk

    def test_history_page_highlights_and_paginates(
        self, client_for: Callable[[User], Client], viewer: User, history: dict[str, AISession]
    ) -> None:
        client = client_for(viewer)
        html = client.get("/sessions/history", {"q": "ost rebuild"}).content.decode()
        assert "<mark>OST</mark>" in html
        assert f'data-session-id="{history["outlook-ost"].pk}"' in html
        typo = client.get("/sessions/history", {"q": "fortigte"}).content.decode()
        assert "you typed" in typo
        everything = client.get("/sessions/history").content.decode()
        assert everything.count('data-testid="history-result"') == 3
        bad = client.get("/sessions/history", {"from": "nope"})
        assert bad.status_code == 200 and b"field-error" in bad.content


class TestQueryPlanning:
    """What keeps similar sessions fast on a big index: distinctive words, two of them."""

    @staticmethod
    def _query(counts: dict[str, int], total: int) -> selectors.PreparedQuery:
        terms = list(counts)
        return selectors.PreparedQuery(
            words=terms,
            terms=terms,
            corrections={},
            idf=dict.fromkeys(terms, 1.0),
            patterns={},
            counts=counts,
            total=total,
        )

    def test_common_words_rank_but_do_not_retrieve(self) -> None:
        query = self._query(
            {"monday": 15_000, "outlook": 1_200, "ost": 40, "rebuild": 90, "password": 3_300},
            total=100_000,
        )
        # Rarest first; "monday" and "password" (over 2 % of the documents) are left out.
        assert selectors.retrieval_terms(query) == ["ost", "rebuild", "outlook"]

    def test_with_fewer_than_three_distinctive_words_the_three_rarest_retrieve(self) -> None:
        query = self._query({"monday": 15_000, "password": 3_300, "outlook": 2_600}, 100_000)
        assert selectors.retrieval_terms(query) == ["outlook", "password", "monday"]

    def test_a_small_index_has_no_common_words(self) -> None:
        query = self._query({"outlook": 30, "password": 12, "monday": 45}, total=45)
        assert selectors.retrieval_terms(query) == ["password", "outlook", "monday"]

    def test_pairs_need_two_words_together(self) -> None:
        from sessions_app.memory.backends import groups

        assert groups(["a", "b", "c"], "pairs") == [["a", "b"], ["a", "c"], ["b", "c"]]
        assert groups(["a", "b"], "pairs") == [["a"], ["b"]]
        assert groups(["a", "b"], "all") == [["a", "b"]]

    def test_a_session_sharing_one_word_is_not_a_candidate(
        self, engineer: User, history: dict[str, AISession]
    ) -> None:
        # Each word is in one past session, none has two of them.
        text = "credential ost forticlient"
        assert len(selectors.prepare_query(engineer.account_id, text).terms) == 3
        assert selectors.similar_to_text(engineer.account_id, text) == []
        both = selectors.similar_to_text(engineer.account_id, "credential password forticlient")
        assert [match.session_id for match in both] == [history["outlook-password"].pk]

    def test_why_lists_a_word_once_whatever_its_form(
        self, engineer: User, history: dict[str, AISession]
    ) -> None:
        query = selectors.prepare_query(
            engineer.account_id, "password passwords prompts prompt outlook"
        )
        assert [text.stem(term) for term in query.terms] == [
            "password",
            "prompt",
            "outlook",
        ]
        found = selectors.similar_to_text(
            engineer.account_id, "Outlook prompts prompting for passwords password"
        )
        assert found and found[0].session_id == history["outlook-password"].pk
        stems = [text.stem(word) for word in found[0].why]
        assert len(stems) == len(set(stems))

    def test_identifiers_are_not_typo_corrected(
        self, engineer: User, history: dict[str, AISession]
    ) -> None:
        query = selectors.prepare_query(engineer.account_id, "ws482 48214 outlok")
        assert query.corrections == {"outlok": "outlook"}


@pytest.mark.parametrize("index", ["searchdoc_vector_gin", "searchterm_term_trgm"])
def test_the_gin_indexes_have_no_pending_list(index: str) -> None:
    """The documents' index and the lexicon's trigram index (which every typo correction reads)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's GIN index only")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [index])
        (options,) = cursor.fetchone()
    assert "fastupdate=off" in (options or [])


def test_demo_history_gives_solved_before_and_history_content() -> None:
    from accounts import demo as accounts_demo
    from sessions_app.memory import demo

    accounts_demo.seed()
    created = demo.seed()
    assert created == len(demo.HISTORY)
    assert demo.seed() == 0  # a second run adds nothing
    jane = User.objects.get(email="jane@northwind.example")
    docs = SessionSearchDocument.objects.filter(account_id=jane.account_id)
    assert docs.count() == created
    # Spread over the past weeks, by both engineers.
    assert len({doc.resolved_at.date() for doc in docs}) == created
    assert {doc.engineer_name for doc in docs} == {"Jane Cooper", "Sam Patel"}
    found = selectors.similar_to_text(
        jane.account_id, "Outlook keeps asking for a password and mail is not syncing"
    )
    assert found and found[0].document.fix_title == "Clear cached Office credentials"
    page = selectors.search(jane.account_id, "", filters=selectors.SearchFilters())
    assert len(page.matches) == min(20, created)
