"""
The simulator's in-memory ConnectWise: records in the API's own shapes (camelCase fields,
``{id, name}`` references), the credentials it accepts and the faults it is told to inject.
One lock guards every change; the HTTP handler threads share one ``SimulatorState``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Faults:
    """What to break. Endpoint keys are API paths without ids, e.g. ``system/members``."""

    # endpoint → methods denied ("*" = all): 403 Security.
    denied: dict[str, set[str]] = field(default_factory=dict)
    # The next N API requests answer 429 with Retry-After.
    rate_limited: int = 0
    retry_after: int = 1
    # The next N API requests (of these methods, or all) answer 500.
    server_errors: int = 0
    server_error_methods: set[str] = field(default_factory=set)
    # Seconds to wait before answering (reads) or after applying (writes: the change lands).
    delay: float = 0.0
    delay_methods: set[str] = field(default_factory=set)
    # PATCHes moving a ticket to one of these status ids answer 200 and change nothing.
    ignored_status_ids: set[int] = field(default_factory=set)
    require_client_id: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "denied": {k: sorted(v) for k, v in self.denied.items()},
            "rate_limited": self.rate_limited,
            "retry_after": self.retry_after,
            "server_errors": self.server_errors,
            "server_error_methods": sorted(self.server_error_methods),
            "delay": self.delay,
            "delay_methods": sorted(self.delay_methods),
            "ignored_status_ids": sorted(self.ignored_status_ids),
            "require_client_id": self.require_client_id,
        }

    def update(self, data: dict[str, Any]) -> None:
        if "denied" in data:
            self.denied = {str(k): {str(m).upper() for m in v} for k, v in data["denied"].items()}
        for name in ("rate_limited", "retry_after", "server_errors"):
            if name in data:
                setattr(self, name, int(data[name]))
        if "delay" in data:
            self.delay = float(data["delay"])
        for name in ("server_error_methods", "delay_methods"):
            if name in data:
                setattr(self, name, {str(m).upper() for m in data[name]})
        if "ignored_status_ids" in data:
            self.ignored_status_ids = {int(i) for i in data["ignored_status_ids"]}
        if "require_client_id" in data:
            self.require_client_id = bool(data["require_client_id"])


@dataclass
class Credentials:
    company: str = "flowpilot"
    public_key: str = "sim-public-key"
    private_key: str = "sim-private-key"  # noqa: S105 - the simulator's documented demo key
    client_id: str = "00000000-0000-4000-8000-000000000930"


@dataclass
class SimulatorState:
    credentials: Credentials = field(default_factory=Credentials)
    company_name: str = "FlowPilot Simulated MSP"
    codebase: str = "v4_6_release/"
    faults: Faults = field(default_factory=Faults)
    boards: dict[int, Record] = field(default_factory=dict)
    statuses: dict[int, Record] = field(default_factory=dict)
    priorities: dict[int, Record] = field(default_factory=dict)
    members: dict[int, Record] = field(default_factory=dict)
    companies: dict[int, Record] = field(default_factory=dict)
    tickets: dict[int, Record] = field(default_factory=dict)
    notes: dict[int, list[Record]] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)
    requests: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=2000))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def next_id(self, kind: str, start: int = 1) -> int:
        value = max(self.next_ids.get(kind, start), start)
        self.next_ids[kind] = value + 1
        return value

    # ---- building records ---------------------------------------------------------------

    def add_board(self, name: str, *, project: bool = False) -> Record:
        board_id = self.next_id("board")
        board = {
            "id": board_id,
            "name": name,
            "location": {"id": 1, "name": "Main"},
            "department": {"id": 1, "name": "Services"},
            "inactiveFlag": False,
            "projectFlag": project,
        }
        self.boards[board_id] = board
        return board

    def add_status(
        self, board_id: int, name: str, *, closed: bool = False, default: bool = False
    ) -> Record:
        status_id = self.next_id("status")
        board = self.boards[board_id]
        sort = sum(1 for s in self.statuses.values() if s["board"]["id"] == board_id)
        status = {
            "id": status_id,
            "name": name,
            "board": {"id": board_id, "name": board["name"]},
            "sortOrder": sort,
            "displayOnBoard": not closed,
            "inactive": False,
            "closedStatus": closed,
            "defaultFlag": default,
            "escalationStatus": "NotResponded",
            "timeEntryNotAllowed": False,
        }
        self.statuses[status_id] = status
        return status

    def add_priority(self, name: str, level: str, sort: int) -> Record:
        priority_id = self.next_id("priority")
        priority = {
            "id": priority_id,
            "name": name,
            "sortOrder": sort,
            "level": level,
            "color": "",
            "defaultFlag": False,
        }
        self.priorities[priority_id] = priority
        return priority

    def add_member(self, identifier: str, first: str, last: str, email: str) -> Record:
        member_id = self.next_id("member")
        member = {
            "id": member_id,
            "identifier": identifier,
            "firstName": first,
            "lastName": last,
            "name": f"{first} {last}",
            "primaryEmail": email,
            "officeEmail": email,
            "defaultEmail": "Office",
            "defaultPhone": "Office",
            "inactiveFlag": False,
            "licenseClass": "F",
            "securityRole": {"id": 1, "name": "Admin"},
            # Required by clients that model the whole member (e.g. pyconnectwise).
            "invoicingDisplayOptions": "RemainOnInvoicingScreen",
            "agreementInvoicingDisplayOptions": "RemainOnInvoicingScreen",
            "invoiceScreenDefaultTabFormat": "ShowInvoicingTab",
        }
        self.members[member_id] = member
        return member

    def add_company(self, identifier: str, name: str) -> Record:
        company_id = self.next_id("company", start=250)
        company = {
            "id": company_id,
            "identifier": identifier,
            "name": name,
            "status": {"id": 1, "name": "Active"},
            "types": [{"id": 1, "name": "Client"}],
            "deletedFlag": False,
        }
        self.companies[company_id] = company
        return company

    def add_ticket(
        self,
        *,
        summary: str,
        board_id: int,
        company_id: int,
        status_id: int | None = None,
        priority_id: int | None = None,
        resources: str = "",
        initial_description: str = "",
        contact_name: str = "",
        entered: str | None = None,
        entered_by: str = "sim-api",
    ) -> Record:
        board = self.boards[board_id]
        if status_id is None:
            status_id = self.default_status(board_id)
        status = self.statuses[status_id]
        company = self.companies[company_id]
        priority = self.priorities[priority_id] if priority_id else self.default_priority()
        ticket_id = self.next_id("ticket", start=1001)
        stamp = entered or now_iso()
        ticket: Record = {
            "id": ticket_id,
            "summary": summary,
            "recordType": "ProjectTicket" if board.get("projectFlag") else "ServiceTicket",
            "board": {"id": board_id, "name": board["name"]},
            "status": {"id": status_id, "name": status["name"], "sort": status["sortOrder"]},
            "priority": {
                "id": priority["id"],
                "name": priority["name"],
                "sort": priority["sortOrder"],
                "level": priority["level"],
            },
            "company": {
                "id": company_id,
                "identifier": company["identifier"],
                "name": company["name"],
            },
            "contactName": contact_name,
            "resources": resources,
            "closedFlag": bool(status["closedStatus"]),
            "customerUpdatedFlag": False,
            "initialDescription": initial_description,
            "customFields": [],
            "dateEntered": stamp,
            "enteredBy": entered_by,
            "_meta": {"lastUpdated": stamp, "updatedBy": entered_by},
        }
        self.tickets[ticket_id] = ticket
        self.notes[ticket_id] = []
        if initial_description:
            self.add_note(ticket_id, initial_description, detail=True, member=entered_by)
        return ticket

    def add_note(
        self,
        ticket_id: int,
        text: str,
        *,
        detail: bool = False,
        internal: bool = False,
        resolution: bool = False,
        member: str = "sim-api",
    ) -> Record:
        note_id = self.next_id("note", start=5001)
        note = {
            "id": note_id,
            "ticketId": ticket_id,
            "text": text,
            "detailDescriptionFlag": detail,
            "internalAnalysisFlag": internal,
            "resolutionFlag": resolution,
            "issueFlag": False,
            "customerUpdatedFlag": False,
            "processNotifications": False,
            "member": self._member_ref(member),
            "dateCreated": now_iso(),
            "createdBy": member,
            "internalFlag": internal,
            "externalFlag": detail or resolution,
        }
        self.notes.setdefault(ticket_id, []).append(note)
        return note

    def _member_ref(self, identifier: str) -> Record:
        for member in self.members.values():
            if member["identifier"].lower() == identifier.lower():
                return {"id": member["id"], "identifier": identifier, "name": member["name"]}
        return {"id": 0, "identifier": identifier, "name": identifier}

    def default_status(self, board_id: int) -> int:
        candidates = [s for s in self.statuses.values() if s["board"]["id"] == board_id]
        if not candidates:
            raise KeyError(board_id)
        for status in candidates:
            if status["defaultFlag"]:
                return int(status["id"])
        return int(min(candidates, key=lambda s: s["sortOrder"])["id"])

    def default_priority(self) -> Record:
        return sorted(self.priorities.values(), key=lambda p: p["sortOrder"])[
            len(self.priorities) // 2
        ]

    def touch(self, ticket: Record, by: str = "sim-api") -> None:
        ticket["_meta"] = {"lastUpdated": now_iso(), "updatedBy": by}
