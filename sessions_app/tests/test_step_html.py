"""
Assistant steps keep their Markdown rendered once (issue 8, part 9): written with the step,
backfilled for older rows, shown by the page as stored; lists render as lists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.apps import apps
from django.test import Client

from accounts.models import User
from sessions_app import models
from sessions_app.models import AISessionStep, StepRole
from sessions_app.tests.chat_support import start
from sessions_app.tests.test_sessions_list import make_sessions

pytestmark = pytest.mark.django_db

PLAN = "Try this:\n1. Clear the credential\n2. Restart Outlook\n- then tell me"


def assistant_step(user: User, content: str = PLAN) -> AISessionStep:
    session = start(user)
    return AISessionStep.objects.create(
        account=user.account, session=session, role=StepRole.ASSISTANT, content=content
    )


def test_an_assistant_step_stores_its_html_when_written(engineer: User) -> None:
    step = assistant_step(engineer)
    step.refresh_from_db()
    assert "<ol>\n<li>Clear the credential</li>" in step.content_html
    assert "<ul>\n<li>then tell me</li>" in step.content_html
    step.content = "Now **bold** <script>alert(1)</script>"
    step.save(update_fields=["content"])
    step.refresh_from_db()
    assert "<strong>bold</strong>" in step.content_html and "<script" not in step.content_html


def test_a_user_step_stores_no_html(engineer: User) -> None:
    session = start(engineer)
    step = session.steps.get()
    assert step.role == StepRole.USER and step.content_html == ""


def test_the_session_page_shows_the_stored_html_without_rendering_again(
    engineer: User, client_for: Callable[[User], Client]
) -> None:
    step = assistant_step(engineer)
    client = client_for(engineer)
    with mock.patch.object(models, "render_markdown", autospec=True) as render:
        html = client.get(f"/sessions/{step.session_id}").content.decode()
    render.assert_not_called()
    assert "<ol>\n<li>Clear the credential</li>\n<li>Restart Outlook</li>\n</ol>" in html


def test_a_step_written_in_bulk_still_renders(engineer: User) -> None:
    session = start(engineer)
    (step,) = AISessionStep.objects.bulk_create(
        [AISessionStep(account=engineer.account, session=session, role="assistant", content=PLAN)]
    )
    assert step.content_html == "" and "<ol>" in step.body_html


def test_the_migration_backfills_older_steps(engineer: User) -> None:
    step = assistant_step(engineer)
    AISessionStep.objects.filter(pk=step.pk).update(content_html="")
    migration = importlib.import_module("sessions_app.migrations.0007_step_content_html")
    migration.backfill(apps, None)
    step.refresh_from_db()
    assert "<ol>" in step.content_html


def test_the_sessions_page_costs_the_same_queries_at_any_size(
    engineer: User,
    teammate: User,
    client_for: Callable[[User], Client],
    django_assert_max_num_queries: Any,
) -> None:
    """The list page at 2 sessions and at 80 (with picked-up ones): the same queries."""
    client = client_for(engineer)
    make_sessions(engineer, 2)
    client.get("/sessions")
    with django_assert_max_num_queries(10) as small:
        assert client.get("/sessions").status_code == 200
    make_sessions(engineer, 60)
    make_sessions(teammate, 20, escalated_to=engineer)
    with django_assert_max_num_queries(10) as large:
        assert client.get("/sessions").status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
