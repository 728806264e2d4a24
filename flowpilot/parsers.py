"""
The API's JSON parser: bounded in size and depth, and strict about text.

DRF's own parser lets a RecursionError escape on deeply nested input (a 500 from a 2 KB body),
reads a body of any size, and accepts lone surrogates that PostgreSQL cannot store. This one
answers all of those with 400 ``{"detail", "code": "invalid_json"}`` (413 for a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

# Deep enough for any body the API accepts (the deepest, a script parameter schema, is ~5).
MAX_DEPTH = 32
INVALID_JSON = "invalid_json"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def invalid(detail: str) -> exceptions.ParseError:
    return exceptions.ParseError(detail=detail, code=INVALID_JSON)


def _check_structure(value: Any) -> None:
    """Walk the parsed body without recursion: depth bound, and text PostgreSQL can store."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise invalid(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    if "\x00" in text:
        # PostgreSQL stores NUL neither in text nor in jsonb.
        raise exceptions.ParseError(
            detail="Text can't contain NUL characters (\\u0000).", code="invalid_characters"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid("JSON text contains an unpaired surrogate (\\ud800-\\udfff).") from exc


def parse_json_bytes(raw: bytes) -> Any:
    """Parse one JSON document with the API's bounds (``ParseError``/``PayloadTooLarge``)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and len(raw) > limit:
        raise PayloadTooLarge()
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise invalid(f"JSON nested deeper than {MAX_DEPTH} levels.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"JSON parse error: {str(exc)[:200]}") from exc
    _check_structure(data)
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        return parse_json_bytes(raw)
