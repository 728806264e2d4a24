"""
ConnectWise Manage over REST (``requests``), following ``reference/connectwise-manage-api.md``.

- Base URL ``{scheme}://{api host}/{codebase}apis/3.0/``: the codebase comes from
  ``/login/companyinfo/{company}`` (no auth) and is cached; a 404 on a cached codebase looks it up
  again once, since hosted instances change it across upgrades. Cloud hosts get their ``api-``
  prefix; plain HTTP is used only for loopback sites (the local simulator).
- Basic auth ``company+public:private``, the ``clientId`` header and a pinned Accept version on
  every call; timeouts of 5 s to connect and 20 s to read.
- Retries (urllib3 ``Retry``): 429 on any verb (nothing was processed), waiting ``Retry-After``
  up to a cap; 500/502/503/504 and connection faults on idempotent verbs only, so a POST or
  PATCH is never sent twice by the transport.
- Errors map to ``psa.errors`` classes; the log names the ``x-cw-request-id``, never a key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, Self
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from psa.errors import (
    PSAAuthError,
    PSAError,
    PSANotFound,
    PSAPermissionError,
    PSARateLimited,
    PSATimeout,
    PSAUnavailable,
    PSAValidationError,
)
from psa.providers import conditions as c
from psa.providers.base import (
    Board,
    Company,
    ConnectionResult,
    Member,
    NewTicket,
    Note,
    NoteKind,
    Priority,
    Ref,
    Status,
    Ticket,
    TicketPage,
    TicketQuery,
)

logger = logging.getLogger(__name__)

API_VERSION = "2025.8"
ACCEPT = f"application/vnd.connectwise.com+json; version={API_VERSION}"
TIMEOUT = (5.0, 20.0)
MAX_PAGE_SIZE = 1000
DEFAULT_CODEBASE = "v4_6_release/"
CLOUD_HOSTS = frozenset(
    {
        "na.myconnectwise.net",
        "eu.myconnectwise.net",
        "au.myconnectwise.net",
        "aus.myconnectwise.net",
        "za.myconnectwise.net",
        "staging.connectwisedev.com",
    }
)
LOOPBACK_RE = re.compile(r"^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$")
SITE_RE = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[::1\](:\d{1,5})?$")
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
TICKET_LIST_FIELDS = (
    "id,summary,board,status,priority,company,contactName,resources,closedFlag,_info"
)
# The security-role area a ConnectWise API member needs for each endpoint, for the message
# shown when the PSA refuses one.
PERMISSIONS = {
    "service/tickets": "Service Desk › Service Tickets",
    "service/tickets/notes": "Service Desk › Service Tickets",
    "service/boards": "System › Table Setup (Service Boards)",
    "service/boards/statuses": "System › Table Setup (Service Boards)",
    "service/priorities": "System › Table Setup (Priorities)",
    "system/members": "System › Member Maintenance",
    "company/companies": "Companies › Company Maintenance",
    "system/info": "System › API Reports",
}


class CodebaseCache(Protocol):
    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any, timeout: int | None = ...) -> Any: ...

    def delete(self, key: str) -> Any: ...


class _DictCache:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


@dataclass(frozen=True)
class Credentials:
    site: str
    company: str
    public_key: str
    private_key: str
    client_id: str

    def __repr__(self) -> str:  # keys never reach a log or a traceback through repr
        return f"Credentials(site={self.site!r}, company={self.company!r}, keys=***)"


class CWRetry(Retry):
    """Retry 429 whatever the verb, unless Retry-After asks for longer than ``max_wait``."""

    max_wait: float = 5.0

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if response is not None and response.status == 429:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait:
                # Longer than an interactive request should hang: answer the 429 now.
                raise MaxRetryError(_pool, url or "", ResponseError("rate limited"))  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        return retry


def build_session(
    *, retries: int = 3, backoff: float = 0.2, max_wait: float = 5.0
) -> requests.Session:
    retry = CWRetry(
        total=retries,
        connect=retries,
        read=1,
        status=retries,
        backoff_factor=backoff,
        backoff_max=2.0,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=IDEMPOTENT,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.max_wait = max_wait
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def normalise_site(site: str) -> str:
    site = (site or "").strip()
    site = re.sub(r"^https?://", "", site, flags=re.IGNORECASE).strip("/")
    return site.lower()


def site_problem(site: str) -> str:
    """Why ``site`` cannot be a ConnectWise site ("" when it can)."""
    site = normalise_site(site)
    if not site or not SITE_RE.match(site):
        return "Enter the ConnectWise host name, e.g. na.myconnectwise.net."
    return ""


def _endpoint(path: str) -> str:
    parts = [p for p in path.strip("/").split("/") if p and not p.isdigit()]
    return "/".join(p for p in parts if p not in ("count", "search"))


def _body(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def map_error(response: requests.Response, path: str) -> PSAError:
    """The ``PSAError`` for a refused call, from the status and the API's error body."""
    body = _body(response)
    code = str(body.get("code") or body.get("error") or "")
    message = str(body.get("message") or response.reason or "")
    request_id = response.headers.get("x-cw-request-id", "")
    status = response.status_code
    endpoint = _endpoint(path)
    logger.warning(
        "ConnectWise refused %s %s: %s %s %s (request id %s)",
        response.request.method if response.request else "?",
        endpoint,
        status,
        code,
        message[:200],
        request_id or "-",
    )
    if status == 401:
        if "clientid" in message.lower():
            return PSAAuthError(
                "ConnectWise refused the clientId: it is missing or not a registered "
                "integration id.",
                code="psa_client_id_invalid",
                request_id=request_id,
            )
        return PSAAuthError(
            "ConnectWise rejected the API keys: check the company id, public and private key, "
            "and that the API member is active.",
            request_id=request_id,
        )
    if status == 403 or code == "Security":
        permission = PERMISSIONS.get(endpoint, endpoint)
        return PSAPermissionError(
            f"ConnectWise denied access to {endpoint}: the API member's security role needs "
            f"'{permission}' (at least Inquire).",
            permission=permission,
            request_id=request_id,
        )
    if status == 404:
        return PSANotFound(message or "Not found in ConnectWise.", request_id=request_id)
    if status == 429:
        retry_after = response.headers.get("Retry-After")
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return PSARateLimited(
            "ConnectWise is rate limiting requests; try again "
            + (f"in {int(seconds)} seconds." if seconds else "shortly."),
            retry_after=seconds,
            request_id=request_id,
        )
    if status >= 500:
        return PSAUnavailable(
            f"ConnectWise failed ({status}): {message or 'server error'}", request_id=request_id
        )
    errors = body.get("errors") or []
    field_errors: dict[str, list[str]] = {}
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, dict):
            field_errors.setdefault(str(item.get("field") or "non_field_errors"), []).append(
                str(item.get("message") or item.get("code") or "invalid")
            )
    first = next(iter(field_errors.values()), [""])[0]
    detail = f"ConnectWise refused the change: {message}" + (f" ({first})" if first else "")
    return PSAValidationError(detail, field_errors=field_errors, request_id=request_id)


def _next_page(link_header: str) -> tuple[int | None, int | None]:
    """(next page, last page) from an RFC 5988 Link header."""
    found: dict[str, int] = {}
    for part in link_header.split(","):
        match = re.search(r"<([^>]*)>\s*;\s*rel=\"?(\w+)\"?", part)
        if not match:
            continue
        query = parse_qs(urlsplit(match.group(1)).query)
        page = next((v[0] for k, v in query.items() if k.lower() == "page"), None)
        if page and page.isdigit():
            found[match.group(2)] = int(page)
    return found.get("next"), found.get("last")


def _next_query(link_header: str) -> dict[str, str] | None:
    """The query of the ``rel="next"`` URL of a Link header (None when there is none)."""
    for part in link_header.split(","):
        match = re.search(r"<([^>]*)>\s*;\s*rel=\"?(\w+)\"?", part)
        if match and match.group(2) == "next":
            return {k: v[-1] for k, v in parse_qs(urlsplit(match.group(1)).query).items()}
    return None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _ordered(rows: list[dict[str, Any]], order_by: str) -> list[dict[str, Any]]:
    """``rows`` sorted as ``orderBy`` says (``"a asc, b desc"``; text case-insensitively,
    missing values last), the way the API would have returned them."""
    for clause in reversed([part.split() for part in order_by.split(",") if part.strip()]):
        name, descending = clause[0], len(clause) > 1 and clause[1].lower() == "desc"
        present = [row for row in rows if row.get(name) is not None]
        missing = [row for row in rows if row.get(name) is None]
        present.sort(
            key=lambda row: str(row[name]).casefold() if isinstance(row[name], str) else row[name],
            reverse=descending,
        )
        rows = present + missing
    return rows


class ConnectWiseClient:
    """Low-level calls: URL building, auth, retries, paging and error mapping."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        session: requests.Session | None = None,
        cache: CodebaseCache | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        self.credentials = credentials
        self.session = session or build_session()
        self.cache: CodebaseCache = cache if cache is not None else _DictCache()
        self.timeout = timeout
        self.requests_sent = 0

    # ---- addresses ------------------------------------------------------------------------

    @property
    def site(self) -> str:
        return normalise_site(self.credentials.site)

    @property
    def scheme(self) -> str:
        return "http" if LOOPBACK_RE.match(self.site) else "https"

    @property
    def api_host(self) -> str:
        site = self.site
        return f"api-{site}" if site in CLOUD_HOSTS else site

    def _codebase_key(self) -> str:
        return f"psa:cw:codebase:{self.site}:{self.credentials.company.lower()}"

    def company_info(self) -> dict[str, Any]:
        """``/login/companyinfo/{company}``: no auth; ``null`` means an unknown company id."""
        url = f"{self.scheme}://{self.site}/login/companyinfo/{self.credentials.company}"
        try:
            self.requests_sent += 1
            response = self.session.get(
                url, timeout=self.timeout, headers={"Accept": "application/json"}
            )
        except requests.Timeout as exc:
            raise PSATimeout(f"ConnectWise site {self.site} did not answer in time.") from exc
        except requests.RequestException as exc:
            raise PSAUnavailable(
                f"Cannot reach the ConnectWise site {self.site}: check the host name."
            ) from exc
        if response.status_code == 404:
            raise PSANotFound(f"{self.site} does not look like a ConnectWise site (404).")
        if response.status_code >= 400:
            raise map_error(response, "login/companyinfo")
        try:
            data = response.json()
        except ValueError as exc:
            raise PSAUnavailable(
                f"{self.site} answered something other than ConnectWise company info."
            ) from exc
        if not isinstance(data, dict) or not data.get("Codebase"):
            raise PSAValidationError(
                f"ConnectWise at {self.site} does not know the company id "
                f"'{self.credentials.company}'.",
                field_errors={"company_id": ["Unknown company id on this site."]},
            )
        return data

    def codebase(self, *, refresh: bool = False) -> str:
        key = self._codebase_key()
        cached = None if refresh else self.cache.get(key)
        if cached:
            return str(cached)
        codebase = str(self.company_info()["Codebase"])
        if not codebase.endswith("/"):
            codebase += "/"
        self.cache.set(key, codebase, 86400)
        return codebase

    def base_url(self, *, refresh: bool = False) -> str:
        return f"{self.scheme}://{self.api_host}/{self.codebase(refresh=refresh)}apis/3.0/"

    # ---- requests -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {"Accept": ACCEPT, "clientId": self.credentials.client_id}

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        had_cached = bool(self.cache.get(self._codebase_key()))
        response = self._send(method, self.base_url() + path.lstrip("/"), params, json, headers)
        if response.status_code == 404 and had_cached:
            # A cached codebase may be stale after an upgrade: look it up once more.
            old = self.codebase()
            if self.codebase(refresh=True) != old:
                response = self._send(
                    method, self.base_url() + path.lstrip("/"), params, json, headers
                )
        if response.status_code >= 400:
            raise map_error(response, path)
        return response

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json: Any,
        headers: dict[str, str] | None,
    ) -> requests.Response:
        creds = self.credentials
        try:
            self.requests_sent += 1
            return self.session.request(
                method,
                url,
                params=params,
                json=json,
                headers={**self._headers(), **(headers or {})},
                auth=(f"{creds.company}+{creds.public_key}", creds.private_key),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise PSATimeout(
                "ConnectWise did not answer in time"
                + (
                    "; the change may or may not have been saved."
                    if method not in IDEMPOTENT
                    else "."
                )
            ) from exc
        except requests.exceptions.RetryError as exc:
            raise PSAUnavailable("ConnectWise kept failing; try again shortly.") from exc
        except requests.RequestException as exc:
            raise PSAUnavailable(f"Cannot reach ConnectWise at {self.site}.") from exc

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).json()

    def get_page(
        self, path: str, *, page: int = 1, page_size: int = 25, **params: Any
    ) -> tuple[list[dict[str, Any]], int | None, int | None]:
        """One page and the (next, last) page numbers from the Link header."""
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        response = self.request("GET", path, params={**params, "page": page, "pageSize": size})
        rows = response.json()
        next_page, last_page = _next_page(response.headers.get("Link", ""))
        if next_page is None and "Link" not in response.headers and len(rows) == size:
            next_page = page + 1  # no Link header: fall back to the short-page rule
        return rows, next_page, last_page

    def iter_all(
        self, path: str, *, page_size: int = MAX_PAGE_SIZE, **params: Any
    ) -> Iterator[dict[str, Any]]:
        """
        Every row, by forward-only paging (``pagination-type: forward-only``): the rows come
        in id order and each response's ``Link`` header names the next page (its ``pageId`` is
        the last id seen), which is followed as given until the Link is empty or a page comes
        back empty or short. A response without a ``Link`` header means the endpoint does not
        page forward-only: the rest is read by page number.
        """
        size = max(1, min(page_size, MAX_PAGE_SIZE))
        query: dict[str, Any] = {**params, "pageSize": size}
        headers = {"pagination-type": "forward-only"}
        last_id = 0
        while True:
            response = self.request("GET", path, params=query, headers=headers)
            rows = response.json()
            yield from rows
            if "Link" not in response.headers:
                if len(rows) == size:
                    yield from self._iter_pages(path, 2, size, params)
                return
            next_query = _next_query(response.headers["Link"])
            page_id = _int(
                next((v for k, v in (next_query or {}).items() if k.lower() == "pageid"), None)
            )
            if not rows or len(rows) < size or page_id is None or page_id <= last_id:
                return
            last_id = page_id
            query = {**params, "pageSize": size, **(next_query or {})}

    def _iter_pages(
        self, path: str, page: int, size: int, params: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        current: int | None = page
        while current is not None:
            rows, next_page, _ = self.get_page(path, page=current, page_size=size, **params)
            yield from rows
            if not rows or (next_page is not None and next_page <= current):
                break
            current = next_page

    def get_all(self, path: str, *, orderBy: str = "", **params: Any) -> list[dict[str, Any]]:  # noqa: N803 - the API's name
        """
        Every row; ``orderBy`` (``"lastName asc"``) is applied here, on the whole list:
        forward-only paging refuses it and returns rows in id order.
        """
        rows = list(self.iter_all(path, **params))
        return _ordered(rows, orderBy) if orderBy else rows

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body).json()

    def patch(self, path: str, operations: list[dict[str, Any]]) -> Any:
        return self.request("PATCH", path, json=operations).json()


# ---- records ------------------------------------------------------------------------------


def _ref(value: Any) -> Ref | None:
    if not isinstance(value, dict) or "id" not in value:
        return None
    return Ref(
        id=int(value["id"]),
        name=str(value.get("name") or ""),
        identifier=str(value.get("identifier") or ""),
    )


def split_resources(value: Any) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


def ticket_from(data: dict[str, Any]) -> Ticket:
    info = data.get("_info") or {}
    return Ticket(
        id=int(data["id"]),
        summary=str(data.get("summary") or ""),
        board=_ref(data.get("board")),
        status=_ref(data.get("status")),
        priority=_ref(data.get("priority")),
        company=_ref(data.get("company")),
        contact_name=str(data.get("contactName") or ""),
        resources=split_resources(data.get("resources")),
        closed=bool(data.get("closedFlag")),
        initial_description=str(data.get("initialDescription") or ""),
        entered_at=str(info.get("dateEntered") or ""),
        updated_at=str(info.get("lastUpdated") or ""),
    )


def note_from(data: dict[str, Any]) -> Note:
    if data.get("resolutionFlag"):
        kind = NoteKind.RESOLUTION
    elif data.get("internalAnalysisFlag"):
        kind = NoteKind.INTERNAL
    else:
        kind = NoteKind.DISCUSSION
    member = data.get("member") or {}
    return Note(
        id=int(data["id"]),
        text=str(data.get("text") or ""),
        kind=kind,
        created_by=str(data.get("createdBy") or member.get("name") or ""),
        created_at=str(data.get("dateCreated") or ""),
    )


NOTE_FLAGS = {
    NoteKind.RESOLUTION: "resolutionFlag",
    NoteKind.INTERNAL: "internalAnalysisFlag",
    NoteKind.DISCUSSION: "detailDescriptionFlag",
}


class ConnectWiseProvider:
    name = "connectwise"
    is_remote = True

    def __init__(self, client: ConnectWiseClient) -> None:
        self.client = client

    def test_connection(self) -> ConnectionResult:
        info = self.client.company_info()
        self.client.cache.set(self.client._codebase_key(), str(info["Codebase"]), 86400)
        # An authenticated call proves the keys and clientId; ticket access is what FlowPilot needs.
        self.client.get("system/info")
        self.client.get_page("service/tickets", page=1, page_size=1, fields="id")
        return ConnectionResult(
            ok=True,
            message=f"Connected to {info.get('CompanyName') or self.client.credentials.company}.",
            company_name=str(info.get("CompanyName") or ""),
            codebase=str(info.get("Codebase") or ""),
        )

    @staticmethod
    def ticket_conditions(query: TicketQuery) -> str:
        parts = []
        if query.board_id:
            parts.append(c.compare("board/id", "=", query.board_id))
        if query.status_name:
            parts.append(c.compare("status/name", "=", query.status_name))
        if query.open_only:
            parts.append(c.compare("closedFlag", "=", False))
        if query.assignee == "unassigned":
            parts.append(c.compare("resources", "=", None))
        elif query.assignee:
            parts.append(c.compare("resources", "contains", query.assignee))
        text = query.text.strip()
        if text:
            lstripped = text.lstrip("#")
            if lstripped.isdigit():
                parts.append(c.compare("id", "=", int(lstripped)))
            else:
                parts.append(
                    c.any_of(
                        c.compare("summary", "contains", text),
                        c.compare("company/name", "contains", text),
                    )
                )
        return c.all_of(*parts)

    def search_tickets(self, query: TicketQuery) -> TicketPage:
        params: dict[str, Any] = {"orderBy": "id desc", "fields": TICKET_LIST_FIELDS}
        conditions = self.ticket_conditions(query)
        if conditions:
            params["conditions"] = conditions
        rows, next_page, last_page = self.client.get_page(
            "service/tickets", page=query.page, page_size=query.page_size, **params
        )
        return TicketPage(
            tickets=[ticket_from(row) for row in rows],
            page=query.page,
            page_size=query.page_size,
            has_next=next_page is not None,
            last_page=last_page,
        )

    def get_ticket(self, ticket_id: int) -> Ticket:
        return ticket_from(self.client.get(f"service/tickets/{int(ticket_id)}"))

    def create_ticket(self, ticket: NewTicket) -> Ticket:
        body: dict[str, Any] = {
            "summary": ticket.summary,
            "company": {"id": ticket.company_id},
            "board": {"id": ticket.board_id},
        }
        if ticket.status_id:
            body["status"] = {"id": ticket.status_id}
        if ticket.priority_id:
            body["priority"] = {"id": ticket.priority_id}
        if ticket.initial_description:
            body["initialDescription"] = ticket.initial_description
        return ticket_from(self.client.post("service/tickets", body))

    def boards(self) -> list[Board]:
        rows = self.client.get_all(
            "service/boards", conditions=c.compare("inactiveFlag", "=", False), fields="id,name"
        )
        return [Board(id=int(r["id"]), name=str(r.get("name") or "")) for r in rows]

    def board_statuses(self, board_id: int) -> list[Status]:
        rows = self.client.get_all(
            f"service/boards/{int(board_id)}/statuses",
            conditions=c.compare("inactive", "=", False),
            orderBy="sortOrder asc",
        )
        return [
            Status(
                id=int(r["id"]),
                name=str(r.get("name") or ""),
                board_id=int(board_id),
                closed=bool(r.get("closedStatus")),
                sort=int(r.get("sortOrder") or 0),
            )
            for r in rows
        ]

    def priorities(self) -> list[Priority]:
        rows = self.client.get_all("service/priorities", orderBy="sortOrder asc")
        return [
            Priority(
                id=int(r["id"]), name=str(r.get("name") or ""), sort=int(r.get("sortOrder") or 0)
            )
            for r in rows
        ]

    def members(self) -> list[Member]:
        rows = self.client.get_all(
            "system/members",
            conditions=c.compare("inactiveFlag", "=", False),
            fields="id,identifier,firstName,lastName,primaryEmail",
            orderBy="lastName asc",
        )
        return [
            Member(
                id=int(r["id"]),
                identifier=str(r.get("identifier") or ""),
                name=f"{r.get('firstName') or ''} {r.get('lastName') or ''}".strip()
                or str(r.get("identifier") or ""),
                email=str(r.get("primaryEmail") or ""),
            )
            for r in rows
        ]

    def companies(self) -> list[Company]:
        rows = self.client.get_all(
            "company/companies",
            conditions=c.compare("deletedFlag", "=", False),
            fields="id,identifier,name",
            orderBy="name asc",
        )
        return [
            Company(
                id=int(r["id"]),
                identifier=str(r.get("identifier") or ""),
                name=str(r.get("name") or ""),
            )
            for r in rows
        ]

    def ticket_resources(self, ticket_id: int) -> list[str]:
        data = self.client.get(f"service/tickets/{int(ticket_id)}", fields="id,resources")
        return list(split_resources(data.get("resources")))

    def _write_resources(self, ticket_id: int, resources: list[str]) -> list[str]:
        data = self.client.patch(
            f"service/tickets/{int(ticket_id)}",
            [{"op": "replace", "path": "resources", "value": ", ".join(resources)}],
        )
        return list(split_resources(data.get("resources")))

    def add_resource(self, ticket_id: int, identifier: str) -> list[str]:
        current = self.ticket_resources(ticket_id)
        if identifier.lower() in (r.lower() for r in current):
            return current
        return self._write_resources(ticket_id, [*current, identifier])

    def remove_resource(self, ticket_id: int, identifier: str) -> list[str]:
        current = self.ticket_resources(ticket_id)
        kept = [r for r in current if r.lower() != identifier.lower()]
        if kept == current:
            return current
        return self._write_resources(ticket_id, kept)

    def notes(self, ticket_id: int) -> list[Note]:
        rows = self.client.get_all(f"service/tickets/{int(ticket_id)}/notes", orderBy="id asc")
        return [note_from(r) for r in rows]

    def add_note(self, ticket_id: int, text: str, kind: NoteKind) -> Note:
        body = {
            "text": text,
            "detailDescriptionFlag": False,
            "internalAnalysisFlag": False,
            "resolutionFlag": False,
            "customerUpdatedFlag": False,
        }
        body[NOTE_FLAGS[kind]] = True
        return note_from(self.client.post(f"service/tickets/{int(ticket_id)}/notes", body))

    def set_status(self, ticket_id: int, status_id: int) -> Ticket:
        return ticket_from(
            self.client.patch(
                f"service/tickets/{int(ticket_id)}",
                [{"op": "replace", "path": "status", "value": {"id": int(status_id)}}],
            )
        )

    def ticket_status(self, ticket_id: int) -> Ticket:
        return ticket_from(
            self.client.get(
                f"service/tickets/{int(ticket_id)}",
                fields="id,summary,board,status,closedFlag,_info",
            )
        )
