"""The Content-Security-Policy header and the vendored, signed-in-only API docs."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def directives(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_every_page_carries_a_strict_policy(engineer: User, client_for: Any) -> None:
    for response in (Client().get("/login"), client_for(engineer).get("/")):
        policy = directives(response)
        assert policy["default-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy["script-src"]
        assert "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]


def test_htmx_is_configured_without_eval(db: None) -> None:
    page = Client().get("/login").content.decode()
    assert '"allowEval": false' in page
    assert '"includeIndicatorStyles": false' in page


def test_api_docs_need_a_sign_in_and_load_nothing_from_a_cdn(
    engineer: User, client_for: Any
) -> None:
    anonymous = Client()
    assert anonymous.get("/api/docs/")["Location"].startswith("/login")
    schema = anonymous.get("/api/schema/")
    assert schema.status_code in (401, 403)
    assert "code" in schema.json()
    client = client_for(engineer)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in html
    assert "https://" not in html
    policy = directives(docs)
    assert "'unsafe-inline'" not in policy["script-src"]
    bundle = client.get("/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    assert bundle.status_code == 200
    assert client.get("/api/schema/").status_code == 200
