"""Library, generator and editor pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape

from accounts.models import User
from scripts.models import ScriptCategory, ScriptGeneration, ScriptTemplate
from scripts.parameters import REDACTED

pytestmark = pytest.mark.django_db
ClientFor = Callable[[User], Client]
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def _extra_templates(user: User, count: int) -> None:
    category = ScriptCategory.objects.filter(account=user.account).first()
    ScriptTemplate.objects.bulk_create(
        ScriptTemplate(
            account=user.account,
            category=category,
            name=f"Bulk {index}",
            body="Get-Service -Name '{{name}}'\n",
            parameters_schema=[{"name": "name"}],
        )
        for index in range(count)
    )


def test_library_lists_by_category_and_searches(engineer: User, client_for: ClientFor) -> None:
    client = client_for(engineer)
    html = client.get("/scripts").content.decode()
    assert "Reset Outlook profile" in html and 'data-testid="category-printers"' in html
    printers = client.get("/scripts?category=printers").content.decode()
    assert "Add a network printer" in printers and "Reset Outlook profile" not in printers
    partial = client.get(
        "/scripts?q=outlook+profile", HTTP_HX_TARGET="template-list", **HX
    ).content.decode()
    assert partial.strip().startswith('<div id="template-list"')
    assert "Reset Outlook profile" in partial and "Add a network printer" not in partial


def test_library_cards_show_category_parameters_and_provenance(
    engineer: User, teammate: User, client_for: ClientFor
) -> None:
    category = ScriptCategory.objects.filter(account=engineer.account).order_by("position").first()
    assert category is not None
    template = ScriptTemplate.objects.create(
        account=engineer.account,
        category=category,
        name="Aaa provenance check",
        description="Rebuilds the OST.",
        body="Write-Output '{{a}}' '{{b}}'\n",
        parameters_schema=[{"name": "a"}, {"name": "b"}],
        source_ticket="99123",
        source_user=teammate,
    )
    html = client_for(engineer).get("/scripts?q=provenance+check").content.decode()
    card = html[html.index(f'data-template-id="{template.pk}"') :]
    card = card[: card.index("</a>")]
    assert f'href="/scripts/templates/{template.pk}"' in html
    assert escape(category.name) in card and "Rebuilds the OST." in card and "2 parameters" in card
    assert f"CW #99123</span> · resolved by {teammate.display_name}" in card


def test_library_page_query_count_is_flat(
    engineer: User, client_for: ClientFor, django_assert_max_num_queries: Any
) -> None:
    client = client_for(engineer)
    client.get("/scripts")
    with django_assert_max_num_queries(10) as small:
        client.get("/scripts")
    _extra_templates(engineer, 200)
    with django_assert_max_num_queries(10) as large:
        html = client.get("/scripts").content.decode()
    assert len(large.captured_queries) == len(small.captured_queries)
    # The library is paged: a page shows at most PAGE_SIZE cards and links the next one.
    assert html.count('data-testid="template-card"') == 48
    assert 'data-testid="library-next"' in html
    last = client.get("/scripts?page=5").content.decode()
    assert 'data-testid="library-prev"' in last and 'data-testid="library-next"' not in last


def test_generator_renders_a_secret_and_stores_it_redacted(
    engineer: User, client_for: ClientFor
) -> None:
    template = ScriptTemplate.objects.get(
        account=engineer.account, name="Reset an Active Directory password"
    )
    client = client_for(engineer)
    page = client.get(template.get_absolute_url()).content.decode()
    assert 'type="password"' in page and 'name="param-temporary_password"' in page
    response = client.post(
        template.get_absolute_url(),
        {
            "param-sam_account_name": "jdoe",
            "param-temporary_password": "Hunter2!",
            "param-unlock": "on",
        },
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hunter2!" in html  # the engineer copies it once
    assert "Safety review" in html
    run = ScriptGeneration.objects.get(template=template)
    assert run.parameters == {
        "sam_account_name": "jdoe",
        "temporary_password": REDACTED,
        "unlock": True,
    }


def test_generator_names_a_missing_value(engineer: User, client_for: ClientFor) -> None:
    template = ScriptTemplate.objects.get(
        account=engineer.account, name="Unlock an Active Directory account"
    )
    response = client_for(engineer).post(template.get_absolute_url(), {})
    assert response.status_code == 422
    assert "Missing required parameter" in response.content.decode()
    assert not ScriptGeneration.objects.exists()


def test_editor_creates_edits_and_deletes(engineer: User, client_for: ClientFor) -> None:
    client = client_for(engineer)
    response = client.post(
        "/scripts/templates/new",
        {
            "name": "Ping a host",
            "body": "Test-Connection -ComputerName '{{host}}'",
            "parameters": json.dumps([{"name": "host"}]),
        },
    )
    template = ScriptTemplate.objects.get(name="Ping a host")
    assert response["Location"] == template.get_absolute_url()
    bad = client.post(
        f"/scripts/templates/{template.pk}/edit",
        {"name": "Ping", "body": "Test-Connection '{{other}}'", "parameters": "[]"},
    )
    assert bad.status_code == 422 and "no parameter declares it" in bad.content.decode()
    broken_json = client.post(
        f"/scripts/templates/{template.pk}/edit",
        {"name": "Ping", "body": "x", "parameters": "[{"},
    )
    assert broken_json.status_code == 400
    client.post(
        f"/scripts/templates/{template.pk}/edit",
        {
            "name": "Ping it",
            "body": "Test-Connection '{{host}}'",
            "parameters": '[{"name": "host"}]',
        },
    )
    template.refresh_from_db()
    assert template.name == "Ping it"
    client.post(f"/scripts/templates/{template.pk}/delete")
    assert not ScriptTemplate.objects.filter(pk=template.pk).exists()


def test_viewer_reads_but_cannot_write_and_stranger_gets_404(
    engineer: User, viewer: User, stranger: User, client_for: ClientFor
) -> None:
    template = ScriptTemplate.objects.filter(account=engineer.account).first()
    assert template is not None
    reader = client_for(viewer)
    assert reader.get("/scripts").status_code == 200
    assert reader.get(template.get_absolute_url()).status_code == 200
    assert reader.post(template.get_absolute_url(), {}).status_code == 403
    assert reader.get("/scripts/templates/new").status_code == 403
    assert reader.post(f"/scripts/templates/{template.pk}/delete").status_code == 403
    assert reader.get("/scripts/builder").status_code == 403
    outsider = client_for(stranger)
    assert outsider.get(template.get_absolute_url()).status_code == 404
    assert outsider.get(f"/scripts/templates/{template.pk}/edit").status_code == 404
    assert outsider.post(f"/scripts/templates/{template.pk}/delete").status_code == 404
    assert "Reset Outlook profile" in outsider.get("/scripts").content.decode()  # their own copy
