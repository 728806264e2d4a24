"""Template extraction, draft templates (API, pages, the post-resolve offer), the builder."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.llm import LLMTimeout
from flowpilot.llm.testing import ScriptedClient
from scripts.models import DraftTemplate, ScriptBuilderSession, ScriptCategory, ScriptTemplate
from scripts.services import builder, decisions
from scripts.services.extraction import check_extraction, extract_template
from sessions_app.models import AISession
from sessions_app.services import resolution
from sessions_app.tests.test_fixes import make_fix, make_session

pytestmark = pytest.mark.django_db
ApiFor = Callable[[User], APIClient]
ClientFor = Callable[[User], Client]
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
SCRIPT = "$User = 'jane.doe@contoso.com'\nGet-Mailbox -Identity $User | Format-List\n"


def answer(body: str, parameters: list[dict[str, Any]]) -> str:
    return json.dumps({"body": body, "parameters": parameters})


class TestExtraction:
    def test_a_round_tripping_answer_is_used(self) -> None:
        result = check_extraction(
            SCRIPT,
            answer(
                "$User = '{{user_upn}}'\nGet-Mailbox -Identity $User | Format-List\n",
                [{"name": "user_upn", "type": "string", "default": "jane.doe@contoso.com"}],
            ),
        )
        assert result.extracted
        assert result.values == {"user_upn": "jane.doe@contoso.com"}
        # Defaults would carry this customer's value into the library.
        assert result.parameters[0]["default"] is None

    def test_a_bare_word_placeholder_round_trips_as_the_same_argument(self) -> None:
        script = "Unlock-ADAccount -Identity jdoe\n"
        result = check_extraction(
            script, answer("Unlock-ADAccount -Identity {{user}}\n", [{"name": "user"}])
        )
        assert result.extracted and result.values == {"user": "jdoe"}

    def test_fenced_json_is_accepted(self) -> None:
        body = "$User = '{{u}}'\nGet-Mailbox -Identity $User | Format-List\n"
        fenced = "```json\n" + answer(body, [{"name": "u"}]) + "\n```"
        assert check_extraction(SCRIPT, fenced).extracted

    @pytest.mark.parametrize(
        "reply",
        [
            "not json",
            json.dumps(["body"]),
            answer("$User = '{{user}}'\nGet-Mailbox -Identity $User | Format-List\n", []),
            answer(
                "$User = '{{user}}'\nGet-Mailbox -Identity $User | Format-List\n",
                [{"name": "user", "type": "float"}],
            ),
            # The model changed the logic, not only the values.
            answer("$User = '{{user}}'\nRemove-Mailbox -Identity $User\n", [{"name": "user"}]),
            # Body changed without any parameter.
            answer("Get-Mailbox\n", []),
            # A value that does not survive the quoting: "$env:X" expands, it is not data.
            answer(
                '$User = "{{user}}"\nGet-Mailbox -Identity $User | Format-List\n',
                [{"name": "user"}],
            ),
        ],
    )
    def test_every_mismatch_falls_back_to_the_original(self, reply: str) -> None:
        script = (
            SCRIPT
            if '"{{user}}"' not in reply
            else SCRIPT.replace("'jane.doe@contoso.com'", '"$env:USERNAME"')
        )
        result = check_extraction(script, reply)
        assert not result.extracted
        assert result.templated_body == script and result.parameters == []
        assert result.reason

    def test_model_failure_falls_back(self) -> None:
        client = ScriptedClient(error=LLMTimeout("slow"))
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=client):
            result = extract_template(SCRIPT)
        assert not result.extracted and result.templated_body == SCRIPT
        assert client.requests[0].purpose == "template_extraction"
        assert client.requests[0].tier == "heavy"

    def test_offline_provider_is_conservative(self) -> None:
        result = extract_template("Get-Service -Name Spooler\nRestart-Service -Name Spooler\n")
        assert result.parameters == []
        upn = extract_template(SCRIPT)
        assert upn.extracted and [p["name"] for p in upn.parameters] == ["user"]


def _pending_draft(engineer: User, *, ticket: str = "99123") -> DraftTemplate:
    session = make_session(engineer, "Outlook keeps asking for a password")
    AISession.objects.filter(pk=session.pk).update(psa_ticket_id=ticket)
    session.refresh_from_db()
    fix = make_fix(session)
    decisions.decide_fix(session=session, fix=fix, decision="draft_template", actor=engineer)
    return DraftTemplate.objects.get(session=session)


class TestDraftsApi:
    def test_list_filters_pending_and_all(self, engineer: User, api_client_for: ApiFor) -> None:
        first = _pending_draft(engineer)
        second = _pending_draft(engineer, ticket="2")
        client = api_client_for(engineer)
        client.post(f"/api/v1/draft-templates/{second.pk}/reject")
        pending = client.get("/api/v1/draft-templates").json()["results"]
        assert [d["id"] for d in pending] == [first.pk]
        everything = client.get("/api/v1/draft-templates?pending_only=false").json()["results"]
        assert {d["id"] for d in everything} == {first.pk, second.pk}
        detail = client.get(f"/api/v1/draft-templates/{first.pk}").json()
        assert detail["status"] == "pending" and detail["templated_body"]

    def test_accept_creates_a_template_with_provenance(
        self, engineer: User, teammate: User, api_client_for: ApiFor
    ) -> None:
        draft = _pending_draft(engineer)
        category = ScriptCategory.objects.get(account=engineer.account, slug="printers")
        response = api_client_for(teammate).post(
            f"/api/v1/draft-templates/{draft.pk}/accept",
            {"category_id": category.pk, "name": "Restart the spooler"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["name"] == "Restart the spooler"
        assert body["provenance"] == {
            "session_id": draft.session_id,
            "ticket": "99123",
            "resolved_by": engineer.display_name,
        }
        assert body["body"] == draft.templated_body.rstrip("\n") + "\n"
        draft.refresh_from_db()
        assert draft.status == "accepted" and draft.promoted_template_id == body["id"]
        again = api_client_for(teammate).post(f"/api/v1/draft-templates/{draft.pk}/accept")
        assert again.status_code == 409
        reject = api_client_for(teammate).post(f"/api/v1/draft-templates/{draft.pk}/reject")
        assert reject.status_code == 409

    def test_accept_with_an_edited_body(self, engineer: User, api_client_for: ApiFor) -> None:
        draft = _pending_draft(engineer)
        edited = "Restart-Service -Name '{{service}}'\nGet-Service -Name '{{service}}'\n"
        body = (
            api_client_for(engineer)
            .post(f"/api/v1/draft-templates/{draft.pk}/accept", {"body": edited}, format="json")
            .json()
        )
        assert body["body"] == edited

    def test_accept_unknown_category_is_400(self, engineer: User, api_client_for: ApiFor) -> None:
        draft = _pending_draft(engineer)
        response = api_client_for(engineer).post(
            f"/api/v1/draft-templates/{draft.pk}/accept", {"category_id": 999999}, format="json"
        )
        assert response.status_code == 400 and response.json()["code"] == "unknown_category"
        draft.refresh_from_db()
        assert draft.status == "pending"
        assert not ScriptTemplate.objects.filter(source_session=draft.session).exists()

    def test_viewer_403_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        draft = _pending_draft(engineer)
        for user, code in ((viewer, 403), (stranger, 404)):
            client = api_client_for(user)
            assert client.get(f"/api/v1/draft-templates/{draft.pk}").status_code == code
            assert client.post(f"/api/v1/draft-templates/{draft.pk}/accept").status_code == code
            assert client.post(f"/api/v1/draft-templates/{draft.pk}/reject").status_code == code
        assert api_client_for(viewer).get("/api/v1/draft-templates").status_code == 403
        assert api_client_for(stranger).get("/api/v1/draft-templates").json()["results"] == []


class TestPostResolveOffer:
    def _resolved(self, engineer: User) -> DraftTemplate:
        draft = _pending_draft(engineer)
        resolution.post_resolution_note(session=draft.session, actor=engineer, markdown="Fixed")
        return draft

    def test_resolved_session_offers_its_pending_draft(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        draft = self._resolved(engineer)
        html = client_for(engineer).get(f"/sessions/{draft.session_id}/fix/card", **HX)
        text = html.content.decode()
        assert 'data-testid="draft-offer"' in text and "data-autoshow" in text
        assert 'data-testid="draft-param"' in text

    def test_accept_from_the_modal_then_no_more_offers(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        draft = self._resolved(engineer)
        client = client_for(engineer)
        response = client.post(
            f"/scripts/drafts/{draft.pk}/accept",
            {"session": draft.session_id, "name": "Spooler restart"},
            **HX,
        )
        assert 'data-testid="draft-offer"' not in response.content.decode()
        assert "is in the team" in response["HX-Trigger"]
        library = client.get("/scripts?q=Spooler restart").content.decode()
        assert "Spooler restart" in library and "CW #99123" in library
        assert f"resolved by {engineer.display_name}" in library

    def test_dont_ask_again_stops_the_offer(
        self, engineer: User, client_for: ClientFor, api_client_for: ApiFor
    ) -> None:
        draft = self._resolved(engineer)
        client = client_for(engineer)
        client.post("/scripts/drafts/stop-asking", {"session": draft.session_id}, **HX)
        prefs = api_client_for(engineer).get("/api/v1/accounts/me/preferences").json()
        assert prefs["templatize_prompt_enabled"] is False
        html = client.get(f"/sessions/{draft.session_id}/fix/card", **HX).content.decode()
        assert 'data-testid="draft-offer"' not in html
        draft.refresh_from_db()
        assert draft.status == "pending"

    def test_nav_shows_the_pending_count(self, engineer: User, client_for: ClientFor) -> None:
        _pending_draft(engineer)
        _pending_draft(engineer, ticket="5")
        html = client_for(engineer).get("/scripts").content.decode()
        assert 'data-testid="nav-badge-scripts"' in html
        assert 'data-testid="nav-badge-scripts" title="Waiting for review">2</span>' in html

    def test_a_failing_count_never_breaks_the_sidebar(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        with mock.patch("front.navigation.shell_counts", autospec=True, side_effect=RuntimeError):
            response = client_for(engineer).get("/scripts")
        assert response.status_code == 200
        assert 'data-testid="nav-badge-scripts"' not in response.content.decode()


class TestBuilder:
    def test_standalone_cap_is_five(self, engineer: User, api_client_for: ApiFor) -> None:
        client = api_client_for(engineer)
        for _ in range(builder.STANDALONE_CAP):
            response = client.post(
                "/api/v1/script-builder/sessions", {"origin": "standalone"}, format="json"
            )
            assert response.status_code == 201
        sixth = client.post(
            "/api/v1/script-builder/sessions", {"origin": "standalone"}, format="json"
        )
        assert sixth.status_code == 409 and sixth.json()["code"] == "builder_limit"
        assert "5 builder sessions" in sixth.json()["detail"]

    def test_inline_is_get_or_create_and_not_counted(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(engineer)
        for _ in range(builder.STANDALONE_CAP):
            client.post("/api/v1/script-builder/sessions", {"origin": "standalone"}, format="json")
        session = make_session(engineer)
        fix = make_fix(session)
        body = {"origin": "pilot_inline", "ai_session_id": session.pk, "fix_id": fix.pk}
        first = client.post("/api/v1/script-builder/sessions", body, format="json")
        second = client.post("/api/v1/script-builder/sessions", body, format="json")
        assert first.status_code == 201 and second.status_code == 200
        assert first.json()["id"] == second.json()["id"]
        assert first.json()["body"] == fix.script

    def test_inline_needs_a_session_and_guards_it(
        self, engineer: User, teammate: User, stranger: User, viewer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        body = {"origin": "pilot_inline", "ai_session_id": session.pk}
        url = "/api/v1/script-builder/sessions"
        assert (
            api_client_for(engineer)
            .post(url, {"origin": "pilot_inline"}, format="json")
            .status_code
            == 400
        )
        assert api_client_for(teammate).post(url, body, format="json").status_code == 403
        assert api_client_for(viewer).post(url, body, format="json").status_code == 403
        assert api_client_for(stranger).post(url, body, format="json").status_code == 404

    def test_builder_page_submits_onto_the_fix(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        built = builder.inline_session_for_fix(user=engineer, session=session, fix=fix)
        client = client_for(engineer)
        page = client.get(built.get_absolute_url())
        assert page.status_code == 200 and "Use on the suggested fix" in page.content.decode()
        response = client.post(
            f"/scripts/builder/{built.pk}/save",
            {
                "action": "fix",
                "name": "Spooler",
                "body": "Restart-Service -Name '{{service}}'",
                "parameters": '[{"name": "service", "default": "Spooler"}]',
            },
        )
        assert response.status_code == 302 and response["Location"] == f"/sessions/{session.pk}"
        fix.refresh_from_db()
        assert fix.script == "Restart-Service -Name '{{service}}'" and fix.applied_at is None

    def test_standalone_builder_saves_a_template(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        built = builder.create_standalone_session(user=engineer)
        client = client_for(engineer)
        suggested = client.post(
            f"/scripts/builder/{built.pk}/save", {"action": "suggest", "body": SCRIPT}
        ).content.decode()
        assert "parameter(s) suggested" in suggested
        response = client.post(
            f"/scripts/builder/{built.pk}/save",
            {
                "action": "template",
                "name": "Show a mailbox",
                "body": "Get-Mailbox -Identity '{{user}}'",
                "parameters": '[{"name": "user"}]',
            },
        )
        template = ScriptTemplate.objects.get(name="Show a mailbox")
        assert response["Location"] == template.get_absolute_url()

    def test_someone_elses_builder_is_404(
        self, engineer: User, teammate: User, client_for: ClientFor
    ) -> None:
        built = builder.create_standalone_session(user=engineer)
        assert client_for(teammate).get(built.get_absolute_url()).status_code == 404


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_inline_builder_race_ends_with_one_row(engineer: User) -> None:
    """Two concurrent creates for the same user and AI session: one row, both get it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and unique index behaviour")
    session = make_session(engineer)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait()
            built, _ = builder.get_or_create_inline_session(user=engineer, session=session)
            results.append(built.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(set(results)) == 1
    assert ScriptBuilderSession.objects.filter(ai_session=session).count() == 1
