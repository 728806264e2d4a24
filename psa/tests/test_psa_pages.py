"""The Tickets workspace and PSA settings pages against the simulator."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from psa.simulator.server import Simulator

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]


@pytest.fixture
def connected(owner: User, simulator: Simulator, connect_account: Callable[..., Any]) -> Simulator:
    connect_account(owner.account, simulator)
    return simulator


class TestSettingsPage:
    def test_owner_saves_the_connection_and_the_keys_are_not_rendered(
        self, owner: User, simulator: Simulator, client_for: ClientFor
    ) -> None:
        client = client_for(owner)
        creds = simulator.state.credentials
        page = client.get("/settings/psa")
        assert page.status_code == 200 and b"Test connection" in page.content
        saved = client.post(
            "/settings/psa",
            {
                "provider": "connectwise",
                "site": simulator.site,
                "company_id": creds.company,
                "public_key": creds.public_key,
                "private_key": creds.private_key,
                "client_id": creds.client_id,
            },
            follow=True,
        )
        html = saved.content.decode()
        assert "PSA connection saved" in html
        assert "ConnectWise simulator" in html
        assert creds.private_key not in html and creds.public_key not in html
        tested = client.post("/settings/psa/test", HTTP_HX_REQUEST="true")
        assert b"Connected to FlowPilot Simulated MSP" in tested.content
        assert b"<html" not in tested.content

    def test_bad_input_shows_field_errors(self, owner: User, client_for: ClientFor) -> None:
        response = client_for(owner).post("/settings/psa", {"provider": "connectwise"})
        assert response.status_code == 422
        assert b"The ConnectWise company id is required." in response.content

    def test_writeback_statuses_are_chosen_from_the_boards(
        self, owner: User, connected: Simulator, client_for: ClientFor
    ) -> None:
        client = client_for(owner)
        page = client.get("/settings/psa").content.decode()
        assert "Service Desk · Resolved" in page and "Projects · Escalated" in page
        resolved = next(
            s["id"] for s in connected.state.statuses.values() if s["name"] == "Resolved"
        )
        client.post("/settings/psa/writeback", {"cw_resolved_status_id": resolved})
        owner.account.refresh_from_db()
        assert owner.account.preferences["cw_resolved_status_id"] == resolved

    def test_only_owners(self, admin_user: User, viewer: User, client_for: ClientFor) -> None:
        for user in (admin_user, viewer):
            client = client_for(user)
            assert client.get("/settings/psa").status_code == 403
            assert client.post("/settings/psa", {"provider": "none"}).status_code == 403


class TestTicketsPages:
    def test_without_a_psa_the_page_says_how_to_connect(
        self, owner: User, engineer: User, client_for: ClientFor
    ) -> None:
        assert b"Set up the PSA" in client_for(owner).get("/tickets").content
        assert b"Ask the account owner" in client_for(engineer).get("/tickets").content

    def test_filter_by_status_across_boards(
        self, engineer: User, connected: Simulator, client_for: ClientFor
    ) -> None:
        client = client_for(engineer)
        page = client.get("/tickets", {"status": "Escalated"})
        html = page.content.decode()
        assert page.status_code == 200 and "ConnectWise simulator" in html
        expected = [
            t["id"]
            for t in connected.state.tickets.values()
            if t["status"]["name"] == "Escalated" and not t["closedFlag"]
        ]
        for ticket_id in expected[:5]:
            assert f'data-ticket="{ticket_id}"' in html
        fragment = client.get("/tickets", {"status": "Escalated"}, HTTP_HX_REQUEST="true")
        assert b'id="ticket-results"' in fragment.content and b"<html" not in fragment.content

    def test_a_refused_lookup_names_the_permission_and_the_list_still_works(
        self, engineer: User, connected: Simulator, client_for: ClientFor
    ) -> None:
        connected.state.faults.denied = {"system/members": {"*"}}
        page = client_for(engineer).get("/tickets")
        html = page.content.decode()
        assert page.status_code == 200
        assert "System › Member Maintenance" in html
        assert 'id="ticket-table"' in html

    def test_a_refused_ticket_list_is_a_banner_not_an_error_page(
        self, engineer: User, connected: Simulator, client_for: ClientFor
    ) -> None:
        connected.state.faults.denied = {"service/tickets": {"GET"}}
        page = client_for(engineer).get("/tickets")
        assert page.status_code == 200
        assert "Service Desk › Service Tickets" in page.content.decode()

    def test_detail_assign_unassign_and_start_session(
        self, engineer: User, connected: Simulator, client_for: ClientFor
    ) -> None:
        ticket = next(iter(connected.state.tickets.values()))
        ticket["resources"] = "dkim"
        client = client_for(engineer)
        html = client.get(f"/tickets/{ticket['id']}").content.decode()
        assert escape(ticket["summary"]) in html and escape(ticket["initialDescription"]) in html
        assert "/sessions/new?ticket=" in html
        client.post(f"/tickets/{ticket['id']}/resources", {"member": "jane.cooper"})
        assert ticket["resources"] == "dkim, jane.cooper"
        client.post(f"/tickets/{ticket['id']}/resources", {"member": "dkim", "action": "remove"})
        assert ticket["resources"] == "jane.cooper"
        start = client.get(f"/sessions/new?ticket={ticket['id']}&problem=Printer+down")
        assert f'value="{ticket["id"]}"' in start.content.decode()

    def test_new_ticket(self, engineer: User, connected: Simulator, client_for: ClientFor) -> None:
        client = client_for(engineer)
        form = client.get("/tickets/new").content.decode()
        assert "Acme Corp" in form and "Service Desk" in form
        statuses = client.get("/tickets/new", {"board_id": 2}, HTTP_HX_REQUEST="true")
        assert b"On Hold" in statuses.content and b"<html" not in statuses.content
        company = next(iter(connected.state.companies))
        created = client.post(
            "/tickets/new",
            {"board_id": 1, "company_id": company, "summary": "Replace toner in HR"},
            follow=True,
        )
        assert b"Replace toner in HR" in created.content
        assert any(t["summary"] == "Replace toner in HR" for t in connected.state.tickets.values())

    def test_viewer_reads_but_cannot_act(
        self, viewer: User, connected: Simulator, client_for: ClientFor
    ) -> None:
        ticket_id = next(iter(connected.state.tickets))
        client = client_for(viewer)
        html = client.get(f"/tickets/{ticket_id}").content.decode()
        assert "Start session" not in html and 'id="assign-form"' not in html
        assert client.post(f"/tickets/{ticket_id}/resources", {"member": "dkim"}).status_code == 403
        assert client.get("/tickets/new").status_code == 403

    def test_another_accounts_ticket_is_a_404(
        self, stranger: User, connected: Simulator, client_for: ClientFor
    ) -> None:
        ticket_id = next(iter(connected.state.tickets))
        assert client_for(stranger).get(f"/tickets/{ticket_id}").status_code == 404
