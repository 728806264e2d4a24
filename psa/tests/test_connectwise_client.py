"""The ConnectWise client against the simulator over real HTTP (no mocked requests)."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
import requests

from psa.errors import (
    PSAAuthError,
    PSANotFound,
    PSAPermissionError,
    PSARateLimited,
    PSAUnavailable,
    PSAValidationError,
)
from psa.providers.base import NewTicket, NoteKind, TicketQuery
from psa.providers.connectwise import ConnectWiseClient, ConnectWiseProvider
from psa.simulator.seed import seed_tickets
from psa.simulator.server import Simulator

Client = Callable[..., ConnectWiseClient]


def api_requests(simulator: Simulator) -> list[tuple[str, str]]:
    return list(simulator.state.requests)


def test_the_codebase_comes_from_companyinfo_and_is_cached(
    simulator: Simulator, cw_client: Client
) -> None:
    simulator.state.codebase = "v2025_8/"
    client = cw_client()
    assert client.base_url() == f"http://{simulator.site}/v2025_8/apis/3.0/"
    client.get("service/boards")
    client.get("service/boards")
    assert client.requests_sent == 3  # one lookup, two calls
    assert all(path.startswith("/v2025_8/apis/3.0/") for _, path in api_requests(simulator))


def test_a_changed_codebase_is_looked_up_again_after_a_404(
    simulator: Simulator, cw_client: Client
) -> None:
    client = cw_client()
    client.get("service/boards")
    simulator.state.codebase = "v2026_1/"  # the hosted instance was upgraded
    boards = client.get("service/boards")
    assert [b["name"] for b in boards] == ["Service Desk", "Projects"]
    assert client.codebase() == "v2026_1/"


def test_an_unknown_company_is_named(cw_client: Client) -> None:
    with pytest.raises(PSAValidationError) as caught:
        cw_client(company="nosuchco").get("service/boards")
    assert "nosuchco" in caught.value.detail
    assert caught.value.field_errors == {"company_id": ["Unknown company id on this site."]}


def test_every_call_sends_basic_auth_and_client_id(simulator: Simulator, cw_client: Client) -> None:
    seen: list[requests.PreparedRequest] = []
    client = cw_client()
    client.session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    client.get("service/boards")
    sent = seen[-1]
    creds = simulator.state.credentials
    expected = base64.b64encode(
        f"{creds.company}+{creds.public_key}:{creds.private_key}".encode()
    ).decode()
    assert sent.headers["Authorization"] == f"Basic {expected}"
    assert sent.headers["clientId"] == creds.client_id
    assert sent.headers["Accept"] == "application/vnd.connectwise.com+json; version=2025.8"


def test_bad_keys_and_a_missing_client_id_are_told_apart(cw_client: Client) -> None:
    with pytest.raises(PSAAuthError) as bad_keys:
        cw_client(private_key="wrong").get("service/boards")
    assert bad_keys.value.code == "psa_auth_failed"
    assert "API keys" in bad_keys.value.detail
    with pytest.raises(PSAAuthError) as no_client:
        cw_client(client_id="").get("service/boards")
    assert no_client.value.code == "psa_client_id_invalid"


def test_a_wrong_site_is_unavailable() -> None:
    from psa.providers.connectwise import Credentials, build_session

    client = ConnectWiseClient(
        Credentials("127.0.0.1:9", "flowpilot", "a", "b", "c"),
        session=build_session(retries=0),
    )
    with pytest.raises(PSAUnavailable) as caught:
        client.get("service/boards")
    assert "127.0.0.1:9" in caught.value.detail


def test_pagination_follows_the_link_header_to_the_end(
    simulator: Simulator, cw_client: Client
) -> None:
    seed_tickets(simulator.state, 2460)  # 2,500 with the fixture's 40
    client = cw_client()
    client.codebase()
    before = client.requests_sent
    tickets = client.get_all("service/tickets", fields="id")
    assert len(tickets) == 2500
    assert len({t["id"] for t in tickets}) == 2500
    assert client.requests_sent - before == 3  # pages of 1,000, 1,000 and 500


def test_lists_page_forward_only_by_page_id_following_the_link(
    simulator: Simulator, cw_client: Client
) -> None:
    seed_tickets(simulator.state, 2460)
    client = cw_client()
    client.codebase()
    simulator.state.requests.clear()
    tickets = client.get_all("service/tickets", fields="id", page_size=1000)
    ids = [t["id"] for t in tickets]
    assert ids == sorted(ids) and len(set(ids)) == 2500  # id order, each once
    paths = [path for _, path in api_requests(simulator)]
    assert len(paths) == 3
    assert "pageId" not in paths[0] and "page=" not in paths[0]
    # Each next page starts after the last id seen, as the Link header said.
    assert f"pageId={ids[999]}" in paths[1] and f"pageId={ids[1999]}" in paths[2]


def test_order_by_is_applied_to_the_whole_list(
    simulator: Simulator, cw: ConnectWiseProvider
) -> None:
    names = [member.name for member in cw.members()]
    last_names = [name.split()[-1].casefold() for name in names]
    assert last_names == sorted(last_names)
    assert all("orderBy" not in path for _, path in api_requests(simulator))


def test_order_by_sorts_text_case_insensitively_missing_values_last() -> None:
    from psa.providers.connectwise import _ordered

    rows: list[dict[str, object]] = [{"n": "b"}, {"n": None}, {"n": "A"}, {"n": "c"}]
    assert _ordered(rows, "n asc") == [{"n": "A"}, {"n": "b"}, {"n": "c"}, {"n": None}]
    assert _ordered(rows, "n desc")[0] == {"n": "c"}


def test_a_ticket_page_knows_whether_more_follow(
    simulator: Simulator, cw: ConnectWiseProvider
) -> None:
    first = cw.search_tickets(TicketQuery(open_only=False, page=1, page_size=25))
    assert len(first.tickets) == 25 and first.has_next and first.last_page == 2
    second = cw.search_tickets(TicketQuery(open_only=False, page=2, page_size=25))
    assert len(second.tickets) == 15 and not second.has_next
    assert first.tickets[0].id > second.tickets[-1].id  # newest first


def test_quotes_in_search_text_are_escaped(simulator: Simulator, cw: ConnectWiseProvider) -> None:
    company = next(iter(simulator.state.companies))
    created = cw.create_ticket(
        NewTicket(summary='Label says "PAPER JAM" \\ tray 2', company_id=company, board_id=1)
    )
    found = cw.search_tickets(TicketQuery(text='"PAPER JAM" \\ tray'))
    assert [t.id for t in found.tickets] == [created.id]
    assert cw.search_tickets(TicketQuery(text='" or id > 0 or summary = "')).tickets == []


def test_filters_by_status_name_across_boards_and_assignment(
    simulator: Simulator, cw: ConnectWiseProvider
) -> None:
    page = cw.search_tickets(TicketQuery(status_name="escalated", page_size=100))
    expected = [
        t["id"] for t in simulator.state.tickets.values() if t["status"]["name"] == "Escalated"
    ]
    assert sorted(t.id for t in page.tickets) == sorted(expected)
    assert {t.board.name for t in page.tickets if t.board} == {
        simulator.state.tickets[i]["board"]["name"] for i in expected
    }
    unassigned = cw.search_tickets(
        TicketQuery(assignee="unassigned", open_only=False, page_size=100)
    )
    assert unassigned.tickets and all(t.resources == () for t in unassigned.tickets)
    mine = cw.search_tickets(TicketQuery(assignee="dkim", open_only=False, page_size=100))
    assert mine.tickets and all("dkim" in t.resources for t in mine.tickets)


def test_a_429_is_retried_after_retry_after(simulator: Simulator, cw_client: Client) -> None:
    client = cw_client()
    client.codebase()
    simulator.state.faults.rate_limited = 1
    simulator.state.faults.retry_after = 1
    simulator.state.requests.clear()
    boards = client.get("service/boards")
    assert len(boards) == 2
    assert len(api_requests(simulator)) == 2  # the 429, then the retry


def test_a_long_retry_after_answers_rate_limited_at_once(
    simulator: Simulator, cw_client: Client
) -> None:
    client = cw_client()
    simulator.state.faults.rate_limited = 5
    simulator.state.faults.retry_after = 30
    with pytest.raises(PSARateLimited) as caught:
        client.get("service/boards")
    assert caught.value.retry_after == 30
    assert "30 seconds" in caught.value.detail


def test_a_500_on_a_read_is_retried(simulator: Simulator, cw_client: Client) -> None:
    client = cw_client()
    client.codebase()
    simulator.state.faults.server_errors = 1
    simulator.state.requests.clear()
    assert len(client.get("service/boards")) == 2
    assert len(api_requests(simulator)) == 2


def test_a_500_on_a_write_is_not_retried(simulator: Simulator, cw: ConnectWiseProvider) -> None:
    ticket_id = next(iter(simulator.state.tickets))
    cw.client.codebase()
    notes_before = len(simulator.state.notes[ticket_id])
    simulator.state.faults.server_errors = 1
    simulator.state.faults.server_error_methods = {"POST"}
    simulator.state.requests.clear()
    with pytest.raises(PSAUnavailable) as caught:
        cw.add_note(ticket_id, "Rebooted the spooler.", NoteKind.INTERNAL)
    assert "500" in caught.value.detail
    assert [m for m, _ in api_requests(simulator)] == ["POST"]
    assert len(simulator.state.notes[ticket_id]) == notes_before


def test_refusals_map_to_errors(simulator: Simulator, cw: ConnectWiseProvider) -> None:
    simulator.state.faults.denied = {"system/members": {"*"}}
    with pytest.raises(PSAPermissionError) as denied:
        cw.members()
    assert denied.value.permission == "System › Member Maintenance"
    assert "Member Maintenance" in denied.value.detail
    with pytest.raises(PSANotFound):
        cw.get_ticket(999_999)
    with pytest.raises(PSAValidationError) as invalid:
        cw.create_ticket(NewTicket(summary="x" * 101, company_id=250, board_id=1))
    assert "summary" in invalid.value.field_errors
    with pytest.raises(PSAValidationError) as wrong_board:
        cw.set_status(next(iter(simulator.state.tickets)), 999)
    assert wrong_board.value.field_errors["status/id"][0].startswith("Service Status 999")


def test_notes_need_a_display_flag_and_come_back_with_their_kind(
    simulator: Simulator, cw: ConnectWiseProvider
) -> None:
    ticket_id = next(iter(simulator.state.tickets))
    note = cw.add_note(ticket_id, "Cleared the print queue.", NoteKind.RESOLUTION)
    stored = simulator.state.notes[ticket_id][-1]
    assert stored["resolutionFlag"] and not stored["internalAnalysisFlag"]
    assert cw.notes(ticket_id)[-1] == note
    assert note.kind == NoteKind.RESOLUTION


def test_resources_add_and_remove_keep_the_others(
    simulator: Simulator, cw: ConnectWiseProvider
) -> None:
    ticket = simulator.state.tickets[next(iter(simulator.state.tickets))]
    ticket["resources"] = "ivy.chen, dkim"
    assert cw.add_resource(ticket["id"], "mtorres") == ["ivy.chen", "dkim", "mtorres"]
    assert cw.add_resource(ticket["id"], "MTORRES") == ["ivy.chen", "dkim", "mtorres"]
    assert cw.remove_resource(ticket["id"], "dkim") == ["ivy.chen", "mtorres"]
    assert ticket["resources"] == "ivy.chen, mtorres"


def test_lookups(simulator: Simulator, cw: ConnectWiseProvider) -> None:
    boards = cw.boards()
    assert [b.name for b in boards] == ["Service Desk", "Projects"]
    statuses = cw.board_statuses(boards[0].id)
    assert statuses[0].name == "New" and any(s.closed for s in statuses)
    assert len(cw.priorities()) == 4
    assert any(m.email == "ivy@contoso.example" for m in cw.members())
    assert len(cw.companies()) == len(simulator.state.companies)
    assert cw.test_connection().ok
