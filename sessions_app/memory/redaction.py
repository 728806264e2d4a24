"""
Redaction of script secrets before anything from a past session is shown, indexed or sent to a
model. The scripts app owns the full redaction (it knows template schemas); it may register a
better redactor here (``register_script_redactor``), this module's patterns are the safety net
that always runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"
_SENSITIVE_NAME_RE = re.compile(r"pass|secret|token|key|credential|pwd|pin", re.IGNORECASE)
# A literal after a secret-looking PowerShell parameter or assignment:
#   -Password 'Summer2024!'   $apiKey = "abc"   ConvertTo-SecureString "x" -AsPlainText
_SECRET_ARG_RE = re.compile(
    r"(?P<lead>-(?:[A-Za-z]*(?:Password|Secret|Token|ApiKey|Key|Credential|Pwd|Pin))\s+)"
    r"(?P<q>['\"])(?P<value>[^'\"\r\n]*)(?P=q)",
    re.IGNORECASE,
)
_SECRET_ASSIGN_RE = re.compile(
    r"(?P<lead>\$[A-Za-z_]*(?:password|secret|token|apikey|key|credential|pwd|pin)[A-Za-z_0-9]*"
    r"\s*=\s*)(?P<q>['\"])(?P<value>[^'\"\r\n]*)(?P=q)",
    re.IGNORECASE,
)
_SECURE_STRING_RE = re.compile(
    r"(?P<lead>ConvertTo-SecureString\s+(?:-String\s+)?)(?P<q>['\"])(?P<value>[^'\"\r\n]*)(?P=q)",
    re.IGNORECASE,
)

ScriptRedactor = Callable[[str, list[dict[str, Any]]], str]
_redactors: list[ScriptRedactor] = []


def register_script_redactor(redactor: ScriptRedactor) -> None:
    if redactor not in _redactors:
        _redactors.append(redactor)


def _mask(match: re.Match[str]) -> str:
    return f"{match['lead']}{match['q']}{REDACTED}{match['q']}"


def is_sensitive(parameter: dict[str, Any]) -> bool:
    return bool(parameter.get("sensitive")) or bool(
        _SENSITIVE_NAME_RE.search(str(parameter.get("name") or ""))
    )


def redact_parameters(parameters: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """A fix's parameter schema with the defaults of sensitive parameters masked."""
    cleaned = []
    for parameter in parameters or []:
        if not isinstance(parameter, dict):
            continue
        item = dict(parameter)
        if is_sensitive(item) and item.get("default") not in (None, ""):
            item["default"] = REDACTED
        cleaned.append(item)
    return cleaned


def redact_script(script: str, parameters: list[dict[str, Any]] | None = None) -> str:
    """The script with secret literals masked (the values of sensitive defaults included)."""
    text = script or ""
    for parameter in parameters or []:
        if isinstance(parameter, dict) and is_sensitive(parameter):
            value = parameter.get("default")
            if isinstance(value, str) and len(value) >= 3:
                text = text.replace(value, REDACTED)
    for pattern in (_SECRET_ARG_RE, _SECRET_ASSIGN_RE, _SECURE_STRING_RE):
        text = pattern.sub(_mask, text)
    for redactor in _redactors:
        text = redactor(text, list(parameters or []))
    return text
