"""Fix decisions (one_off, draft_template, build_template, template-matched), the inline
builder's submit, and the fix card's parameter form."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.errors import Conflict, DomainError, Unprocessable
from flowpilot.llm.testing import ScriptedClient
from scripts.models import DraftTemplate, ScriptBuilderSession, ScriptGeneration, ScriptTemplate
from scripts.parameters import REDACTED
from scripts.services import decisions
from sessions_app.models import AISession, Fact, FixStatus, SuggestedFix
from sessions_app.services import fixes, previews
from sessions_app.tests.test_fixes import make_fix, make_session, version

pytestmark = pytest.mark.django_db
ApiFor = Callable[[User], APIClient]
ClientFor = Callable[[User], Client]
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}

SECRET_SCRIPT = (
    "$User = '{{user_upn}}'\n"
    "$Password = ConvertTo-SecureString '{{password}}' -AsPlainText -Force\n"
    "Set-MsolUserPassword -UserPrincipalName $User -NewPassword $Password\n"
)
SECRET_PARAMS: list[dict[str, Any]] = [
    {"name": "user_upn", "type": "string", "required": True},
    {"name": "password", "type": "secret", "required": True},
]


def api(session: AISession, fix: SuggestedFix, action: str) -> str:
    return f"/api/v1/ai-sessions/{session.pk}/suggested-fixes/{fix.pk}/{action}"


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'").replace("&quot;", '"')


def secret_fix(session: AISession) -> SuggestedFix:
    return fixes.propose_fix(
        session=session,
        step=None,
        title="Reset the user's password",
        description="Sets a temporary password.",
        confidence=70,
        script=SECRET_SCRIPT,
        parameters=SECRET_PARAMS,
    )


class TestDecisionBranches:
    def test_one_off_renders_the_ai_draft_and_logs_the_run(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        before = version(session)
        result = decisions.decide_fix(session=session, fix=fix, decision="one_off", actor=engineer)
        assert result.script == "Restart-Service -Name 'Spooler' -Force"
        assert result.fix.decision == "one_off"
        assert version(session) > before
        run = ScriptGeneration.objects.get(session=session)
        assert run.template_name == fix.title and run.parameters == {"service": "Spooler"}

    def test_one_off_uses_the_engineers_edit(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        result = decisions.decide_fix(
            session=session,
            fix=fix,
            decision="one_off",
            actor=engineer,
            script="Restart-Service {{service}}",
            values={"service": "Spooler2"},
        )
        assert result.script == "Restart-Service 'Spooler2'"

    def test_missing_required_value_is_422_and_records_nothing(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = secret_fix(session)
        with pytest.raises(Unprocessable) as exc:
            decisions.decide_fix(
                session=session, fix=fix, decision="one_off", actor=engineer, values={}
            )
        assert exc.value.extra["parameter"] == "user_upn"
        fix.refresh_from_db()
        assert fix.decision == ""
        assert not ScriptGeneration.objects.exists()

    def test_draft_template_stores_a_draft_with_the_fix_schema(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = secret_fix(session)
        result = decisions.decide_fix(
            session=session,
            fix=fix,
            decision="draft_template",
            actor=engineer,
            values={"user_upn": "jane@contoso.com", "password": "Hunter2!"},
        )
        assert "'Hunter2!'" in result.script
        draft = DraftTemplate.objects.get()
        assert result.draft == draft and result.as_dict()["draft_template_id"] == draft.pk
        assert draft.templated_body == SECRET_SCRIPT
        assert [p["name"] for p in draft.proposed_parameters] == ["user_upn", "password"]
        assert "Hunter2!" not in draft.body + str(draft.proposed_parameters)
        run = ScriptGeneration.objects.get()
        assert run.parameters == {"user_upn": "jane@contoso.com", "password": REDACTED}

    def test_draft_from_an_edit_goes_through_extraction(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        decisions.decide_fix(
            session=session,
            fix=fix,
            decision="draft_template",
            actor=engineer,
            script="$UserPrincipalName = 'jane.doe@contoso.com'\nGet-Mailbox $UserPrincipalName\n",
        )
        draft = DraftTemplate.objects.get()
        assert draft.templated_body.startswith("$UserPrincipalName = '{{")
        assert len(draft.proposed_parameters) == 1

    def test_build_template_answers_the_inline_builder(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        result = decisions.decide_fix(
            session=session, fix=fix, decision="build_template", actor=engineer
        )
        built = ScriptBuilderSession.objects.get()
        assert result.builder_url == f"/scripts/builder/{built.pk}"
        assert built.origin == "pilot_inline" and built.fix_id == fix.pk
        assert built.body == fix.script

    def test_template_matched_fix_answers_the_generator(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session, script="")
        template = ScriptTemplate.objects.filter(account=engineer.account).first()
        assert template is not None
        SuggestedFix.objects.filter(pk=fix.pk).update(template_id=template.pk)
        fix.refresh_from_db()
        result = decisions.decide_fix(session=session, fix=fix, decision="one_off", actor=engineer)
        assert result.generator_url == (
            f"/scripts/templates/{template.pk}?session={session.pk}&fix={fix.pk}"
        )

    @pytest.mark.parametrize("decision", ["one_off", "draft_template"])
    def test_no_script_and_no_template_is_400(self, engineer: User, decision: str) -> None:
        session = make_session(engineer)
        fix = make_fix(session, script="")
        with pytest.raises(DomainError) as exc:
            decisions.decide_fix(session=session, fix=fix, decision=decision, actor=engineer)
        assert exc.value.status == 400 and exc.value.code == "no_script"
        fix.refresh_from_db()
        assert fix.decision == ""

    def test_dismiss_and_superseded(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        decisions.decide_fix(session=session, fix=fix, decision="dismissed", actor=engineer)
        with pytest.raises(Conflict):
            decisions.decide_fix(session=session, fix=fix, decision="one_off", actor=engineer)


class TestRedactionEverywhere:
    def test_the_secret_never_reaches_storage_preview_or_the_model(self, engineer: User) -> None:
        session = make_session(engineer)
        fix = secret_fix(session)
        decisions.decide_fix(
            session=session,
            fix=fix,
            decision="draft_template",
            actor=engineer,
            values={"user_upn": "jane@contoso.com", "password": "Hunter2!"},
        )
        session.refresh_from_db()
        client = ScriptedClient(default="## Problem\n\nx\n")
        with mock.patch("flowpilot.llm.client.get_llm_client", autospec=True, return_value=client):
            preview = previews.get_preview(session=session, kind="resolution_note")
        assert preview.markdown
        prompt = str(client.requests[0].context) + client.requests[0].system
        assert "Hunter2!" not in prompt and REDACTED in prompt
        stored = [str(v) for v in ScriptGeneration.objects.values_list("parameters", "schema")]
        stored += [str(v) for v in DraftTemplate.objects.values_list("body", "proposed_parameters")]
        assert not any("Hunter2!" in value for value in stored)


class TestDecisionApi:
    def test_one_off_returns_the_script(self, engineer: User, api_client_for: ApiFor) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = api_client_for(engineer).post(
            api(session, fix, "decision"), {"decision": "one_off"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["script"] == "Restart-Service -Name 'Spooler' -Force"
        assert response.json()["fix"]["decision"] == "one_off"

    def test_draft_template_returns_the_draft_id(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        body = (
            api_client_for(engineer)
            .post(api(session, fix, "decision"), {"decision": "draft_template"}, format="json")
            .json()
        )
        assert body["draft_template_id"] == DraftTemplate.objects.get().pk

    def test_build_template_returns_the_builder_url(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        body = (
            api_client_for(engineer)
            .post(api(session, fix, "decision"), {"decision": "build_template"}, format="json")
            .json()
        )
        assert body["builder_url"].startswith("/scripts/builder/")

    def test_no_script_is_400_and_missing_value_is_422(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(engineer)
        session = make_session(engineer)
        empty = make_fix(session, script="")
        response = client.post(
            api(session, empty, "decision"), {"decision": "one_off"}, format="json"
        )
        assert response.status_code == 400 and response.json()["code"] == "no_script"
        other = make_session(engineer, "Password reset")
        fix = secret_fix(other)
        response = client.post(
            api(other, fix, "decision"),
            {"decision": "one_off", "parameters": {"user_upn": "jane@contoso.com"}},
            format="json",
        )
        assert response.status_code == 422
        assert response.json()["code"] == "parameter_missing"
        assert response.json()["parameter"] == "password"

    def test_unknown_decision_is_a_field_error(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = api_client_for(engineer).post(
            api(session, fix, "decision"), {"decision": "later"}, format="json"
        )
        assert response.status_code == 400 and "decision" in response.json()

    def test_viewer_403_teammate_403_stranger_404(
        self,
        engineer: User,
        viewer: User,
        teammate: User,
        stranger: User,
        api_client_for: ApiFor,
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        url = api(session, fix, "decision")
        denied = api_client_for(viewer).post(url, {"decision": "one_off"}, format="json")
        assert denied.status_code == 403
        assert denied.json()["detail"] == "Engineer or admin access required"
        assert (
            api_client_for(teammate).post(url, {"decision": "one_off"}, format="json").status_code
            == 403
        )
        assert (
            api_client_for(stranger).post(url, {"decision": "one_off"}, format="json").status_code
            == 404
        )
        other_fix = make_fix(make_session(engineer, "Other"))
        assert (
            api_client_for(engineer)
            .post(api(session, other_fix, "decision"), {"decision": "one_off"}, format="json")
            .status_code
            == 404
        )
        fix.refresh_from_db()
        assert fix.decision == ""


class TestFixDraftSubmit:
    def test_submit_writes_script_and_schema_without_applying(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session, script="")
        before = version(session)
        response = api_client_for(engineer).post(
            api(session, fix, "draft"),
            {"script": "Get-Printer -Name '{{name}}'", "parameters": [{"name": "name"}]},
            format="json",
        )
        assert response.status_code == 200, response.json()
        fix.refresh_from_db()
        assert fix.script == "Get-Printer -Name '{{name}}'"
        assert fix.parameters[0]["type"] == "string"
        assert fix.applied_at is None
        assert version(session) == before + 1

    def test_empty_422_bad_schema_422_terminal_409_wrong_session_404(
        self, engineer: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        client = api_client_for(engineer)
        url = api(session, fix, "draft")
        assert client.post(url, {"script": ""}, format="json").status_code == 422
        bad = client.post(
            url, {"script": "x '{{a}}'", "parameters": [{"name": "bad name"}]}, format="json"
        )
        assert bad.status_code == 422 and bad.json()["code"] == "parameters_invalid"
        undeclared = client.post(url, {"script": "x '{{a}}'", "parameters": []}, format="json")
        assert undeclared.status_code == 422
        other = make_session(engineer, "Other")
        assert (
            client.post(api(other, fix, "draft"), {"script": "x"}, format="json").status_code == 404
        )
        fixes.record_outcome(session=session, fix=fix, outcome="applied_failed", actor=engineer)
        assert client.post(url, {"script": "x"}, format="json").status_code == 409

    def test_viewer_403_and_stranger_404(
        self, engineer: User, viewer: User, stranger: User, api_client_for: ApiFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        url = api(session, fix, "draft")
        assert api_client_for(viewer).post(url, {"script": "x"}, format="json").status_code == 403
        assert api_client_for(stranger).post(url, {"script": "x"}, format="json").status_code == 404
        assert SuggestedFix.objects.get(pk=fix.pk).script != "x"


class TestFixCard:
    def test_card_shows_the_form_prefilled_from_the_session(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer, "Outlook asks for a password for jane@contoso.com")
        secret_fix(session)
        html = client_for(engineer).get(f"/sessions/{session.pk}/fix/card", **HX).content.decode()
        assert 'name="param-user_upn"' in html and 'value="jane@contoso.com"' in html
        assert 'data-testid="from-session"' in html
        assert 'type="password"' in html
        # The password is still missing: Copy is held back and says why.
        assert 'data-copy-blocked="Fill in the required values first: Password."' in html
        assert "jane@contoso.com" in text_of(html)

    def test_facts_prefill_a_computer_name(self, engineer: User, client_for: ClientFor) -> None:
        session = make_session(engineer)
        Fact.objects.create(
            account=engineer.account, session=session, text="The PC is NW-LT-0142", source="note"
        )
        fixes.propose_fix(
            session=session,
            step=None,
            title="Ping it",
            description="",
            confidence=50,
            script="Test-Connection -ComputerName '{{computer_name}}'\n",
            parameters=[{"name": "computer_name"}],
        )
        html = client_for(engineer).get(f"/sessions/{session.pk}/fix/card", **HX).content.decode()
        assert 'value="NW-LT-0142"' in html

    def test_typing_values_re_renders_the_script_quoted(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = secret_fix(session)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/fix/{fix.pk}/script",
            {"param-user_upn": "o'brien@contoso.com", "param-password": "pw"},
            **HX,
        )
        html = response.content.decode()
        assert "o''brien@contoso.com" in text_of(html)
        assert "data-copy-blocked" in html  # a high finding needs the acknowledgement
        assert 'data-testid="script-ack"' in html

    def test_page_decision_one_off_shows_the_rendered_script(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/fix/{fix.pk}/decision", {"decision": "one_off"}, **HX
        )
        assert "Restart-Service -Name 'Spooler' -Force" in text_of(response.content.decode())
        assert "Script ready" in response["HX-Trigger"]

    def test_page_decision_with_a_missing_value_shows_the_error(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = secret_fix(session)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/fix/{fix.pk}/decision",
            {"decision": "one_off", "param-user_upn": "jane@contoso.com"},
            **HX,
        )
        assert "Missing required parameter &#x27;password&#x27;" in response.content.decode()
        fix.refresh_from_db()
        assert fix.decision == ""

    def test_page_build_template_redirects_to_the_builder(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        response = client_for(engineer).post(
            f"/sessions/{session.pk}/fix/{fix.pk}/decision", {"decision": "build_template"}, **HX
        )
        assert response["HX-Redirect"].startswith("/scripts/builder/")

    def test_decisions_disappear_once_the_fix_has_a_final_outcome(
        self, engineer: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        client = client_for(engineer)
        assert (
            'data-testid="fix-use-script"'
            in client.get(f"/sessions/{session.pk}/fix/card", **HX).content.decode()
        )
        fixes.record_outcome(session=session, fix=fix, outcome="applied_success", actor=engineer)
        html = client.get(f"/sessions/{session.pk}/fix/card", **HX).content.decode()
        assert 'data-testid="fix-use-script"' not in html
        assert 'data-testid="fix-decision-dismissed"' not in html
        assert fix.status == FixStatus.APPLIED_SUCCESS

    def test_page_routes_refuse_viewer_and_stranger(
        self, engineer: User, viewer: User, stranger: User, client_for: ClientFor
    ) -> None:
        session = make_session(engineer)
        fix = make_fix(session)
        decision = f"/sessions/{session.pk}/fix/{fix.pk}/decision"
        script = f"/sessions/{session.pk}/fix/{fix.pk}/script"
        assert client_for(viewer).post(decision, {"decision": "one_off"}).status_code == 403
        assert client_for(stranger).post(decision, {"decision": "one_off"}).status_code == 404
        assert client_for(stranger).post(script, {}, **HX).status_code == 404
