"""
The ConnectWise Manage simulator: a standalone HTTP server (stdlib ``http.server``) that answers
the REST shapes of ``/login/companyinfo/{company}`` and ``/{codebase}apis/3.0/...`` closely enough
for ConnectWise clients to work unchanged, over plain HTTP on loopback.

Requests need Basic auth ``company+public:private`` and a ``clientId`` header (401 with the
service's own error bodies otherwise). Faults (``store.Faults``) are set in code by tests or over
HTTP at ``/__simulator__/faults`` (GET shows them, POST merges a JSON object); the request log is
at ``/__simulator__/requests``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from psa.simulator.conditions import ConditionError, getter, lookup, parse
from psa.simulator.store import Record, SimulatorState

logger = logging.getLogger(__name__)

API_VERSION = "2025.8"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 25
SUMMARY_LIMIT = 100


class ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _invalid(resource: str, field: str, code: str, message: str) -> ApiError:
    return ApiError(
        400,
        {
            "code": "InvalidObject",
            "message": f"{resource} object is invalid",
            "errors": [
                {
                    "code": code,
                    "message": message,
                    "resource": resource,
                    "field": field,
                    "details": None,
                }
            ],
        },
    )


def _not_found(message: str) -> ApiError:
    return ApiError(404, {"code": "NotFound", "message": message, "errors": None})


# Which endpoint a path belongs to (for permission faults): ids are dropped.
def endpoint_key(parts: list[str]) -> str:
    return "/".join(p for p in parts if not p.isdigit() and p not in ("count", "search"))


class Handler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("simulator: " + format, *args)

    # ---- plumbing -------------------------------------------------------------------------

    @property
    def state(self) -> SimulatorState:
        return self.server.state

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if status == 204 else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("api-current-version", API_VERSION)
        self.send_header("x-cw-request-id", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(
                400, {"code": "InvalidObject", "message": "Malformed JSON body", "errors": None}
            ) from exc

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        # Query parameter names are treated case-insensitively.
        query = {k.lower(): v for k, v in query.items()}
        try:
            body = self._body() if method in ("POST", "PATCH", "PUT") else None
            if url.path.startswith("/__simulator__/"):
                status, result, headers = self._control(method, url.path, body)
            elif url.path.startswith("/login/companyinfo/"):
                status, result, headers = self._company_info(url.path)
            else:
                status, result, headers = self._api(method, url.path, query, body)
        except ApiError as exc:
            self._send(exc.status, exc.body, exc.headers)
            return
        except Exception:  # a simulator bug answers like the service's own 500
            logger.exception("simulator failure")
            self._send(500, {"code": "ConnectWiseApi", "message": "Internal error", "errors": None})
            return
        self._send(status, result, headers)

    # ---- control and company info ---------------------------------------------------------

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if path == "/__simulator__/faults":
            if method == "POST":
                with self.state.lock:
                    self.state.faults.update(body or {})
            return 200, self.state.faults.as_dict(), {}
        if path == "/__simulator__/requests":
            return 200, [list(r) for r in self.state.requests], {}
        raise _not_found("Unknown simulator control")

    def _company_info(self, path: str) -> tuple[int, Any, dict[str, str]]:
        company = path.rsplit("/", 1)[-1]
        state = self.state
        if company.lower() != state.credentials.company.lower():
            return 200, None, {}
        host = self.headers.get("Host", "127.0.0.1")
        return (
            200,
            {
                "CompanyName": state.company_name,
                "Codebase": state.codebase,
                "VersionCode": "v2025.8",
                "VersionNumber": "v4.6.2025.8",
                "CompanyID": state.credentials.company,
                "IsCloud": False,
                "SiteUrl": host,
            },
            {},
        )

    # ---- the API --------------------------------------------------------------------------

    def _base(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}/{self.state.codebase}apis/3.0"

    def _authenticate(self) -> None:
        creds = self.state.credentials
        header = self.headers.get("Authorization", "")
        user = password = ""
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            user, _, password = decoded.partition(":")
        expected = f"{creds.company}+{creds.public_key}"
        if user.lower() != expected.lower() or password != creds.private_key:
            raise ApiError(
                401, {"code": "ConnectWiseApi", "message": "UserNotAuthenticated", "errors": None}
            )
        client_id = self.headers.get("clientId", "")
        if self.state.faults.require_client_id and client_id != creds.client_id:
            raise ApiError(
                401,
                {
                    "code": "Unauthorized",
                    "message": "A valid clientId header is required. "
                    "See developer.connectwise.com to register an integration.",
                    "errors": None,
                },
            )

    def _faults(self, method: str, key: str) -> float:
        """Apply the request-level faults; returns the delay to add after a write."""
        state = self.state
        faults = state.faults
        with state.lock:
            denied = faults.denied.get(key)
            if denied and ("*" in denied or method in denied):
                raise ApiError(
                    403,
                    {
                        "code": "Security",
                        "message": "You do not have security permission to perform this action.",
                        "errors": None,
                    },
                )
            if faults.rate_limited > 0:
                faults.rate_limited -= 1
                wait = faults.retry_after
                raise ApiError(
                    429,
                    {
                        "error": "ConnectWiseAPI",
                        "message": f"Too many requests. Please try again in {wait} seconds.",
                    },
                    {"Retry-After": str(wait)},
                )
            if faults.server_errors > 0 and (
                not faults.server_error_methods or method in faults.server_error_methods
            ):
                faults.server_errors -= 1
                raise ApiError(
                    500,
                    {
                        "code": "ConnectWiseApi",
                        "message": "An error occurred: The operation has timed out.",
                        "errors": None,
                    },
                )
            delay = (
                faults.delay if not faults.delay_methods or method in faults.delay_methods else 0
            )
        if delay and method in ("GET", "HEAD"):
            time.sleep(delay)
            return 0.0
        return delay

    def _api(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        state = self.state
        prefix = f"/{state.codebase}apis/3.0/"
        self.state.requests.append((method, self.path))
        if not path.startswith(prefix):
            raise _not_found("The requested resource was not found (wrong codebase?).")
        self._authenticate()
        parts = [p for p in path[len(prefix) :].split("/") if p]
        key = endpoint_key(parts)
        delay_after = self._faults(method, key)
        result = self._route(method, parts, query, body)
        if delay_after:
            time.sleep(delay_after)  # the write has landed; the answer is late
        return result

    def _route(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        s = self.state
        match (method, parts):
            case ("GET", ["system", "info"]):
                return 200, {"version": "v2025.8", "isCloud": False, "serverTimeZone": "UTC"}, {}
            case ("GET", ["service", "boards"]):
                return self._list(list(s.boards.values()), query, "service/boards")
            case ("GET", ["service", "boards", board_id]) if board_id.isdigit():
                return 200, self._one(s.boards, int(board_id), "Board"), {}
            case ("GET", ["service", "boards", board_id, "statuses"]) if board_id.isdigit():
                self._one(s.boards, int(board_id), "Board")
                rows = [st for st in s.statuses.values() if st["board"]["id"] == int(board_id)]
                return self._list(rows, query, f"service/boards/{board_id}/statuses")
            case ("GET", ["service", "priorities"]):
                return self._list(list(s.priorities.values()), query, "service/priorities")
            case ("GET", ["system", "members"]):
                return self._list(list(s.members.values()), query, "system/members")
            case ("GET", ["company", "companies"]):
                return self._list(list(s.companies.values()), query, "company/companies")
            case ("GET", ["service", "tickets"]):
                return self._list(list(s.tickets.values()), query, "service/tickets")
            case ("GET", ["service", "tickets", "count"]):
                return 200, {"count": len(self._filter(list(s.tickets.values()), query))}, {}
            case ("POST", ["service", "tickets", "search"]):
                merged = {**query, **{k.lower(): str(v) for k, v in (body or {}).items()}}
                return self._list(list(s.tickets.values()), merged, "service/tickets")
            case ("GET", ["service", "tickets", ticket_id]) if ticket_id.isdigit():
                ticket = self._one(s.tickets, int(ticket_id), "Ticket")
                return 200, self._fields(self._ticket_out(ticket), query.get("fields")), {}
            case ("POST", ["service", "tickets"]):
                return 201, self._ticket_out(self._create_ticket(body)), {}
            case ("PATCH", ["service", "tickets", ticket_id]) if ticket_id.isdigit():
                return 200, self._ticket_out(self._patch_ticket(int(ticket_id), body)), {}
            case ("DELETE", ["service", "tickets", ticket_id]) if ticket_id.isdigit():
                with s.lock:
                    self._one(s.tickets, int(ticket_id), "Ticket")
                    del s.tickets[int(ticket_id)]
                return 204, None, {}
            case ("GET", ["service", "tickets", ticket_id, "notes"]) if ticket_id.isdigit():
                self._one(s.tickets, int(ticket_id), "Ticket")
                rows = list(s.notes.get(int(ticket_id), []))
                return self._list(rows, query, f"service/tickets/{ticket_id}/notes")
            case ("GET", ["service", "tickets", ticket_id, "notes", "count"]) if (
                ticket_id.isdigit()
            ):
                self._one(s.tickets, int(ticket_id), "Ticket")
                rows = self._filter(list(s.notes.get(int(ticket_id), [])), query)
                return 200, {"count": len(rows)}, {}
            case ("POST", ["service", "tickets", ticket_id, "notes"]) if ticket_id.isdigit():
                return 201, self._create_note(int(ticket_id), body), {}
        if any(p for p in parts):
            raise ApiError(
                404 if method == "GET" else 405,
                {"code": "NotFound", "message": "Resource not found", "errors": None},
            )
        raise _not_found("Resource not found")

    # ---- reads ----------------------------------------------------------------------------

    def _one(self, table: dict[int, Record], record_id: int, label: str) -> Record:
        record = table.get(record_id)
        if record is None:
            raise _not_found(f"{label} {record_id} not found")
        return record

    def _filter(self, rows: list[Record], query: dict[str, str]) -> list[Record]:
        try:
            predicate = parse(query.get("conditions", ""))
        except ConditionError as exc:
            raise ApiError(
                400,
                {
                    "code": "InvalidObject",
                    "message": f"conditions could not be parsed: {exc}",
                    "errors": None,
                },
            ) from exc
        return [row for row in rows if predicate(row)]

    def _list(
        self, rows: list[Record], query: dict[str, str], path: str
    ) -> tuple[int, Any, dict[str, str]]:
        with self.state.lock:
            rows = self._filter(rows, query)
        forward = self.headers.get("pagination-type", "").lower() == "forward-only"
        try:
            size = min(max(int(query.get("pagesize") or DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE)
            page = max(int(query.get("page") or 1), 1)
            page_id = int(query.get("pageid") or 0)
        except ValueError as exc:
            raise ApiError(
                400, {"code": "InvalidObject", "message": "Bad paging values", "errors": None}
            ) from exc
        base = f"{self._base()}/{path}"
        keep = {k: v for k, v in query.items() if k in ("conditions", "fields", "orderby")}
        if forward:
            if "orderby" in query:
                raise ApiError(
                    400,
                    {
                        "code": "InvalidObject",
                        "message": "orderBy is not supported with forward-only pagination",
                        "errors": None,
                    },
                )
            rows = sorted((r for r in rows if r["id"] > page_id), key=lambda r: r["id"])
            chunk = rows[:size]
            link = ""
            if len(rows) > size:
                params = urlencode({**keep, "pageSize": size, "pageId": chunk[-1]["id"]})
                link = f'<{base}?{params}>; rel="next"'
            out = [self._out(path, r, query) for r in chunk]
            return 200, out, {"Link": link}
        rows = self._order(rows, query.get("orderby", ""))
        last = max((len(rows) + size - 1) // size, 1)
        chunk = rows[(page - 1) * size : page * size]
        links = []

        def href(number: int) -> str:
            return f"<{base}?{urlencode({**keep, 'pageSize': size, 'page': number})}>"

        links.append(f'{href(1)}; rel="first"')
        if page > 1:
            links.append(f'{href(page - 1)}; rel="prev"')
        if page < last:
            links.append(f'{href(page + 1)}; rel="next"')
        links.append(f'{href(last)}; rel="last"')
        out = [self._out(path, r, query) for r in chunk]
        return 200, out, {"Link": ", ".join(links)}

    def _out(self, path: str, record: Record, query: dict[str, str]) -> Record:
        if path == "service/tickets":
            record = self._ticket_out(record)
        else:
            record = self._with_info(record, path)
        return self._fields(record, query.get("fields"))

    @staticmethod
    def _order(rows: list[Record], order_by: str) -> list[Record]:
        if not order_by:
            return sorted(rows, key=lambda r: r["id"])
        for clause in reversed([c.strip() for c in order_by.split(",") if c.strip()]):
            field, _, direction = clause.partition(" ")
            reverse = direction.strip().lower() == "desc"
            rows = sorted(rows, key=_order_key(field), reverse=reverse)
        return rows

    @staticmethod
    def _fields(record: Record, fields: str | None) -> Record:
        if not fields:
            return record
        out: Record = {}
        for name in (f.strip() for f in fields.split(",") if f.strip()):
            head, _, rest = name.partition("/")
            if head not in record:
                continue
            if rest and isinstance(record[head], dict):
                out.setdefault(head, {})[rest] = lookup(record[head], rest)
            else:
                out[head] = record[head]
        return out

    def _with_info(self, record: Record, path: str) -> Record:
        out = {k: v for k, v in record.items() if k != "_meta"}
        out["_info"] = {"lastUpdated": record.get("_meta", {}).get("lastUpdated", "")}
        if "id" in record:
            out["_info"]["self_href"] = f"{self._base()}/{path}/{record['id']}"
        return out

    def _ticket_out(self, ticket: Record) -> Record:
        base = self._base()
        out = {k: v for k, v in ticket.items() if k not in ("_meta", "dateEntered", "enteredBy")}
        for name, href in (("board", "service/boards"), ("priority", "service/priorities")):
            ref = out.get(name)
            if isinstance(ref, dict):
                out[name] = {**ref, "_info": {f"{name}_href": f"{base}/{href}/{ref['id']}"}}
        status = out.get("status")
        if isinstance(status, dict) and isinstance(out.get("board"), dict):
            board_id = out["board"]["id"]
            out["status"] = {
                **status,
                "_info": {
                    "status_href": f"{base}/service/boards/{board_id}/statuses/{status['id']}"
                },
            }
        company = out.get("company")
        if isinstance(company, dict):
            href = f"{base}/company/companies/{company['id']}"
            out["company"] = {**company, "_info": {"company_href": href}}
        meta = ticket.get("_meta", {})
        out["_info"] = {
            "dateEntered": ticket.get("dateEntered", ""),
            "enteredBy": ticket.get("enteredBy", ""),
            "lastUpdated": meta.get("lastUpdated", ""),
            "updatedBy": meta.get("updatedBy", ""),
            "notes_href": f"{base}/service/tickets/{ticket['id']}/notes",
        }
        return out

    # ---- writes ---------------------------------------------------------------------------

    def _ref_id(self, value: Any, field: str, resource: str = "ticket") -> int:
        if isinstance(value, dict) and isinstance(value.get("id"), int):
            return int(value["id"])
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _invalid(resource, field, "InvalidField", f"{field} must be a reference with an id")

    def _create_ticket(self, body: Any) -> Record:
        s = self.state
        if not isinstance(body, dict):
            raise _invalid("ticket", "", "InvalidObject", "A ticket body is required")
        summary = str(body.get("summary") or "").strip()
        if not summary:
            raise _invalid("ticket", "summary", "MissingRequiredField", "summary is required")
        if len(summary) > SUMMARY_LIMIT:
            raise _invalid(
                "ticket",
                "summary",
                "MaxLengthField",
                f"summary has a maximum length of {SUMMARY_LIMIT}",
            )
        if "company" not in body:
            raise _invalid("ticket", "company", "MissingRequiredField", "company is required")
        with s.lock:
            company = body["company"]
            if isinstance(company, dict) and "identifier" in company and "id" not in company:
                matches = [
                    c
                    for c in s.companies.values()
                    if c["identifier"].lower() == str(company["identifier"]).lower()
                ]
                company_id = matches[0]["id"] if matches else -1
            else:
                company_id = self._ref_id(company, "company")
            if company_id not in s.companies:
                raise _invalid(
                    "ticket", "company/id", "NotFound", f"Company {company_id} not found"
                )
            board_id = self._ref_id(body.get("board") or {"id": min(s.boards)}, "board")
            if board_id not in s.boards:
                raise _invalid(
                    "ticket", "board/id", "NotFound", f"Service Board {board_id} not found"
                )
            status_id = None
            if body.get("status"):
                status_id = self._ref_id(body["status"], "status")
                self._check_status(status_id, board_id)
            priority_id = None
            if body.get("priority"):
                priority_id = self._ref_id(body["priority"], "priority")
                if priority_id not in s.priorities:
                    raise _invalid(
                        "ticket", "priority/id", "NotFound", f"Priority {priority_id} not found"
                    )
            return s.add_ticket(
                summary=summary,
                board_id=board_id,
                company_id=company_id,
                status_id=status_id,
                priority_id=priority_id,
                resources=str(body.get("resources") or ""),
                initial_description=str(body.get("initialDescription") or ""),
                contact_name=str(body.get("contactName") or ""),
                entered_by=self._api_member(),
            )

    def _api_member(self) -> str:
        return f"{self.state.credentials.public_key[:8]}-api"

    def _check_status(self, status_id: int, board_id: int) -> None:
        status = self.state.statuses.get(status_id)
        if status is None or status["board"]["id"] != board_id:
            raise _invalid(
                "ticket",
                "status/id",
                "NotFound",
                f"Service Status {status_id} not found for Service Board {board_id}",
            )

    def _patch_ticket(self, ticket_id: int, body: Any) -> Record:
        s = self.state
        if not isinstance(body, list):
            raise _invalid("ticket", "", "InvalidObject", "PATCH body must be a JSON-Patch array")
        with s.lock:
            ticket = self._one(s.tickets, ticket_id, "Ticket")
            changes: dict[str, Any] = {}
            for op in body:
                if not isinstance(op, dict) or op.get("op") not in ("replace", "add", "remove"):
                    raise _invalid("ticket", "", "InvalidObject", "Unsupported patch operation")
                path = str(op.get("path", "")).lstrip("/")
                value = None if op["op"] == "remove" else op.get("value")
                head, _, rest = path.partition("/")
                if rest == "id" and head in ("status", "board", "priority", "company", "owner"):
                    value = {"id": value}
                    path = head
                changes[path] = value
            board_id = ticket["board"]["id"]
            if "board" in changes:
                board_id = self._ref_id(changes["board"], "board")
                if board_id not in s.boards:
                    raise _invalid(
                        "ticket", "board/id", "NotFound", f"Service Board {board_id} not found"
                    )
                if "status" not in changes:
                    raise _invalid(
                        "ticket", "status/id", "InvalidField", "Moving board needs a status"
                    )
            if "summary" in changes:
                summary = str(changes["summary"] or "").strip()
                if not summary or len(summary) > SUMMARY_LIMIT:
                    raise _invalid(
                        "ticket",
                        "summary",
                        "MaxLengthField" if summary else "MissingRequiredField",
                        f"summary has a maximum length of {SUMMARY_LIMIT}",
                    )
            status_id = None
            if "status" in changes:
                status_id = self._ref_id(changes["status"], "status")
                self._check_status(status_id, board_id)
            if "priority" in changes:
                priority_id = self._ref_id(changes["priority"], "priority")
                if priority_id not in s.priorities:
                    raise _invalid(
                        "ticket", "priority/id", "NotFound", f"Priority {priority_id} not found"
                    )
            # Everything validated: apply.
            if "board" in changes:
                board = s.boards[board_id]
                ticket["board"] = {"id": board_id, "name": board["name"]}
            if status_id is not None and status_id not in s.faults.ignored_status_ids:
                status = s.statuses[status_id]
                ticket["status"] = {
                    "id": status_id,
                    "name": status["name"],
                    "sort": status["sortOrder"],
                }
                ticket["closedFlag"] = bool(status["closedStatus"])
            if "summary" in changes:
                ticket["summary"] = str(changes["summary"]).strip()
            if "priority" in changes:
                priority = s.priorities[self._ref_id(changes["priority"], "priority")]
                ticket["priority"] = {
                    "id": priority["id"],
                    "name": priority["name"],
                    "sort": priority["sortOrder"],
                    "level": priority["level"],
                }
            if "resources" in changes:
                ticket["resources"] = str(changes["resources"] or "")
            if "initialDescription" in changes:
                ticket["initialDescription"] = str(changes["initialDescription"] or "")
            s.touch(ticket, self._api_member())
            return ticket

    def _create_note(self, ticket_id: int, body: Any) -> Record:
        s = self.state
        if not isinstance(body, dict):
            raise _invalid("serviceNote", "", "InvalidObject", "A note body is required")
        flags = {
            name: bool(body.get(name))
            for name in ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag")
        }
        if not any(flags.values()):
            raise ApiError(
                400,
                {
                    "code": "InvalidObject",
                    "message": "serviceNote object is invalid",
                    "errors": [
                        {
                            "code": "InvalidField",
                            "message": "Please choose where to display the notes in order to "
                            "save this record.",
                            "resource": "serviceNote",
                            "field": "detailDescriptionFlag",
                            "details": None,
                        }
                    ],
                },
            )
        text = str(body.get("text") or "")
        if not text.strip():
            raise _invalid("serviceNote", "text", "MissingRequiredField", "text is required")
        with s.lock:
            ticket = self._one(s.tickets, ticket_id, "Ticket")
            note = s.add_note(
                ticket_id,
                text,
                detail=flags["detailDescriptionFlag"],
                internal=flags["internalAnalysisFlag"],
                resolution=flags["resolutionFlag"],
                member=self._api_member(),
            )
            s.touch(ticket, self._api_member())
        return note


def _order_key(field: str) -> Callable[[Record], Any]:
    if field == "id":
        return lambda record: record["id"]
    get = getter(field)

    def key(record: Record) -> tuple[bool, Any]:
        value = get(record)
        return (value is None, _sort_key(value))

    return key


def _sort_key(value: Any) -> Any:
    if isinstance(value, str):
        return (1, value.lower())
    if isinstance(value, bool | int | float):
        return (0, value)
    return (2, str(value))


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SimulatorState) -> None:
        super().__init__(address, Handler)
        self.state = state


class Simulator:
    """A running simulator on loopback (port 0 picks a free one)."""

    def __init__(self, state: SimulatorState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.httpd = SimulatorHTTPServer((host, port), state)
        self.thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def site(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> Simulator:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
