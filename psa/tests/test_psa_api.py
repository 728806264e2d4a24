"""The /integrations/psa API against the simulator: settings (owner), tickets, lookups."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import AuditEvent, User
from psa.models import PSAIntegration
from psa.simulator.seed import seed_tickets
from psa.simulator.server import Simulator

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], APIClient]
BASE = "/api/v1/integrations/psa"


@pytest.fixture
def connected(owner: User, simulator: Simulator, connect_account: Callable[..., Any]) -> Simulator:
    connect_account(owner.account, simulator)
    return simulator


def settings_body(simulator: Simulator, **overrides: Any) -> dict[str, Any]:
    creds = simulator.state.credentials
    return {
        "provider": "connectwise",
        "site": simulator.site,
        "company_id": creds.company,
        "public_key": creds.public_key,
        "private_key": creds.private_key,
        "client_id": creds.client_id,
        **overrides,
    }


class TestSettings:
    def test_owner_saves_and_tests_the_connection_and_never_sees_the_keys(
        self, owner: User, simulator: Simulator, api_client_for: ApiFor, caplog: Any
    ) -> None:
        caplog.set_level(logging.DEBUG)
        client = api_client_for(owner)
        saved = client.put(BASE, settings_body(simulator), format="json")
        assert saved.status_code == 200, saved.json()
        body = saved.json()
        assert body["public_key_set"] and body["private_key_set"] and body["is_simulator"]
        tested = client.post(f"{BASE}/test")
        assert tested.status_code == 200
        assert tested.json()["ok"] is True
        assert "FlowPilot Simulated MSP" in tested.json()["message"]
        creds = simulator.state.credentials
        for response in (saved, tested, client.get(BASE)):
            assert creds.private_key not in response.content.decode()
            assert creds.public_key not in response.content.decode()
        assert creds.private_key not in caplog.text
        payloads = repr(list(AuditEvent.objects.values_list("payload", flat=True)))
        assert creds.private_key not in payloads and creds.public_key not in payloads
        assert AuditEvent.objects.filter(type="psa.credentials_updated").count() == 1

    @pytest.mark.parametrize(
        ("override", "expected"),
        [
            ({"private_key": "wrong"}, "API keys"),
            ({"client_id": "not-registered"}, "clientId"),
            ({"company_id": "nosuchco"}, "nosuchco"),
            ({"site": "127.0.0.1:9"}, "Cannot reach"),
        ],
    )
    def test_a_failed_test_says_what_is_wrong(
        self,
        owner: User,
        simulator: Simulator,
        api_client_for: ApiFor,
        override: Any,
        expected: str,
    ) -> None:
        client = api_client_for(owner)
        assert (
            client.put(BASE, settings_body(simulator, **override), format="json").status_code == 200
        )
        result = client.post(f"{BASE}/test").json()
        assert result["ok"] is False
        assert expected in result["message"]

    def test_missing_permission_is_named_by_the_test(
        self, owner: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        connected.state.faults.denied = {"service/tickets": {"*"}}
        result = api_client_for(owner).post(f"{BASE}/test").json()
        assert result["ok"] is False
        assert "Service Desk › Service Tickets" in result["message"]

    def test_field_errors_and_blank_keys_keep_the_stored_ones(
        self, owner: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(owner)
        refused = client.put(BASE, {"provider": "connectwise", "site": "bad host!"}, format="json")
        assert refused.status_code == 400
        assert set(refused.json()) >= {"site", "client_id", "company_id"}
        kept = client.put(
            BASE, settings_body(connected, public_key="", private_key=""), format="json"
        )
        assert kept.status_code == 200
        assert client.post(f"{BASE}/test").json()["ok"] is True

    def test_only_the_owner_sees_or_changes_settings(
        self, admin_user: User, engineer: User, viewer: User, api_client_for: ApiFor
    ) -> None:
        for user in (admin_user, engineer, viewer):
            client = api_client_for(user)
            for response in (
                client.get(BASE),
                client.put(BASE, {"provider": "none"}, format="json"),
                client.post(f"{BASE}/test"),
            ):
                assert response.status_code == 403
                assert response.json()["detail"] == "Account owner access required"

    def test_another_accounts_integration_is_never_seen(
        self, owner: User, stranger: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(stranger)
        assert client.get(BASE).json()["provider"] == "none"
        assert (
            client.get(f"{BASE}/tickets/{next(iter(connected.state.tickets))}").status_code == 404
        )
        assert client.get(f"{BASE}/boards").json() == []
        assert PSAIntegration.objects.filter(account=stranger.account).count() == 0


class TestTickets:
    def test_search_filters_and_pages(
        self, engineer: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(engineer)
        first = client.get(f"{BASE}/tickets", {"page_size": "10", "open": "false"}).json()
        assert len(first["results"]) == 10 and first["has_next"] and first["last_page"] == 4
        escalated = client.get(
            f"{BASE}/tickets", {"status": "Escalated", "page_size": "100"}
        ).json()
        assert escalated["results"]
        assert {t["status"]["name"] for t in escalated["results"]} == {"Escalated"}
        assert {t["board"]["name"] for t in escalated["results"]} <= {"Service Desk", "Projects"}

    def test_mine_uses_the_member_with_my_email(
        self, engineer: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        ticket = next(iter(connected.state.tickets.values()))
        ticket["resources"] = "jane.cooper"
        ticket["closedFlag"] = False
        mine = api_client_for(engineer).get(f"{BASE}/tickets", {"assignee": "mine"}).json()
        assert ticket["id"] in [t["id"] for t in mine["results"]]
        assert all("jane.cooper" in t["resources"] for t in mine["results"])

    def test_list_costs_one_upstream_request_and_flat_queries(
        self,
        engineer: User,
        connected: Simulator,
        api_client_for: ApiFor,
        django_assert_num_queries: Any,
    ) -> None:
        client = api_client_for(engineer)
        client.get(f"{BASE}/tickets")  # warms the codebase lookup
        for extra in (0, 500):
            seed_tickets(connected.state, extra, seed=extra)
            connected.state.requests.clear()
            with django_assert_num_queries(3):
                assert client.get(f"{BASE}/tickets").status_code == 200
            assert len(connected.state.requests) == 1

    def test_detail_with_notes_and_resources(
        self, engineer: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        ticket = next(iter(connected.state.tickets.values()))
        client = api_client_for(engineer)
        detail = client.get(f"{BASE}/tickets/{ticket['id']}").json()
        assert detail["summary"] == ticket["summary"]
        assert detail["notes"][0]["text"] == ticket["initialDescription"]
        ticket["resources"] = "dkim"
        added = client.post(f"{BASE}/tickets/{ticket['id']}/resources", {"member": "mtorres"})
        assert added.json() == {"resources": ["dkim", "mtorres"]}
        removed = client.delete(f"{BASE}/tickets/{ticket['id']}/resources?member=dkim")
        assert removed.json() == {"resources": ["mtorres"]}
        unknown = client.post(f"{BASE}/tickets/{ticket['id']}/resources", {"member": "nobody"})
        assert unknown.status_code == 400
        assert client.get(f"{BASE}/tickets/987654").status_code == 404

    def test_create_a_ticket(
        self, engineer: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(engineer)
        company = next(iter(connected.state.companies))
        created = client.post(
            f"{BASE}/tickets",
            {"summary": "Laptop for new starter", "board_id": 1, "company_id": company},
            format="json",
        )
        assert created.status_code == 201, created.json()
        assert connected.state.tickets[created.json()["id"]]["summary"] == "Laptop for new starter"
        too_long = client.post(
            f"{BASE}/tickets",
            {"summary": "x" * 100, "board_id": 1, "company_id": 99999},
            format="json",
        )
        assert too_long.status_code == 502
        assert too_long.json()["code"] == "psa_invalid"

    def test_viewers_read_but_never_change(
        self, viewer: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(viewer)
        ticket_id = next(iter(connected.state.tickets))
        assert client.get(f"{BASE}/tickets").status_code == 200
        for response in (
            client.post(f"{BASE}/tickets", {"summary": "x", "board_id": 1, "company_id": 250}),
            client.post(f"{BASE}/tickets/{ticket_id}/resources", {"member": "dkim"}),
            client.delete(f"{BASE}/tickets/{ticket_id}/resources?member=dkim"),
        ):
            assert response.status_code == 403
            assert response.json()["detail"] == "Engineer or admin access required"

    def test_lookups_answer_empty_when_the_psa_refuses(
        self, engineer: User, connected: Simulator, api_client_for: ApiFor, caplog: Any
    ) -> None:
        connected.state.faults.denied = {
            "system/members": {"*"},
            "service/boards": {"*"},
            "service/boards/statuses": {"*"},
        }
        client = api_client_for(engineer)
        assert client.get(f"{BASE}/members").json() == []
        assert client.get(f"{BASE}/boards").json() == []
        assert client.get(f"{BASE}/boards/1/statuses").json() == []
        assert "Member Maintenance" in caplog.text
        connected.state.faults.denied = {}
        # Refusals are not cached: the list is back once the role allows it.
        assert len(client.get(f"{BASE}/members").json()) == len(connected.state.members)

    def test_lookups_are_cached_per_account(
        self, engineer: User, connected: Simulator, api_client_for: ApiFor
    ) -> None:
        client = api_client_for(engineer)
        client.get(f"{BASE}/boards")
        connected.state.requests.clear()
        for _ in range(3):
            assert len(client.get(f"{BASE}/boards").json()) == 2
        assert len(connected.state.requests) == 0
