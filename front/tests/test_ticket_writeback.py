"""
Resolving or escalating a session linked to a ConnectWise ticket writes back through the PSA
(the composition app wires sessions' write-back port to psa), against the simulator over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Account, AuditEvent, User
from psa.simulator.server import Simulator
from sessions_app.models import AISession, SessionStatus

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]
NOTE = (
    "## Problem\n\nPrinter offline.\n\n## Resolution\n\nCleared the spooler and re-added the queue."
)


def ticket_of(simulator: Simulator) -> dict[str, Any]:
    return next(t for t in simulator.state.tickets.values() if t["board"]["id"] == 1)


def status_id(simulator: Simulator, board_id: int, name: str) -> int:
    return next(
        s["id"]
        for s in simulator.state.statuses.values()
        if s["board"]["id"] == board_id and s["name"] == name
    )


def linked_session(user: User, ticket_id: int) -> AISession:
    return AISession.objects.create(
        account=user.account,
        user=user,
        problem_summary="Printer offline in reception",
        psa_ticket_id=str(ticket_id),
    )


def set_preferences(account: Account, **values: Any) -> None:
    account.preferences = {**account.preferences, **values}
    account.save(update_fields=["preferences"])


@pytest.fixture
def connected(
    engineer: User, simulator: Simulator, connect_account: Callable[..., Any]
) -> Simulator:
    connect_account(engineer.account, simulator)
    return simulator


def post(client: APIClient, session: AISession, kind: str, markdown: str = NOTE) -> Any:
    return client.post(
        f"/api/v1/ai-sessions/{session.pk}/{kind}/post", {"markdown": markdown}, format="json"
    )


def test_resolve_posts_the_resolution_note_and_moves_the_ticket(
    engineer: User, connected: Simulator, api_client_for: ApiFor
) -> None:
    ticket = ticket_of(connected)
    resolved = status_id(connected, 1, "Resolved")
    set_preferences(engineer.account, cw_resolved_status_id=resolved)
    session = linked_session(engineer, ticket["id"])
    response = post(api_client_for(engineer), session, "resolution-note")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["outcome"] == "resolved"
    assert body["psa"]["status_transition"] == "applied"
    assert body["psa"]["status_id"] == resolved
    note = connected.state.notes[ticket["id"]][-1]
    assert note["text"] == NOTE
    assert note["resolutionFlag"] and not note["internalAnalysisFlag"]
    assert ticket["status"]["id"] == resolved and ticket["closedFlag"]
    session.refresh_from_db()
    assert session.status == SessionStatus.RESOLVED


def test_a_ticket_on_another_board_gets_the_status_of_the_same_name(
    engineer: User, connected: Simulator, api_client_for: ApiFor
) -> None:
    project = next(t for t in connected.state.tickets.values() if t["board"]["id"] == 2)
    set_preferences(engineer.account, cw_resolved_status_id=status_id(connected, 1, "Resolved"))
    response = post(
        api_client_for(engineer), linked_session(engineer, project["id"]), "resolution-note"
    )
    assert response.status_code == 200, response.json()
    assert project["status"]["id"] == status_id(connected, 2, "Resolved")


def test_an_unset_target_status_skips_the_transition_and_says_why(
    engineer: User, connected: Simulator, api_client_for: ApiFor
) -> None:
    ticket = ticket_of(connected)
    before = dict(ticket["status"])
    response = post(
        api_client_for(engineer), linked_session(engineer, ticket["id"]), "resolution-note"
    )
    body = response.json()
    assert body["outcome"] == "resolved"
    assert body["psa"]["status_transition"] == "skipped"
    assert "cw_resolved_status_id" in body["psa"]["status_transition_skipped_reason"]
    assert ticket["status"] == before


def test_an_ignored_status_change_is_a_502_and_leaves_the_session_open(
    engineer: User, connected: Simulator, api_client_for: ApiFor
) -> None:
    ticket = ticket_of(connected)
    resolved = status_id(connected, 1, "Resolved")
    set_preferences(engineer.account, cw_resolved_status_id=resolved)
    connected.state.faults.ignored_status_ids = {resolved}
    session = linked_session(engineer, ticket["id"])
    client = api_client_for(engineer)
    failed = post(client, session, "resolution-note")
    assert failed.status_code == 502
    assert failed.json()["code"] == "psa_status_not_applied"
    assert "still shows" in failed.json()["detail"]
    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE
    assert session.resolution_note == NOTE  # nothing typed is lost
    # The workflow rule is fixed; posting again does not post the note twice.
    connected.state.faults.ignored_status_ids = set()
    again = post(client, session, "resolution-note")
    assert again.status_code == 200
    assert again.json()["psa"]["note_already_posted"] is True
    assert [n["text"] for n in connected.state.notes[ticket["id"]]].count(NOTE) == 1
    session.refresh_from_db()
    assert session.status == SessionStatus.RESOLVED


def test_a_failed_post_keeps_the_session_unresolved_and_the_text(
    engineer: User, connected: Simulator, api_client_for: ApiFor
) -> None:
    ticket = ticket_of(connected)
    connected.state.faults.server_errors = 1
    connected.state.faults.server_error_methods = {"POST"}
    session = linked_session(engineer, ticket["id"])
    response = post(api_client_for(engineer), session, "resolution-note")
    assert response.status_code == 502
    assert response.json()["code"] == "psa_unavailable"
    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE
    assert session.resolution_note == NOTE
    assert not AuditEvent.objects.filter(type="session.resolved").exists()


def test_a_timeout_whose_post_landed_is_not_posted_twice(
    engineer: User, connected: Simulator, api_client_for: ApiFor, settings: Any
) -> None:
    settings.PSA_READ_TIMEOUT = 0.5
    ticket = ticket_of(connected)
    connected.state.faults.delay = 1.0
    connected.state.faults.delay_methods = {"POST"}  # the note is saved, the answer is late
    session = linked_session(engineer, ticket["id"])
    response = post(api_client_for(engineer), session, "resolution-note")
    assert response.status_code == 200, response.json()
    assert response.json()["psa"]["note_already_posted"] is True
    assert [n["text"] for n in connected.state.notes[ticket["id"]]].count(NOTE) == 1


def test_escalate_posts_an_internal_analysis_note_and_the_escalated_status(
    engineer: User, connected: Simulator, api_client_for: ApiFor
) -> None:
    ticket = ticket_of(connected)
    escalated = status_id(connected, 1, "Escalated")
    set_preferences(engineer.account, cw_escalated_status_id=escalated)
    session = linked_session(engineer, ticket["id"])
    package = "## Problem\n\nPrinter offline.\n\n## Suggested next steps\n\nCheck the switch port."
    response = post(api_client_for(engineer), session, "escalation-package", package)
    assert response.status_code == 200, response.json()
    assert response.json()["outcome"] == "escalated"
    note = connected.state.notes[ticket["id"]][-1]
    assert note["text"] == package
    assert note["internalAnalysisFlag"] and not note["resolutionFlag"]
    assert ticket["status"]["id"] == escalated


def test_without_a_psa_a_linked_session_resolves_locally(
    engineer: User, api_client_for: ApiFor
) -> None:
    session = linked_session(engineer, 1234)
    response = post(api_client_for(engineer), session, "resolution-note")
    assert response.status_code == 200
    assert response.json()["outcome"] == "resolved_local"
    assert "psa" not in response.json()


def test_link_an_open_session_from_the_ticket_page(
    engineer: User, teammate: User, connected: Simulator, client_for: Callable[[User], Any]
) -> None:
    ticket = ticket_of(connected)
    mine = AISession.objects.create(
        account=engineer.account, user=engineer, problem_summary="Outlook asks for a password"
    )
    theirs = AISession.objects.create(
        account=engineer.account, user=teammate, problem_summary="Teammate's session"
    )
    client = client_for(engineer)
    page = client.get(f"/tickets/{ticket['id']}").content.decode()
    assert "Outlook asks for a password" in page and "Teammate&#x27;s session" not in page
    linked = client.post(f"/tickets/{ticket['id']}/link-session", {"session_id": mine.pk})
    assert linked.status_code == 302 and linked["Location"] == mine.get_absolute_url()
    mine.refresh_from_db()
    assert mine.psa_ticket_id == str(ticket["id"])
    refused = client.post(f"/tickets/{ticket['id']}/link-session", {"session_id": theirs.pk})
    assert refused.status_code == 302
    theirs.refresh_from_db()
    assert theirs.psa_ticket_id == ""


def test_the_prompt_carries_the_linked_tickets_details(
    engineer: User, connected: Simulator
) -> None:
    from sessions_app.selectors import prompt_context

    ticket = ticket_of(connected)
    session = linked_session(engineer, ticket["id"])
    details = prompt_context(session)["ticket_details"]
    assert details["summary"] == ticket["summary"]
    assert details["company"] == ticket["company"]["name"]
    assert details["initial_description"] == ticket["initialDescription"]
    connected.state.requests.clear()
    prompt_context(session)
    assert len(connected.state.requests) == 0  # cached


def test_a_psa_that_is_down_leaves_the_prompt_without_details(
    engineer: User, connected: Simulator
) -> None:
    from sessions_app.selectors import prompt_context

    connected.state.faults.denied = {"service/tickets": {"*"}}
    session = linked_session(engineer, ticket_of(connected)["id"])
    context = prompt_context(session)
    assert "ticket_details" not in context
    assert context["ticket"] == session.psa_ticket_id


def test_spin_a_new_ticket_off_a_session(
    engineer: User, connected: Simulator, client_for: Callable[[User], Any]
) -> None:
    session = AISession.objects.create(
        account=engineer.account, user=engineer, problem_summary="Scanner to e-mail stopped"
    )
    client = client_for(engineer)
    page = client.get(session.get_absolute_url()).content.decode()
    assert 'data-testid="ticket-link-new-ticket"' in page
    form = client.get(f"/tickets/new?origin=session:{session.pk}&summary=Scanner+to+e-mail+stopped")
    assert f'value="session:{session.pk}"' in form.content.decode()
    company = next(iter(connected.state.companies))
    created = client.post(
        "/tickets/new",
        {
            "board_id": 1,
            "company_id": company,
            "summary": "Scanner to e-mail stopped",
            "origin": f"session:{session.pk}",
        },
    )
    assert created.status_code == 302 and created["Location"] == session.get_absolute_url()
    session.refresh_from_db()
    ticket = connected.state.tickets[int(session.psa_ticket_id)]
    assert ticket["summary"] == "Scanner to e-mail stopped"
    page = client.get(session.get_absolute_url()).content.decode()
    assert 'data-testid="ticket-link-new-ticket"' not in page


def test_no_spin_off_link_without_a_psa(engineer: User, client_for: Callable[[User], Any]) -> None:
    session = AISession.objects.create(
        account=engineer.account, user=engineer, problem_summary="Printer offline"
    )
    page = client_for(engineer).get(session.get_absolute_url()).content.decode()
    assert "ticket-link-new-ticket" not in page
