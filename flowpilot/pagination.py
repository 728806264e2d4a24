"""
Keyset ("cursor") pagination for API lists, newest first by ``(updated_at, id)`` or any
``(timestamp, id)`` pair, or in any other fixed order (``ordered_page``: the library by category
and name, people by name). A page costs the same at row 10 and at row 10,000: the cursor is the
last row's key, never an offset. Lists answer ``{"results": [...], "next": url | null}``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework.request import Request

from flowpilot.errors import DomainError

M = TypeVar("M", bound=Model)
DEFAULT_LIMIT = 100
MAX_LIMIT = 100


NOT_VALID = "This page link is not valid; start from the first page."


class InvalidCursor(DomainError):
    status = 400
    code = "invalid_cursor"


@dataclass(frozen=True)
class Cursor:
    """The key of the last row shown: the next page starts strictly after it."""

    moment: datetime
    pk: int

    def encode(self) -> str:
        raw = f"{self.moment.isoformat()}|{self.pk}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            moment_text, pk_text = raw.split("|", 1)
            moment, pk = parse_datetime(moment_text), int(pk_text)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidCursor(NOT_VALID) from exc
        if moment is None or not 0 < pk < 2**63:
            raise InvalidCursor(NOT_VALID)
        return cls(moment=moment, pk=pk)

    def after(self, field: str) -> Q:
        """Rows after this one in ``-field, -id`` order. The plain ``<=`` keeps an index range."""
        return Q(**{f"{field}__lte": self.moment}) & (
            Q(**{f"{field}__lt": self.moment}) | Q(pk__lt=self.pk)
        )


@dataclass(frozen=True)
class PageRequest:
    cursor: Cursor | None
    limit: int


def page_limit(request: Request) -> int:
    """``?limit=…`` of a list request, within 1..MAX_LIMIT; anything else is the default."""
    try:
        limit = int(request.query_params.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        limit = DEFAULT_LIMIT
    return max(1, min(limit, MAX_LIMIT))


def page_request(request: Request) -> PageRequest:
    """``?cursor=…&limit=…`` of a list request; a bad cursor is a 400, a bad limit the default."""
    raw = request.query_params.get("cursor") or ""
    cursor = Cursor.decode(raw) if raw else None
    return PageRequest(cursor=cursor, limit=page_limit(request))


def next_link(
    request: Request, rows: Sequence[Model], page: PageRequest, field: str = "updated_at"
) -> str | None:
    """The URL of the following page, or None on the last one. ``rows`` holds up to
    ``limit + 1`` rows: the extra one only says that more exist."""
    if len(rows) <= page.limit:
        return None
    last = rows[page.limit - 1]
    cursor = Cursor(moment=getattr(last, field), pk=int(last.pk))
    return page_url(request, cursor.encode(), page.limit)


def page_url(request: Request, cursor: str, limit: int | None = None) -> str:
    """This list's URL with the same filters, starting after ``cursor`` (and ``limit`` rows)."""
    params = request.query_params.copy()
    params["cursor"] = cursor
    if limit is not None:
        params["limit"] = str(limit)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


def paginated_body(
    request: Request,
    rows: Sequence[M],
    page: PageRequest,
    serialize: Callable[[Sequence[M]], Any],
    field: str = "updated_at",
) -> dict[str, Any]:
    """The list envelope: the page's rows serialized and the link to the next page."""
    return {
        "results": serialize(rows[: page.limit]),
        "next": next_link(request, rows, page, field),
    }


# --- lists in another fixed order ---------------------------------------------------------

_KEY_SALT = "flowpilot.pagination.key"


def _salt(request: Request) -> str:
    """A cursor is good for the list that wrote it only (with or without the trailing slash)."""
    return f"{_KEY_SALT}:{request.path.rstrip('/')}"


def _key_of(row: Model, field: str) -> Any:
    value: Any = row
    for part in field.lstrip("-").split("__"):
        value = getattr(value, part)
    return value.isoformat() if isinstance(value, datetime) else value


def _after_key(ordering: Sequence[str], key: Sequence[Any]) -> Q:
    """Rows strictly after ``key`` in ``ordering``: on an earlier field equal, then past it."""
    after = Q(pk__in=[])
    for index, field in enumerate(ordering):
        name = field.lstrip("-")
        step = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": key[index]})
        for earlier, value in zip(ordering[:index], key[:index], strict=True):
            step &= Q(**{earlier.lstrip("-"): value})
        after |= step
    return after


def ordered_page(
    request: Request,
    rows: QuerySet[M],
    ordering: Sequence[str],
    serialize: Callable[[Sequence[M]], Any],
) -> dict[str, Any]:
    """
    One page of ``rows`` in ``ordering`` (field names, ``-`` for descending; none may be null,
    the last must be unique — the id) as the list envelope. The cursor is the last row's sort
    key, signed: one the server did not write (edited, or of another list) is a 400.
    """
    limit = page_limit(request)
    raw = request.query_params.get("cursor") or ""
    ordered = rows.order_by(*ordering)
    if raw:
        try:
            key = signing.loads(raw, salt=_salt(request))
        except signing.BadSignature as exc:
            raise InvalidCursor(NOT_VALID) from exc
        if not isinstance(key, list) or len(key) != len(ordering):
            raise InvalidCursor(NOT_VALID)
        ordered = ordered.filter(_after_key(ordering, key))
    shown = list(ordered[: limit + 1])
    next_url = None
    if len(shown) > limit:
        last = shown[limit - 1]
        key = [_key_of(last, field) for field in ordering]
        next_url = page_url(request, signing.dumps(key, salt=_salt(request)), limit)
    return {"results": serialize(shown[:limit]), "next": next_url}
