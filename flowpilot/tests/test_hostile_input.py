"""
No 500 from input, on every route of the URL conf (a route added later is covered without being
listed here): deeply nested JSON, NUL characters, unpaired surrogates, bodies over the upload
limit, and empty multipart bodies. Every /api/ error is the JSON error body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from flowpilot.testing.routes import Route, api_routes, form_field_names, page_routes
from flowpilot.tests.hostile_world import build_world

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 5000 + "]" * 5000  # ~10 KB
# The docs page is HTML by nature; everything else under /api/ answers JSON.
API_ROUTES = [route for route in api_routes() if route.name != "api-docs"]
PAGE_ROUTES = page_routes()


def send(client: Any, method: str, path: str, body: Any, content_type: str) -> Any:
    return getattr(client, method.lower())(path, body, content_type=content_type)


def assert_json_error(response: Any) -> dict[str, Any]:
    """No 5xx; an error is the JSON error body (a view that ignores the body may succeed)."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code in (204, 304):
        return {}
    assert "json" in response["Content-Type"], response.content[:300]
    body = response.json()
    if response.status_code >= 400:
        assert "detail" in body and "code" in body, body
    return body


@pytest.fixture
def world(engineer: User) -> dict[str, Any]:
    return build_world(engineer)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/login/json",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
    ],
)
def test_deep_json_on_anonymous_endpoints_is_invalid_json(db: None, path: str) -> None:
    """The anonymous endpoints that used to 500 on a 2 KB body answer 400 invalid_json."""
    response = Client().post(path, DEEP_JSON, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda route: route.template)
def test_deep_json_never_500s_on_any_api_route(
    route: Route,
    world: dict[str, Any],
    engineer: User,
    api_client_for: Callable[[User], APIClient],
) -> None:
    """Every API route and body method: a refusal with the JSON error body, never a 500; where
    the body is read, it is 400 invalid_json."""
    client = api_client_for(engineer)
    path = route.fill(world)
    for method in route.body_methods:
        response = send(client, method, path, DEEP_JSON, "application/json")
        body = assert_json_error(response)
        if response.status_code == 400:
            assert body["code"] == "invalid_json", (method, path, body)


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda route: route.template)
def test_surrogates_and_nul_in_json_are_refused(
    route: Route,
    world: dict[str, Any],
    engineer: User,
    api_client_for: Callable[[User], APIClient],
) -> None:
    client = api_client_for(engineer)
    path = route.fill(world)
    fields = ["content", "text", "problem", "email", "password", "refresh", "reason", "scope"]
    for bad, code in (("\ud800", "invalid_json"), ("a\x00b", "invalid_characters")):
        payload = json.dumps(dict.fromkeys(fields, bad))
        for method in route.body_methods:
            response = send(client, method, path, payload, "application/json")
            body = assert_json_error(response)
            if response.status_code == 400:
                assert body["code"] == code, (method, path, body)


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda route: route.template)
def test_nul_in_every_page_form_is_a_400_not_a_500(
    route: Route, world: dict[str, Any], engineer: User, client_for: Callable[[User], Client]
) -> None:
    """Every page route, POSTed every known form field with a NUL, refuses with 400."""
    client = client_for(engineer)
    path = route.fill(world)
    data = dict.fromkeys(form_field_names(), "before\x00after")
    response = client.post(path, data)
    assert response.status_code == 400, (path, response.status_code)
    htmx = client.post(path, data, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400
    assert "NUL" in json.loads(htmx["HX-Trigger"])["toast"]["message"]


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda route: route.template)
def test_nul_in_query_and_path_is_a_400(
    route: Route, world: dict[str, Any], engineer: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(engineer)
    assert client.get(route.fill(world), {"q": "a\x00", "edit": "\x00"}).status_code == 400
    strings = {name: "%00" for name in route.parameters if f"<str:{name}>" in route.template}
    if strings:
        assert client.get(route.fill({**world, **strings})).status_code == 400


def test_body_over_the_upload_limit_is_a_json_413(engineer: User, api_client_for: Any) -> None:
    client = api_client_for(engineer)
    huge = "x" * (3 * 1024 * 1024)
    for content_type, body in (
        ("application/json", json.dumps({"problem": huge})),
        ("application/x-www-form-urlencoded", f"problem={huge}"),
    ):
        response = client.post("/api/v1/ai-sessions", body, content_type=content_type)
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"


def test_empty_and_broken_multipart_bodies_are_json_errors(
    engineer: User, api_client_for: Any
) -> None:
    client = api_client_for(engineer)
    for content_type, body in (
        ("multipart/form-data; boundary=xyz", b""),
        ("multipart/form-data", b""),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nbroken"),
    ):
        response = client.post("/api/v1/ai-sessions", body, content_type=content_type)
        assert_json_error(response)
        assert response.status_code == 400


def test_page_body_over_the_limit_is_the_400_page(engineer: User, client_for: Any) -> None:
    response = client_for(engineer).post("/sessions/new", {"problem": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert b"too large" in response.content


def test_preferences_refuse_control_characters(owner: User, api_client_for: Any) -> None:
    response = api_client_for(owner).patch(
        "/api/v1/accounts/me/preferences",
        {"slack_webhook_url": "https://hooks.slack.com/services/x\r\nX-Evil: 1"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["slack_webhook_url"] == ["Must not contain control characters."]
