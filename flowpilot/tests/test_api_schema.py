"""
The OpenAPI schema says what the API answers: real responses are validated against it.

Every endpoint under ``/api/v1`` (found by walking the URL conf, so a new one cannot be
missed) answers a refused request with a documented ``{"detail", "code"}`` error, and every
one's success body is validated on real data: the sessions API on one real session (created,
chatted, facts, fix lifecycle, previews, posts, reopen), then each other app's API (accounts
and auth, hand-offs, memory, scripts, the PSA against its simulator) in a walk of its own. A
new endpoint fails ``test_every_endpoint_is_walked`` until a walk answers it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import jsonschema
import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from conftest import PASSWORD
from flowpilot.llm import LLMTimeout
from handoffs.models import AssessmentStatus, SessionHandoff
from psa.simulator.seed import seed_base, seed_tickets
from psa.simulator.server import Simulator
from psa.simulator.store import SimulatorState
from sessions_app.memory.corpus import SESSIONS as PAST_SESSIONS
from sessions_app.memory.history import record_past_session
from sessions_app.memory.indexing import index_session
from sessions_app.models import AISession, TaskItem, TaskKind
from sessions_app.services import fixes
from sessions_app.tests.chat_support import scripted

pytestmark = pytest.mark.django_db
ApiFor = Callable[[User], APIClient]
Operation = tuple[str, str]  # (METHOD, /api/v1/path/{param})


@cache
def openapi() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def endpoints() -> list[Operation]:
    """Every API operation in the URL conf (not the schema: an excluded view still counts)."""
    found = {
        (method.upper(), path)
        for path, _pattern, method, _view in EndpointEnumerator().get_api_endpoints()
        if path.startswith("/api/v1/")
    }
    return sorted(found, key=lambda op: (op[1], op[0]))


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable: true`` becomes a union with null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def assert_matches(operation: Operation, status: int, body: Any) -> None:
    method, path = operation
    documented = openapi()["paths"].get(path, {}).get(method.lower())
    assert documented is not None, f"{method} {path} is not in the schema"
    response = documented["responses"].get(str(status))
    assert response is not None, f"{method} {path} answered {status}, which is not documented"
    content = response.get("content", {}).get("application/json")
    if content is None:
        assert body in (None, b"", ""), f"{method} {path} {status}: body not documented"
        return
    schema = {
        **_json_schema(copy.deepcopy(content["schema"])),
        "components": _json_schema(copy.deepcopy(openapi()["components"])),
    }
    try:
        jsonschema.Draft202012Validator(schema).validate(body)
    except jsonschema.ValidationError as exc:
        pytest.fail(f"{method} {path} {status} does not match the schema: {exc.message}")


def _call(client: APIClient, operation: Operation, values: dict[str, Any], body: Any = None) -> Any:
    method, path = operation
    url = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
    response = getattr(client, method.lower())(url, body, format="json")
    data = response.json() if response.content else None
    assert_matches(operation, response.status_code, data)
    return response.status_code, data


SESSIONS = "/api/v1/ai-sessions"
ANY_ID = {
    "device_id": "nope",
    "handoff_id": "00000000-0000-0000-0000-000000000000",
}


def test_every_endpoint_is_walked() -> None:
    """A new endpoint fails here until its success body is validated by a walk below."""
    walked = set(SUCCESS_WALK) | set(OTHER_WALKS)
    missing = [op for op in endpoints() if op not in walked]
    assert not missing, f"endpoints without a validated response: {missing}"
    stale = sorted(walked - set(endpoints()))
    assert not stale, f"listed but no longer in the URL conf: {stale}"


def test_the_schema_is_generated_without_a_warning() -> None:
    """
    No guessed serializer, component-name clash, unresolved authenticator, enum-name collision
    or duplicate operationId: the console output is silenced in settings, so it is counted here.
    """
    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert not problems, "\n".join(problems)


def test_every_success_is_documented_with_its_body() -> None:
    """No "No response body" 2xx: each success names its JSON body, or is a 204 without one."""
    undocumented = []
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                has_body = "application/json" in response.get("content", {})
                if has_body == (status == "204"):
                    undocumented.append((method.upper(), path, status))
    assert not undocumented, f"success answers without their body documented: {undocumented}"


def test_every_endpoint_documents_its_refusal_with_the_error_body(
    engineer: User, stranger: User, api_client_for: ApiFor
) -> None:
    """Anonymous (401) answers of every endpoint; a foreign session's refusals."""
    session = AISession.objects.create(account=engineer.account, user=engineer)
    anonymous = APIClient()
    foreign = api_client_for(stranger)
    for operation in endpoints():
        values = {
            name: ANY_ID.get(name, 999_999) for name in re.findall(r"\{(\w+)\}", operation[1])
        }
        status, body = _call(anonymous, operation, values)
        if operation[1].startswith("/api/v1/auth/"):
            assert status in (400, 401), (operation, status)  # no credentials in the body
        else:
            assert status == 401, (operation, status)
        assert set(body) >= {"detail", "code"}
        if operation[1].startswith(f"{SESSIONS}/{{session_id}}"):
            # Another account's session (whatever else the path names) is not found.
            status, body = _call(foreign, operation, {**values, "session_id": session.pk})
            # 404, or 400 where the body is read first (nothing about the session said).
            assert status in (400, 404) and set(body) >= {"detail", "code"}, (operation, status)


S = f"{SESSIONS}/{{session_id}}"
F = f"{S}/suggested-fixes/{{fix_id}}"
# The success walk over one real session, in order (each step may use what the last made).
SUCCESS_WALK: dict[Operation, int] = {
    ("POST", "/api/v1/ai-sessions"): 201,
    ("GET", "/api/v1/ai-sessions"): 200,
    ("GET", S): 200,
    ("PATCH", S): 200,
    ("POST", f"{S}/messages"): 201,
    ("POST", f"{S}/messages/retry"): 409,
    ("GET", f"{S}/facts"): 200,
    ("POST", f"{S}/facts"): 201,
    ("PATCH", f"{S}/facts/{{fact_id}}"): 200,
    ("POST", f"{S}/facts/promote"): 201,
    ("DELETE", f"{S}/facts/{{fact_id}}"): 204,
    ("GET", f"{S}/suggested-fixes/active"): 200,
    ("POST", f"{F}/apply"): 200,
    ("PATCH", f"{F}/outcome"): 200,
    ("DELETE", f"{F}/ai-outcome-proposal"): 200,
    ("POST", f"{S}/resolution-note/preview"): 200,
    ("POST", f"{S}/escalation-package/preview"): 200,
    ("POST", f"{S}/escalation-package/post"): 200,
    ("POST", f"{S}/resolution-note/post"): 200,
    ("POST", f"{S}/reopen"): 200,
}


def test_the_sessions_api_answers_what_its_schema_says(
    engineer: User, api_client_for: ApiFor
) -> None:
    client = api_client_for(engineer)
    values: dict[str, Any] = {}
    bodies: dict[Operation, Any] = {
        ("POST", "/api/v1/ai-sessions"): {"problem": "Outlook keeps asking for a password"},
        ("PATCH", S): {"psa_ticket_id": ""},
        ("POST", f"{S}/messages"): {"content": "It started after the password change"},
        ("POST", f"{S}/facts"): {"text": "Webmail works"},
        ("PATCH", f"{S}/facts/{{fact_id}}"): {"text": "Webmail works in a browser"},
        ("PATCH", f"{F}/outcome"): {
            "outcome": "applied_partial",
            "partial_notes": "Mail flows, calendar not",
        },
        ("POST", f"{S}/escalation-package/post"): {"reason": "Needs an Exchange admin"},
        ("POST", f"{S}/reopen"): {"reason": "The customer called back"},
    }
    for operation, expected in SUCCESS_WALK.items():
        body = bodies.get(operation)
        if operation == ("POST", f"{S}/facts/promote"):
            item = TaskItem.objects.filter(
                session_id=values["session_id"], kind__in=[TaskKind.QUESTION, TaskKind.CHECK]
            ).first()
            assert item is not None, "the offline assistant proposes questions and checks"
            body = {"task_item_id": str(item.uid), "text": "The profile was rebuilt"}
        if operation == ("GET", f"{S}/suggested-fixes/active"):
            session = AISession.objects.get(pk=values["session_id"])
            values["fix_id"] = fixes.propose_fix(
                session=session,
                step=None,
                title="Rebuild the Outlook profile",
                description="Remove the cached credentials and the profile.",
                confidence=70,
                script="",
                parameters=[],
            ).pk
        status, data = _call(client, operation, values, body)
        assert status == expected, (operation, status, data)
        if operation == ("POST", "/api/v1/ai-sessions"):
            values["session_id"] = data["id"]
        if operation == ("POST", f"{S}/facts"):
            values["fact_id"] = data["id"]
        if operation == ("GET", f"{S}/suggested-fixes/active"):
            assert data["decision"] is None  # undecided is null, not ""


def test_a_failed_first_reply_and_its_retry_answer_what_the_schema_says(
    engineer: User, api_client_for: ApiFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other branch of create (no turn, a reply error) and the retry's success."""
    scripted(monkeypatch, LLMTimeout("slow"), "Late answer.")
    client = api_client_for(engineer)
    create = ("POST", SESSIONS)
    status, created = _call(client, create, {}, {"problem": "VPN drops"})
    assert status == 201 and created["turn"] is None
    assert created["reply_error"]["code"] == "llm_timeout"
    status, turn = _call(client, ("POST", f"{S}/messages/retry"), {"session_id": created["id"]})
    assert status == 201 and turn["assistant_step"]["content"] == "Late answer."


def _expect(
    client: APIClient, operation: Operation, status: int, values: Any = None, body: Any = None
) -> Any:
    """Call one operation, validate its answer against the schema, check its status."""
    answered, data = _call(client, operation, values or {}, body)
    assert answered == status, (operation, answered, data)
    return data


ME = "/api/v1/accounts/me"
PSA = "/api/v1/integrations/psa"
# The other apps' success walks: each operation with the status its real success answers.
OTHER_WALKS: dict[Operation, int] = {
    ("POST", "/api/v1/auth/login"): 200,
    ("POST", "/api/v1/auth/login/json"): 200,
    ("POST", "/api/v1/auth/refresh"): 200,
    ("POST", "/api/v1/auth/logout"): 204,
    ("GET", f"{ME}/preferences"): 200,
    ("PATCH", f"{ME}/preferences"): 200,
    ("GET", f"{ME}/security"): 200,
    ("PATCH", f"{ME}/security"): 200,
    ("POST", f"{ME}/security/sessions/{{device_id}}/revoke"): 200,
    ("POST", f"{ME}/security/revoke-sessions"): 200,
    ("GET", f"{ME}/users"): 200,
    ("POST", f"{ME}/users"): 201,
    ("PATCH", f"{ME}/users/{{user_id}}"): 200,
    ("POST", f"{ME}/users/{{user_id}}/resend-invitation"): 200,
    ("POST", f"{S}/handoff"): 201,
    ("POST", f"{S}/escalate"): 201,
    ("GET", f"{SESSIONS}/escalations"): 200,
    ("GET", "/api/v1/notifications"): 200,
    ("POST", "/api/v1/notifications/{notification_id}/read"): 200,
    ("POST", "/api/v1/notifications/read-all"): 200,
    ("POST", f"{S}/handoffs/{{handoff_id}}/claim"): 200,
    ("POST", f"{S}/handoffs/{{handoff_id}}/assessment/retry"): 202,
    ("GET", "/api/v1/analytics/flowpilot/escalations"): 200,
    ("GET", f"{S}/similar"): 200,
    ("GET", f"{SESSIONS}/search"): 200,
    ("POST", f"{S}/suggested-fixes/from-session/{{source_id}}"): 201,
    ("GET", "/api/v1/scripts/categories"): 200,
    ("POST", "/api/v1/scripts/templates"): 201,
    ("GET", "/api/v1/scripts/templates"): 200,
    ("GET", "/api/v1/scripts/templates/{template_id}"): 200,
    ("PATCH", "/api/v1/scripts/templates/{template_id}"): 200,
    ("POST", "/api/v1/scripts/generate"): 200,
    ("POST", "/api/v1/scripts/review"): 200,
    ("DELETE", "/api/v1/scripts/templates/{template_id}"): 204,
    ("POST", f"{F}/draft"): 200,
    ("POST", f"{F}/decision"): 200,
    ("GET", "/api/v1/draft-templates"): 200,
    ("GET", "/api/v1/draft-templates/{draft_id}"): 200,
    ("POST", "/api/v1/draft-templates/{draft_id}/accept"): 201,
    ("POST", "/api/v1/draft-templates/{draft_id}/reject"): 200,
    ("POST", "/api/v1/script-builder/sessions"): 201,
    **{
        (m, f"{PSA}{p}"): status
        for m, p, status in [
            ("GET", "", 200),
            ("PUT", "", 200),
            ("POST", "/test", 200),
            ("GET", "/boards", 200),
            ("GET", "/boards/{board_id}/statuses", 200),
            ("GET", "/members", 200),
            ("GET", "/tickets", 200),
            ("POST", "/tickets", 201),
            ("GET", "/tickets/{ticket_id}", 200),
            ("GET", "/tickets/{ticket_id}/resources", 200),
            ("POST", "/tickets/{ticket_id}/resources", 200),
            ("DELETE", "/tickets/{ticket_id}/resources", 200),
        ]
    },
}


def _pages(client: APIClient, path: str) -> list[Any]:
    """A cursor-paginated list one row a page, each page checked against the schema (its next
    link too); the rows of every page, in order."""
    rows: list[Any] = []
    url: str | None = f"{path}?limit=1"
    while url:
        response = client.get(url)
        body = response.json()
        assert_matches(("GET", path), response.status_code, body)
        assert response.status_code == 200 and len(body["results"]) <= 1
        rows += body["results"]
        url = body["next"]
    return rows


def _walk(client: APIClient, prefix: str, values: Any = None, body: Any = None) -> Any:
    """The next step of a walk: the one operation of ``OTHER_WALKS`` named by method and path."""
    method, path = prefix.split(" ", 1)
    operation = (method, path)
    return _expect(client, operation, OTHER_WALKS[operation], values, body)


def test_the_accounts_api_answers_what_its_schema_says(
    owner: User, engineer: User, api_client_for: ApiFor
) -> None:
    anonymous = APIClient()
    credentials = {"email": owner.email, "password": PASSWORD}
    _walk(anonymous, "POST /api/v1/auth/login", body=credentials)
    pair = _walk(anonymous, "POST /api/v1/auth/login/json", body=credentials)
    pair = _walk(anonymous, "POST /api/v1/auth/refresh", body={"refresh": pair["refresh"]})
    assert _walk(anonymous, "POST /api/v1/auth/logout", body={"refresh": pair["refresh"]}) is None

    client = api_client_for(owner)
    assert _walk(client, f"GET {ME}/preferences")["slack_webhook_url"] is None
    changed = _walk(
        client,
        f"PATCH {ME}/preferences",
        body={"slack_webhook_url": "https://hooks.slack.com/services/T0/B0/x"},
    )
    assert changed["slack_webhook_url"] == "https://hooks.slack.com/••••"
    _walk(client, f"GET {ME}/security")
    policy = _walk(client, f"PATCH {ME}/security", body={"idle_minutes": 60})
    assert policy["idle_minutes"] == 60 and policy["preset"] == "custom"
    devices = policy["active_sessions"]
    assert devices, "the owner's own token family is a live device"
    revoked = _walk(
        client,
        f"POST {ME}/security/sessions/{{device_id}}/revoke",
        {"device_id": devices[-1]["id"]},
    )
    assert revoked["revoked"] is True
    client = api_client_for(owner)
    _walk(client, f"POST {ME}/security/revoke-sessions", body={"scope": "others"})

    people = _walk(client, f"GET {ME}/users")
    assert {person["email"] for person in people["results"]} >= {owner.email, engineer.email}
    assert people["next"] is None
    assert _pages(client, f"{ME}/users") == people["results"]
    invited = _walk(client, f"POST {ME}/users", body={"email": "new@northwind.example"})
    assert invited["invitation_pending"] is True and invited["last_login_at"] is None
    _walk(client, f"PATCH {ME}/users/{{user_id}}", {"user_id": engineer.pk}, {"name": "Jane C."})
    _walk(client, f"POST {ME}/users/{{user_id}}/resend-invitation", {"user_id": invited["id"]})


def test_the_handoffs_api_answers_what_its_schema_says(
    engineer: User, teammate: User, api_client_for: ApiFor
) -> None:
    client = api_client_for(engineer)
    parked = AISession.objects.create(account=engineer.account, user=engineer)
    escalated = AISession.objects.create(
        account=engineer.account, user=engineer, problem_summary="Outlook is failing to sync"
    )
    body = {"intent": "park", "reason": "Waiting for the customer"}
    made = _walk(client, f"POST {S}/handoff", {"session_id": parked.pk}, body)
    assert made["intent"] == "park" and made["claimed_at"] is None
    body = {"reason": "Needs an Exchange admin"}
    made = _walk(client, f"POST {S}/escalate", {"session_id": escalated.pk}, body)
    assert made["intent"] == "escalate" and made["status"] == "escalated"

    senior = api_client_for(teammate)
    queue = _walk(senior, f"GET {SESSIONS}/escalations")
    assert [item["id"] for item in queue["results"]] == [made["id"]]
    assert queue["next"] is None and queue["next_cursor"] is None
    bell = _walk(senior, "GET /api/v1/notifications")
    assert bell["unread"] == 1
    values = {"notification_id": bell["results"][0]["id"]}
    assert _walk(senior, "POST /api/v1/notifications/{notification_id}/read", values)["read_at"]
    assert _walk(senior, "POST /api/v1/notifications/read-all")["unread"] == 0
    values = {"session_id": escalated.pk, "handoff_id": made["id"]}
    claimed = _walk(senior, f"POST {S}/handoffs/{{handoff_id}}/claim", values)
    assert claimed["claimed_by"] == {"id": teammate.pk, "name": teammate.display_name}
    SessionHandoff.objects.filter(pk=made["id"]).update(
        assessment_status=AssessmentStatus.UNAVAILABLE
    )
    retried = _walk(senior, f"POST {S}/handoffs/{{handoff_id}}/assessment/retry", values)
    assert retried["assessment_status"] == "pending"
    metrics = _walk(senior, "GET /api/v1/analytics/flowpilot/escalations")
    assert metrics["period"] == "7d" and metrics["n_handoffs_claimed"] == 1


def test_the_memory_api_answers_what_its_schema_says(
    engineer: User, api_client_for: ApiFor
) -> None:
    past = {}
    for item in PAST_SESSIONS[:3]:
        past[item.key] = record_past_session(user=engineer, past=item)
        index_session(session_id=past[item.key].pk)
    session = AISession.objects.create(
        account=engineer.account,
        user=engineer,
        problem_summary="Outlook keeps asking for the password after the password change",
    )
    client = api_client_for(engineer)
    similar = _walk(client, f"GET {S}/similar", {"session_id": session.pk})
    assert similar["results"], "a past Outlook session is similar"
    # A GET's body is its query string.
    found = _walk(client, f"GET {SESSIONS}/search", body={"q": "outlook", "page_size": 1})
    assert len(found["results"]) == 1 and found["next"] and found["next_cursor"]
    source = next(m["session_id"] for m in similar["results"] if m["outcome"] == "applied_success")
    values = {"session_id": session.pk, "source_id": source}
    reused = _walk(client, f"POST {S}/suggested-fixes/from-session/{{source_id}}", values)
    assert reused["reused_from"] == source and reused["decision"] is None


def test_the_scripts_api_answers_what_its_schema_says(
    engineer: User, api_client_for: ApiFor
) -> None:
    client = api_client_for(engineer)
    categories = _walk(client, "GET /api/v1/scripts/categories")["results"]
    assert len(categories) > 1, "the starter library brings its categories"
    assert _pages(client, "/api/v1/scripts/categories") == categories
    body = {
        "name": "Restart a service",
        "body": "Restart-Service -Name '{{service}}' -Force",
        "parameters": [{"name": "service", "type": "string", "required": True}],
        "category_id": categories[0]["id"],
    }
    made = _walk(client, "POST /api/v1/scripts/templates", body=body)
    assert made["category"]["id"] == categories[0]["id"] and made["provenance"] is None
    listed = _walk(client, "GET /api/v1/scripts/templates")["results"]
    assert made["id"] in {row["id"] for row in listed}
    assert [row["id"] for row in _pages(client, "/api/v1/scripts/templates")] == [
        row["id"] for row in listed
    ]
    values = {"template_id": made["id"]}
    _walk(client, "GET /api/v1/scripts/templates/{template_id}", values)
    _walk(client, "PATCH /api/v1/scripts/templates/{template_id}", values, {"name": "Restart it"})
    session = AISession.objects.create(account=engineer.account, user=engineer)
    body = {"template_id": made["id"], "parameters": {"service": "Spooler"}, "ai_session_id": None}
    run = _walk(client, "POST /api/v1/scripts/generate", body=body)
    assert run["script"].strip() == "Restart-Service -Name 'Spooler' -Force"
    review = _walk(
        client, "POST /api/v1/scripts/review", body={"script": "Remove-Item C:\\ -Recurse"}
    )
    assert review["findings"]
    assert _walk(client, "DELETE /api/v1/scripts/templates/{template_id}", values) is None

    def fix() -> int:
        return fixes.propose_fix(
            session=session,
            step=None,
            title="Restart the print spooler",
            description="Clears stuck jobs held by the spooler.",
            confidence=80,
            script="Restart-Service -Name {{service}} -Force",
            parameters=[{"name": "service", "type": "string", "default": "Spooler"}],
        ).pk

    values = {"session_id": session.pk, "fix_id": fix()}
    body = {"script": "Get-Printer -Name '{{name}}'", "parameters": [{"name": "name"}]}
    drafted = _walk(client, f"POST {F}/draft", values, body)
    assert drafted["script"] == body["script"] and drafted["decision"] is None
    body = {"decision": "draft_template", "parameters": {"name": "HP LaserJet"}}
    decided = _walk(client, f"POST {F}/decision", values, body)
    assert decided["draft_template_id"] and decided["fix"]["decision"] == "draft_template"
    drafts = _walk(client, "GET /api/v1/draft-templates")["results"]
    assert [row["id"] for row in drafts] == [decided["draft_template_id"]]
    assert _pages(client, "/api/v1/draft-templates") == drafts
    values = {"draft_id": decided["draft_template_id"]}
    assert _walk(client, "GET /api/v1/draft-templates/{draft_id}", values)["status"] == "pending"
    accepted = _walk(client, "POST /api/v1/draft-templates/{draft_id}/accept", values)
    assert accepted["provenance"]["session_id"] == session.pk
    values = {"session_id": session.pk, "fix_id": fix()}
    decided = _walk(client, f"POST {F}/decision", values, {"decision": "draft_template"})
    values = {"draft_id": decided["draft_template_id"]}
    rejected = _walk(client, "POST /api/v1/draft-templates/{draft_id}/reject", values)
    assert rejected["status"] == "rejected"
    built = _walk(client, "POST /api/v1/script-builder/sessions", body={"origin": "standalone"})
    assert built["origin"] == "standalone" and built["ai_session_id"] is None


@pytest.fixture
def psa_simulator() -> Iterator[Simulator]:
    state = SimulatorState()
    seed_base(state)
    seed_tickets(state, 5)
    server = Simulator(state).start()
    yield server
    server.stop()


def test_the_psa_api_answers_what_its_schema_says(
    owner: User, psa_simulator: Simulator, api_client_for: ApiFor
) -> None:
    client = api_client_for(owner)
    assert _walk(client, f"GET {PSA}")["provider"] == "none"
    creds = psa_simulator.state.credentials
    body: dict[str, Any] = {
        "provider": "connectwise",
        "site": psa_simulator.site,
        "company_id": creds.company,
        "public_key": creds.public_key,
        "private_key": creds.private_key,
        "client_id": creds.client_id,
    }
    saved = _walk(client, f"PUT {PSA}", body=body)
    assert saved["public_key_set"] and saved["last_test"] is None
    assert _walk(client, f"POST {PSA}/test")["ok"] is True
    boards = _walk(client, f"GET {PSA}/boards")
    assert boards, "the simulator has boards"
    _walk(client, f"GET {PSA}/boards/{{board_id}}/statuses", {"board_id": boards[0]["id"]})
    members = _walk(client, f"GET {PSA}/members")
    page = _walk(client, f"GET {PSA}/tickets")
    assert page["results"] and page["warnings"] == []
    body = {
        "summary": "Laptop for new starter",
        "board_id": boards[0]["id"],
        "company_id": next(iter(psa_simulator.state.companies)),
    }
    created = _walk(client, f"POST {PSA}/tickets", body=body)
    values = {"ticket_id": created["id"]}
    detail = _walk(client, f"GET {PSA}/tickets/{{ticket_id}}", values)
    assert detail["summary"] == "Laptop for new starter" and isinstance(detail["notes"], list)
    _walk(client, f"GET {PSA}/tickets/{{ticket_id}}/resources", values)
    member = {"member": members[0]["identifier"]}
    added = _walk(client, f"POST {PSA}/tickets/{{ticket_id}}/resources", values, member)
    assert member["member"] in added["resources"]
    removed = _walk(client, f"DELETE {PSA}/tickets/{{ticket_id}}/resources", values, member)
    assert member["member"] not in removed["resources"]
