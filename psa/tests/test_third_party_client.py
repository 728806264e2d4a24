"""
The simulator speaks ConnectWise closely enough that an existing third-party client works
against it unchanged: pyconnectwise (which models every response with pydantic and refuses a
missing required field). Only its scheme is changed, to plain HTTP on loopback.
"""

from __future__ import annotations

from typing import Any

import pytest
from pyconnectwise import ConnectWiseManageAPIClient

from psa.simulator.server import Simulator


class LoopbackClient(ConnectWiseManageAPIClient):
    """pyconnectwise as published, with http:// instead of https:// (the simulator has no TLS)."""

    def _get_url(self) -> str:
        return f"http://{self.manage_url}/{self.codebase.strip('/')}/apis/3.0"

    def _try_get_codebase_from_api(
        self, manage_url: str, company_name: str, headers: dict[str, str]
    ) -> str:
        url = f"http://{manage_url}/login/companyinfo/{company_name}"
        codebase: str = self._make_request("GET", url, headers=headers).json().get("Codebase")
        return codebase


@pytest.fixture
def api(simulator: Simulator) -> Any:
    creds = simulator.state.credentials
    return LoopbackClient(
        creds.company, simulator.site, creds.client_id, creds.public_key, creds.private_key
    )


def test_codebase_lookup_and_lookups(api: Any, simulator: Simulator) -> None:
    assert api.codebase == "v4_6_release/"
    boards = api.service.boards.get()
    assert {b.name for b in boards} == {"Service Desk", "Projects"}
    statuses = api.service.boards.id(boards[0].id).statuses.get()
    assert "Resolved" in {s.name for s in statuses}
    members = api.system.members.get()
    assert {m.identifier for m in members} == {
        m["identifier"] for m in simulator.state.members.values()
    }


def test_tickets_conditions_order_and_paging(api: Any, simulator: Simulator) -> None:
    open_tickets = [t for t in simulator.state.tickets.values() if not t["closedFlag"]]
    page = api.service.tickets.get(
        params={"conditions": "closedFlag = false", "orderBy": "id desc", "pageSize": 5}
    )
    assert [t.id for t in page] == sorted((t["id"] for t in open_tickets), reverse=True)[:5]
    assert page[0].board.name and page[0].status.name and page[0].company.name

    every = list(api.service.tickets.paginated(1, 7).all())
    assert len(every) == len(simulator.state.tickets)
    assert len({t.id for t in every}) == len(every)


def test_notes_and_json_patch_write_through(api: Any, simulator: Simulator) -> None:
    ticket_id = max(simulator.state.tickets)
    endpoint = api.service.tickets.id(ticket_id)
    note = endpoint.notes.post(
        data={"text": "Checked from a third-party client", "internalAnalysisFlag": True}
    )
    assert note.internal_analysis_flag is True
    assert "Checked from a third-party client" in {n.text for n in endpoint.notes.get()}

    patched = endpoint.patch(data=[{"op": "replace", "path": "summary", "value": "Renamed"}])
    assert patched.summary == "Renamed"
    assert simulator.state.tickets[ticket_id]["summary"] == "Renamed"
