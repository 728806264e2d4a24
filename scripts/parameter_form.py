"""
The parameter form shown under every script (generator, fix card, builder): field rows for a
schema, values read back from a POST, and values known from the session ("from session").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict

from scripts.parameters import ParameterSpec

FIELD_PREFIX = "param-"
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Computer names as help desks write them: PC-0142, LT-JDOE-01, NW-FS01, DESKTOP-7H2K9Q.
_COMPUTER_RE = re.compile(r"\b(?:[A-Z]{2,}[A-Z0-9]*-[A-Z0-9-]*\d[A-Z0-9-]*)\b")
_USER_PARAM = re.compile(r"upn|e_?mail|mailbox|principal", re.IGNORECASE)
_COMPUTER_PARAM = re.compile(r"computer|host|machine|device|^pc|workstation", re.IGNORECASE)
_TICKET_PARAM = re.compile(r"ticket", re.IGNORECASE)


def values_from_post(
    schema: list[ParameterSpec], data: QueryDict | Mapping[str, Any]
) -> dict[str, Any]:
    """Submitted values by parameter name (an unticked checkbox is ``false``)."""
    values: dict[str, Any] = {}
    for spec in schema:
        key = FIELD_PREFIX + spec.name
        if spec.type == "bool":
            values[spec.name] = "true" if data.get(key) in ("on", "true", "1") else "false"
        elif key in data:
            values[spec.name] = data.get(key) or ""
    return values


def session_values(
    schema: list[ParameterSpec], *, texts: list[str], ticket: str = ""
) -> dict[str, str]:
    """
    Values the session already states, for the parameters that obviously ask for them: a
    sign-in address, a computer name, the ticket. Only unambiguous finds are offered.
    """
    joined = "\n".join(texts)
    emails = list(dict.fromkeys(_EMAIL_RE.findall(joined)))
    computers = list(dict.fromkeys(_COMPUTER_RE.findall(joined)))
    found: dict[str, str] = {}
    for spec in schema:
        if spec.is_secret or spec.type not in ("string",):
            continue
        if _USER_PARAM.search(spec.name) and len(emails) == 1:
            found[spec.name] = emails[0]
        elif _COMPUTER_PARAM.search(spec.name) and len(computers) == 1:
            found[spec.name] = computers[0]
        elif _TICKET_PARAM.search(spec.name) and ticket:
            found[spec.name] = ticket
    return found


def form_fields(
    schema: list[ParameterSpec],
    values: Mapping[str, Any],
    *,
    from_session: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One row per parameter, with the value to show (secrets are never echoed back)."""
    rows = []
    known = from_session or {}
    for spec in schema:
        raw = values.get(spec.name)
        if raw in (None, "") and spec.name in known:
            raw = known[spec.name]
        if raw in (None, "") and spec.has_default:
            raw = spec.default
        if spec.type == "bool":
            checked = str(raw).lower() in ("true", "1", "on", "yes") if raw is not None else False
            value: Any = checked
        else:
            value = "" if spec.is_secret or raw is None else str(raw)
        rows.append(
            {
                "spec": spec,
                "field": FIELD_PREFIX + spec.name,
                "label": spec.display_label,
                "input": _input_type(spec),
                "value": value,
                "from_session": spec.name in known and values.get(spec.name) in (None, ""),
                "error": (errors or {}).get(spec.name, ""),
            }
        )
    return rows


def _input_type(spec: ParameterSpec) -> str:
    if spec.is_secret:
        return "password"
    return {"int": "number", "bool": "checkbox", "choice": "select"}.get(spec.type, "text")


def effective_values(
    schema: list[ParameterSpec], values: Mapping[str, Any], from_session: Mapping[str, str]
) -> dict[str, Any]:
    """What renders: submitted values, else what the session states."""
    merged = dict(from_session)
    merged.update({k: v for k, v in values.items() if v not in (None, "")})
    return {spec.name: merged[spec.name] for spec in schema if spec.name in merged}
