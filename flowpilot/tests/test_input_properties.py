"""
Property-based: arbitrary bodies (any text, NUL, lone surrogates, huge strings, wrong types,
nested JSON) against the API bodies that carry free text or structure — chat messages, facts,
fix parameters and drafts, outcome bodies — and the page forms of the chat and What we know.
Never a 5xx; a refusal is a 4xx with the JSON error body {"detail", "code"} and stores nothing;
an accepted text is stored as sent (stripped), nothing lost. Example counts stay modest so the
suite stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.testing.routes import Route, api_routes, form_field_names, page_routes
from flowpilot.tests.hostile_world import build_world
from sessions_app.models import AISession, AISessionStep, Fact, StepRole
from sessions_app.services.facts import clean_fact_text

pytestmark = pytest.mark.django_db

PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Every code point: NUL and the other controls, lone surrogates, astral characters.
ANY_CHAR = st.characters(exclude_categories=())
HUGE = st.builds(lambda char, size: char * size, ANY_CHAR, st.integers(7990, 20000))
TEXT = st.one_of(st.text(ANY_CHAR, max_size=60), HUGE, st.just(""), st.just("   "))
# Page forms arrive as UTF-8 from a browser: no lone surrogates there.
FORM_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    st.builds(lambda size: "x" * size, st.integers(7990, 9000)),
)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUE = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=8,
)
OUTCOMES = st.sampled_from(
    ["applied_success", "applied_failed", "applied_partial", "applied_pending", "not_applied"]
)


def post_json(client: APIClient, method: str, path: str, body: Any) -> Any:
    # json.dumps escapes a lone surrogate as \\ud800: the server's parser must refuse it.
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def assert_handled(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, response.content[:300]
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code >= 400:
        assert isinstance(body.get("detail"), str) and isinstance(body.get("code"), str), body
    return body


@pytest.fixture
def world(engineer: User) -> dict[str, Any]:
    return build_world(engineer)


@pytest.fixture
def api(engineer: User, api_client_for: Callable[[User], APIClient]) -> APIClient:
    return api_client_for(engineer)


@PROPERTY
@given(content=JSON_VALUE, extra=st.dictionaries(TEXT, JSON_VALUE, max_size=2))
def test_chat_messages(api: APIClient, world: dict[str, Any], content: Any, extra: Any) -> None:
    session_id = world["session_id"]
    before = AISessionStep.objects.filter(session_id=session_id, role=StepRole.USER).count()
    response = post_json(
        api, "post", f"/api/v1/ai-sessions/{session_id}/messages", {**extra, "content": content}
    )
    body = assert_handled(response)
    after = AISessionStep.objects.filter(session_id=session_id, role=StepRole.USER).count()
    if response.status_code == 201:
        stored = AISessionStep.objects.get(pk=body["user_step"]["id"])
        if isinstance(content, str):
            assert stored.content == content.strip()
        assert body["assistant_step"]["reply_to"] == stored.pk
        assert after == before + 1
    else:
        assert response.status_code == 400, body
        assert after == before


@PROPERTY
@given(text=JSON_VALUE)
def test_facts_add_and_edit(api: APIClient, world: dict[str, Any], text: Any) -> None:
    base = f"/api/v1/ai-sessions/{world['session_id']}/facts"
    before = Fact.objects.filter(session_id=world["session_id"]).count()
    added = post_json(api, "post", base, {"text": text})
    body = assert_handled(added)
    if added.status_code == 201:
        assert Fact.objects.get(pk=body["id"]).text == body["text"]
        if isinstance(text, str):
            assert body["text"] == clean_fact_text(text)
    else:
        assert added.status_code in (400, 422), body
        assert Fact.objects.filter(session_id=world["session_id"]).count() == before
    original = Fact.objects.get(pk=world["fact_id"]).text
    edited = post_json(api, "patch", f"{base}/{world['fact_id']}", {"text": text})
    body = assert_handled(edited)
    stored = Fact.objects.get(pk=world["fact_id"]).text
    if edited.status_code == 200:
        assert stored == body["text"]
        Fact.objects.filter(pk=world["fact_id"]).update(text=original)
    else:
        assert edited.status_code in (400, 422), body
        assert stored == original


@PROPERTY
@given(
    outcome=st.one_of(OUTCOMES, JSON_VALUE),
    fields=st.dictionaries(
        st.sampled_from(["reason", "notes", "failure_reason", "partial_notes", "pending_reason"]),
        JSON_VALUE,
        max_size=3,
    ),
)
def test_fix_outcome_bodies(
    api: APIClient, world: dict[str, Any], outcome: Any, fields: dict[str, Any]
) -> None:
    path = f"/api/v1/ai-sessions/{world['session_id']}/suggested-fixes/{world['fix_id']}/outcome"
    response = post_json(api, "patch", path, {**fields, "outcome": outcome})
    body = assert_handled(response)
    if response.status_code >= 400:
        assert response.status_code in (400, 409, 422), body


@PROPERTY
@given(script=JSON_VALUE, parameters=JSON_VALUE, decision=st.one_of(st.just("edit"), TEXT))
def test_fix_parameters_drafts_and_decisions(
    api: APIClient, world: dict[str, Any], script: Any, parameters: Any, decision: Any
) -> None:
    fix = f"/api/v1/ai-sessions/{world['session_id']}/suggested-fixes/{world['fix_id']}"
    for path, payload in (
        (f"{fix}/draft", {"script": script, "parameters": parameters}),
        (f"{fix}/decision", {"decision": decision, "script": script, "parameters": parameters}),
    ):
        response = post_json(api, "post", path, payload)
        body = assert_handled(response)
        if response.status_code >= 400:
            assert response.status_code in (400, 409, 422), (path, body)


@PROPERTY
@given(content=FORM_TEXT)
def test_page_composer_and_note_forms(
    engineer: User,
    client_for: Callable[[User], Client],
    world: dict[str, Any],
    content: str,
) -> None:
    client = client_for(engineer)
    session_id = world["session_id"]
    steps = AISessionStep.objects.filter(session_id=session_id, role=StepRole.USER)
    before = steps.count()
    sent = client.post(
        f"/sessions/{session_id}/messages", {"content": content}, HTTP_HX_REQUEST="true"
    )
    assert sent.status_code < 500
    if "\x00" in content:
        assert sent.status_code == 400
    if steps.count() > before:
        assert steps.order_by("-pk")[0].content == content.strip()
        # The streamed reply is not opened here: free the turn for the next example.
        AISession.objects.filter(pk=session_id).update(turn_owner="", turn_lease_until=None)
    facts = Fact.objects.filter(session_id=session_id)
    before = facts.count()
    noted = client.post(f"/sessions/{session_id}/facts", {"text": content}, HTTP_HX_REQUEST="true")
    assert noted.status_code < 500
    if "\x00" in content:
        assert noted.status_code == 400 and facts.count() == before
    if facts.count() > before:
        assert facts.order_by("-pk")[0].text == clean_fact_text(content)


# --- every route of the URL conf (a route added later is covered without being listed) --------

# The bodies' field names: every form control of the templates plus the API's own field names,
# so that arbitrary values reach the fields each route really reads.
API_FIELDS = sorted(
    {
        *form_field_names(),
        *("content", "text", "problem", "outcome", "reason", "notes", "note", "markdown"),
        *("partial_notes", "pending_reason", "failure_reason", "parameters", "script"),
        *("template_id", "ai_session_id", "decision", "body", "name", "email", "role"),
        *("password", "refresh", "scope", "psa_ticket_id", "target_user_id", "intent"),
        *("preferences", "state_version", "is_active", "category", "description"),
    }
)
ROUTE_PROPERTY = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
API_BODY = st.dictionaries(st.sampled_from(API_FIELDS), JSON_VALUE, max_size=6) | JSON_VALUE
FORM_BODY = st.dictionaries(st.sampled_from(form_field_names() or ["text"]), FORM_TEXT, max_size=6)


@pytest.mark.parametrize(
    "route",
    [route for route in api_routes() if route.name != "api-docs" and route.body_methods],
    ids=lambda route: route.template,
)
def test_every_api_body_is_handled(route: Route, world: dict[str, Any], api: APIClient) -> None:
    """Arbitrary JSON bodies on every API route and body method: never a 5xx, and every refusal
    is the JSON error body."""
    path = route.fill(world)

    @ROUTE_PROPERTY
    @given(body=API_BODY)
    def check(body: Any) -> None:
        for method in route.body_methods:
            assert_handled(post_json(api, method.lower(), path, body))

    check()


@pytest.mark.parametrize("route", page_routes(), ids=lambda route: route.template)
def test_every_page_form_is_handled(
    route: Route, world: dict[str, Any], engineer: User, client_for: Callable[[User], Client]
) -> None:
    """Arbitrary form posts (any text, NUL, huge values) on every page route: never a 5xx."""
    client = client_for(engineer)
    path = route.fill(world)

    @ROUTE_PROPERTY
    @given(data=FORM_BODY, htmx=st.booleans())
    def check(data: dict[str, str], htmx: bool) -> None:
        response = client.post(path, data, headers={"HX-Request": "true"} if htmx else None)
        assert response.status_code < 500, (path, response.status_code, response.content[:300])

    check()
