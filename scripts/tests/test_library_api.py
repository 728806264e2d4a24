"""Library API: templates CRUD, categories, generate, review; tenancy and roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, User
from scripts.models import ScriptCategory, ScriptGeneration, ScriptTemplate
from scripts.parameters import REDACTED, parse_schema
from scripts.rendering import render
from scripts.review import review_script
from scripts.services.library import starter_library
from sessions_app.models import AISession

pytestmark = pytest.mark.django_db
ApiFor = Callable[[User], APIClient]

SECRET_TEMPLATE = {
    "name": "Reset password",
    "description": "Sets a temporary password.",
    "body": "$u = '{{user}}'\n$p = ConvertTo-SecureString '{{password}}' -AsPlainText -Force\n"
    "Set-ADAccountPassword -Identity $u -Reset -NewPassword $p\n",
    "parameters": [
        {"name": "user", "type": "string", "required": True},
        {"name": "password", "type": "secret", "required": True},
    ],
}


def _template(account: Account, **extra: Any) -> ScriptTemplate:
    return ScriptTemplate.objects.create(
        account=account,
        name=extra.pop("name", "Check host"),
        body=extra.pop("body", "Test-NetConnection -ComputerName '{{host}}' -Port {{port}}\n"),
        parameters_schema=extra.pop(
            "parameters_schema",
            [{"name": "host"}, {"name": "port", "type": "int", "default": 443}],
        ),
        **extra,
    )


def test_new_account_gets_the_starter_library(account: Account) -> None:
    templates = ScriptTemplate.objects.filter(account=account)
    assert templates.count() >= 15
    assert ScriptCategory.objects.filter(account=account).count() == 5
    assert {t.category.slug for t in templates.select_related("category") if t.category} == {
        "outlook-exchange",
        "network-vpn",
        "accounts-ad",
        "printers",
        "endpoint",
    }
    assert templates.filter(name="Reset Outlook profile").exists()


@pytest.mark.parametrize("item", starter_library()["templates"], ids=lambda i: i["name"])
def test_starter_templates_parse_pass_review_and_render(item: dict[str, Any]) -> None:
    schema = parse_schema(item.get("parameters") or [])
    review = review_script(item["body"])
    assert review.parses, review.findings
    assert not review.has_high, review.findings
    values = {
        s.name: 3 if s.type == "int" else ("16.0" if s.type == "choice" else "x'; Stop-Computer")
        for s in schema
        if s.type != "bool"
    }
    rendered = render(item["body"], schema, values)
    assert "{{" not in rendered.script
    assert review_script(rendered.script).parses


def test_list_filters_by_category_and_search_with_flat_queries(
    engineer: User, api_client_for: ApiFor, django_assert_num_queries: Any
) -> None:
    client = api_client_for(engineer)
    with django_assert_num_queries(2):  # the token's user, the templates
        body = client.get("/api/v1/scripts/templates?category=printers").json()
    assert body["results"] and all(t["category"]["slug"] == "printers" for t in body["results"])
    for index in range(20):
        _template(engineer.account, name=f"Extra {index}")
    with django_assert_num_queries(2):
        body = client.get("/api/v1/scripts/templates").json()
    assert len(body["results"]) >= 35
    found = client.get("/api/v1/scripts/templates/?q=outlook profile").json()["results"]
    assert [t["name"] for t in found] == ["Reset Outlook profile"]


def test_crud_and_validation(engineer: User, api_client_for: ApiFor) -> None:
    client = api_client_for(engineer)
    category = ScriptCategory.objects.filter(account=engineer.account).first()
    assert category is not None
    created = client.post(
        "/api/v1/scripts/templates", {**SECRET_TEMPLATE, "category_id": category.pk}, format="json"
    )
    assert created.status_code == 201, created.json()
    template_id = created.json()["id"]
    assert created.json()["category"]["id"] == category.pk
    patched = client.patch(
        f"/api/v1/scripts/templates/{template_id}", {"name": "Reset AD password"}, format="json"
    )
    assert patched.json()["name"] == "Reset AD password"
    bad = client.patch(
        f"/api/v1/scripts/templates/{template_id}",
        {"body": "Get-X '{{nobody}}'"},
        format="json",
    )
    assert bad.status_code == 422 and bad.json()["code"] == "placeholder_unknown"
    unknown_category = client.post(
        "/api/v1/scripts/templates", {**SECRET_TEMPLATE, "category_id": 999999}, format="json"
    )
    assert unknown_category.status_code == 400
    assert unknown_category.json()["code"] == "unknown_category"
    glued = client.post(
        "/api/v1/scripts/templates",
        {"name": "x", "body": "dir \\\\{{s}}\\share", "parameters": [{"name": "s"}]},
        format="json",
    )
    assert glued.status_code == 422 and glued.json()["code"] == "placeholder_unquoted"
    assert client.delete(f"/api/v1/scripts/templates/{template_id}").status_code == 204
    assert client.get(f"/api/v1/scripts/templates/{template_id}").status_code == 404


def test_generate_redacts_secrets_logs_and_bumps_the_session(
    engineer: User, api_client_for: ApiFor
) -> None:
    client = api_client_for(engineer)
    template_id = client.post("/api/v1/scripts/templates", SECRET_TEMPLATE, format="json").json()[
        "id"
    ]
    session = AISession.objects.create(
        account=engineer.account, user=engineer, problem_summary="Locked out"
    )
    response = client.post(
        "/api/v1/scripts/generate",
        {
            "template_id": template_id,
            "parameters": {"user": "jane", "password": "Hunter2!"},
            "ai_session_id": session.pk,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert "'Hunter2!'" in body["script"]
    assert body["parameters"] == {"user": "jane", "password": REDACTED}
    assert {f["rule"] for f in body["review"]["findings"]} == {"plaintext_credential"}
    run = ScriptGeneration.objects.get()
    assert run.parameters["password"] == REDACTED and "Hunter2!" not in str(run.schema)
    session.refresh_from_db()
    assert session.state_version == 2


@pytest.mark.parametrize(
    ("parameters", "code"),
    [
        ({"user": "jane"}, "parameter_missing"),
        ({"user": "jane", "password": "x", "extra": 1}, "parameter_unknown"),
    ],
)
def test_generate_refuses_bad_parameters(
    engineer: User, api_client_for: ApiFor, parameters: dict[str, Any], code: str
) -> None:
    client = api_client_for(engineer)
    template_id = client.post("/api/v1/scripts/templates", SECRET_TEMPLATE, format="json").json()[
        "id"
    ]
    response = client.post(
        "/api/v1/scripts/generate",
        {"template_id": template_id, "parameters": parameters},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert not ScriptGeneration.objects.exists()


def test_review_endpoint(engineer: User, api_client_for: ApiFor) -> None:
    client = api_client_for(engineer)
    body = client.post(
        "/api/v1/scripts/review", {"script": "Format-Volume -DriveLetter D\n"}, format="json"
    ).json()
    assert body == {
        "parses": True,
        "findings": [
            {
                "rule": "disk_format",
                "severity": "high",
                "line": 1,
                "message": "Formats, wipes or repartitions a disk.",
            }
        ],
    }
    broken = client.post("/api/v1/scripts/review", {"script": "Get-X (\n"}, format="json").json()
    assert broken["parses"] is False
    assert broken["findings"][0]["rule"] == "syntax_error"


def test_viewer_reads_but_cannot_write(viewer: User, api_client_for: ApiFor) -> None:
    client = api_client_for(viewer)
    template = ScriptTemplate.objects.filter(account=viewer.account).first()
    assert template is not None
    assert client.get("/api/v1/scripts/templates").status_code == 200
    assert client.get(f"/api/v1/scripts/templates/{template.pk}").status_code == 200
    assert client.get("/api/v1/scripts/categories").status_code == 200
    for method, url, data in [
        ("post", "/api/v1/scripts/templates", SECRET_TEMPLATE),
        ("patch", f"/api/v1/scripts/templates/{template.pk}", {"name": "x"}),
        ("delete", f"/api/v1/scripts/templates/{template.pk}", None),
        ("post", "/api/v1/scripts/generate", {"template_id": template.pk}),
        ("post", "/api/v1/scripts/review", {"script": "x"}),
    ]:
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 403, url
        assert response.json()["detail"] == "Engineer or admin access required"


def test_stranger_gets_404(engineer: User, stranger: User, api_client_for: ApiFor) -> None:
    template = ScriptTemplate.objects.filter(account=engineer.account).first()
    assert template is not None
    session = AISession.objects.create(account=engineer.account, user=engineer, problem_summary="x")
    client = api_client_for(stranger)
    assert client.get(f"/api/v1/scripts/templates/{template.pk}").status_code == 404
    assert (
        client.patch(
            f"/api/v1/scripts/templates/{template.pk}", {"name": "x"}, format="json"
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/scripts/templates/{template.pk}").status_code == 404
    assert (
        client.post(
            "/api/v1/scripts/generate", {"template_id": template.pk}, format="json"
        ).status_code
        == 404
    )
    own = ScriptTemplate.objects.filter(account=stranger.account, parameters_schema=[]).first()
    assert own is not None
    assert (
        client.post(
            "/api/v1/scripts/generate",
            {"template_id": own.pk, "ai_session_id": session.pk},
            format="json",
        ).status_code
        == 404
    )
    names = {t["name"] for t in client.get("/api/v1/scripts/templates").json()["results"]}
    assert template.account_id != stranger.account_id and len(names) >= 15
