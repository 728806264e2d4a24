"""Browser: the fix card's parameter form and Copy, the acknowledgement of a risky script,
the generator with a secret, and a fix saved as a draft, resolved and accepted into the
library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from scripts.models import ScriptGeneration, ScriptTemplate
from scripts.parameters import REDACTED
from scripts.tests.test_decisions import secret_fix
from sessions_app.models import AISession
from sessions_app.services import fixes
from sessions_app.tests.test_fixes import make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LoginAs = Callable[[Any, User], None]


def _clipboard(page: Any) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def _allow_clipboard(page: Any, live_server_url: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server_url)


def test_fill_a_fixs_parameters_and_copy_the_filled_script(
    page: Any, live_server_url: str, login_as: LoginAs, engineer: User
) -> None:
    """Copy refuses while a required value is missing, then copies the quoted, filled script."""
    session = make_session(engineer, "Ping fails to the file server")
    fixes.propose_fix(
        session=session,
        step=None,
        title="Test the connection",
        description="",
        confidence=60,
        script="Test-NetConnection -ComputerName '{{host}}' -Port {{port}}\n",
        parameters=[{"name": "host"}, {"name": "port", "type": "int", "default": 445}],
    )
    _allow_clipboard(page, live_server_url)
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    copy = page.get_by_test_id("script-copy")
    expect(page.get_by_test_id("script-missing")).to_contain_text("Host")
    copy.click()
    expect(page.locator("#toasts")).to_contain_text("Fill in the required values first: Host.")
    page.locator("input[name=param-host]").fill("fs01'; Stop-Computer")
    expect(page.get_by_test_id("script-missing")).to_have_count(0)
    expect(page.get_by_test_id("script-text")).to_contain_text("'fs01''; Stop-Computer'")
    page.get_by_test_id("script-copy").click()
    expect(page.locator("#toasts")).to_contain_text("Script copied.")
    assert (
        _clipboard(page) == "Test-NetConnection -ComputerName 'fs01''; Stop-Computer' -Port 445\n"
    )


def test_a_dangerous_script_needs_the_acknowledgement(
    page: Any, live_server_url: str, login_as: LoginAs, engineer: User
) -> None:
    session = make_session(engineer, "Defender blocks the line-of-business app")
    fixes.propose_fix(
        session=session,
        step=None,
        title="Turn off real-time protection",
        description="",
        confidence=30,
        script="Set-MpPreference -DisableRealtimeMonitoring $true\n",
        parameters=[],
    )
    _allow_clipboard(page, live_server_url)
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    finding = page.get_by_test_id("finding")
    expect(finding).to_contain_text("Turns off Microsoft Defender protection.")
    expect(finding).to_contain_text("line 1")
    page.get_by_test_id("script-copy").click()
    expect(page.locator("#toasts")).to_contain_text("tick “I understand”")
    page.get_by_test_id("script-ack").check()
    page.get_by_test_id("script-copy").click()
    expect(page.locator("#toasts")).to_contain_text("Script copied.")
    assert _clipboard(page) == "Set-MpPreference -DisableRealtimeMonitoring $true\n"


def test_generate_from_a_template_with_a_secret_field(
    page: Any, live_server_url: str, login_as: LoginAs, engineer: User
) -> None:
    template = ScriptTemplate.objects.get(
        account=engineer.account, name="Reset an Active Directory password"
    )
    login_as(page, engineer)
    page.goto(f"{live_server_url}/scripts")
    page.get_by_test_id("library-search").fill("reset an active")
    expect(page.get_by_test_id("template-card")).to_have_count(1)
    page.get_by_test_id("template-card").click()
    secret = page.locator("input[name=param-temporary_password]")
    expect(secret).to_have_attribute("type", "password")
    page.locator("input[name=param-sam_account_name]").fill("jdoe")
    secret.fill("Winter-2026!")
    page.get_by_test_id("generate").click()
    expect(page.get_by_test_id("script-text")).to_contain_text("'Winter-2026!'")
    expect(page.get_by_test_id("script-review")).to_contain_text("clear text")
    run = ScriptGeneration.objects.get(template=template)
    assert run.parameters["temporary_password"] == REDACTED


def test_save_a_draft_resolve_accept_it_and_find_it_in_the_library(
    page: Any, live_server_url: str, login_as: LoginAs, engineer: User
) -> None:
    session = make_session(engineer, "Password reset for jane@contoso.com")
    AISession.objects.filter(pk=session.pk).update(psa_ticket_id="99123")
    fix = secret_fix(session)
    login_as(page, engineer)
    page.goto(f"{live_server_url}/sessions/{session.pk}")
    expect(page.locator("input[name=param-user_upn]")).to_have_value("jane@contoso.com")
    expect(page.get_by_test_id("from-session")).to_be_visible()
    page.locator("input[name=param-password]").fill("Temp-Pass-1")
    page.get_by_test_id("fix-use-script").click()
    page.get_by_test_id("fix-decision-draft_template").click()
    expect(page.locator("#toasts")).to_contain_text("a draft template is saved")
    expect(page.get_by_test_id("fix-decision-note")).to_contain_text("offered to the team")

    fixes.record_outcome(session=session, fix=fix, outcome="applied_success", actor=engineer)
    resolution_note = "Reset the password; the user signed in."
    page.reload()
    page.get_by_test_id("preview-resolve").click()
    page.get_by_test_id("preview-markdown").fill(resolution_note)
    page.get_by_test_id("preview-post").click()

    offer = page.get_by_test_id("draft-offer")
    expect(offer).to_be_visible()
    expect(page.get_by_test_id("draft-param").first).to_be_visible()
    page.locator("#draft-name").fill("Reset an Entra ID password")
    page.get_by_test_id("draft-accept").click()
    expect(page.locator("#toasts")).to_contain_text("is in the team's library")
    expect(offer).to_have_count(0)

    page.goto(f"{live_server_url}/scripts?q=Entra")
    card = page.get_by_test_id("template-card")
    expect(card).to_contain_text("Reset an Entra ID password")
    expect(card.get_by_test_id("template-provenance")).to_contain_text(
        f"from CW #99123 · resolved by {engineer.display_name}"
    )
    assert ScriptTemplate.objects.get(name="Reset an Entra ID password").source_ticket == "99123"
