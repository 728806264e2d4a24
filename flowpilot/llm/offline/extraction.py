"""Offline template extraction: turn the obvious customer-specific literals of a concrete
PowerShell script into ``{{placeholders}}``, conservatively.

What becomes a parameter, in priority order: literals assigned to secret-looking variables
(always, as sensitive), e-mail addresses / UPNs, literals assigned to identity, computer, path
or URL variables, ``-ComputerName``/``-Identity``-style arguments, UNC paths and URLs. At most
``MAX_NEW_PARAMETERS`` new parameters are created; everything else stays literal. Placeholders
already present in the script are kept and declared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flowpilot.llm.offline.knowledge import PLACEHOLDER_RE

MAX_NEW_PARAMETERS = 5

_ASSIGNMENT_RE = re.compile(
    r"^[ \t]*\$(?P<var>[A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*"
    r"(?P<q>['\"])(?P<value>[^'\"\r\n]+)(?P=q)",
    re.MULTILINE,
)
_ARGUMENT_RE = re.compile(
    r"-(?P<flag>ComputerName|CN|Server|Identity|UserPrincipalName|SamAccountName|Mailbox|User|"
    r"Printer|PrinterName)[ \t]+"
    r"(?:(?P<q>['\"])(?P<quoted>[^'\"\r\n]+)(?P=q)|(?P<bare>[A-Za-z0-9][\w.\-@]*))",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w-])")
_UNC_RE = re.compile(r"\\\\[A-Za-z0-9._-]+\\[^\s'\"|;,)]+")
_URL_RE = re.compile(r"https?://[^\s'\"|;,)]+")
_LOCAL_PATH_RE = re.compile(r"^[A-Za-z]:\\")

_SECRET_VAR_RE = re.compile(r"pass(word)?|pwd|secret|token|api_?key|client_?secret", re.IGNORECASE)
_USER_VAR_RE = re.compile(r"user|upn|account|sam|identity|mail|owner|member", re.IGNORECASE)
_COMPUTER_VAR_RE = re.compile(r"computer|host|server|machine|device|^pc|target|node", re.IGNORECASE)
_PATH_VAR_RE = re.compile(r"path|folder|dir|share|file|root", re.IGNORECASE)
_URL_VAR_RE = re.compile(r"url|uri|endpoint|site|address", re.IGNORECASE)

_NOT_PARAMETERS = frozenset({"localhost", ".", "127.0.0.1", "::1"})
_DESCRIPTIONS = {
    "secret": "Secret value (stored redacted).",
    "user": "The user's account or sign-in address.",
    "computer": "The target computer or server name.",
    "path": "The file, folder or share path.",
    "url": "The web address.",
}
_PRIORITY = {"secret": 0, "user": 1, "computer": 2, "path": 3, "url": 4}


@dataclass
class _Candidate:
    literal: str
    name: str
    kind: str
    order: int


def extract_template(script: str) -> dict[str, Any]:
    """``{"body": ..., "parameters": [...]}`` for ``script``; the body only references the
    declared parameters."""
    candidates = _candidates(script)
    chosen = sorted(candidates, key=lambda c: (_PRIORITY[c.kind], c.order))[:MAX_NEW_PARAMETERS]
    body = script
    names = set(PLACEHOLDER_RE.findall(script))
    parameters: list[dict[str, Any]] = [
        _parameter(name, "string", sensitive=False, description="")
        for name in dict.fromkeys(PLACEHOLDER_RE.findall(script))
    ]
    # Longest literals first, so "jane@contoso.com" is not clobbered by a shorter overlap.
    for candidate in sorted(chosen, key=lambda c: -len(c.literal)):
        if candidate.literal not in body:
            continue
        name = _unique(candidate.name, names)
        names.add(name)
        body = _replace_literal(body, candidate.literal, "{{" + name + "}}")
        parameters.append(
            _parameter(
                name,
                candidate.kind,
                sensitive=candidate.kind == "secret",
                description=_DESCRIPTIONS[candidate.kind],
            )
        )
    used = set(PLACEHOLDER_RE.findall(body))
    parameters = [parameter for parameter in parameters if parameter["name"] in used]
    order = {name: index for index, name in enumerate(dict.fromkeys(PLACEHOLDER_RE.findall(body)))}
    parameters.sort(key=lambda parameter: order[parameter["name"]])
    return {"body": body, "parameters": parameters}


def extract_template_json(script: str) -> str:
    return json.dumps(extract_template(script), ensure_ascii=False, indent=2)


def _candidates(script: str) -> list[_Candidate]:
    found: dict[str, _Candidate] = {}

    def add(literal: str, name: str, kind: str, order: int) -> None:
        literal = literal.strip()
        if (
            not literal
            or literal.lower() in _NOT_PARAMETERS
            or "{{" in literal
            or literal.startswith(("$", "("))
        ):
            return
        current = found.get(literal)
        if current is None or _PRIORITY[kind] < _PRIORITY[current.kind]:
            found[literal] = _Candidate(literal=literal, name=name, kind=kind, order=order)

    for match in _ASSIGNMENT_RE.finditer(script):
        variable, value = match.group("var"), match.group("value")
        kind = _kind_for_assignment(variable, value)
        if kind is not None:
            add(value, _snake(variable), kind, match.start())
    for match in _ARGUMENT_RE.finditer(script):
        value = match.group("quoted") or match.group("bare") or ""
        flag = match.group("flag").lower()
        if _EMAIL_RE.fullmatch(value) or flag in (
            "identity",
            "userprincipalname",
            "samaccountname",
            "user",
            "mailbox",
        ):
            add(
                value,
                "user_upn" if _EMAIL_RE.fullmatch(value) else "user_name",
                "user",
                match.start(),
            )
        elif flag in ("printer", "printername"):
            add(value, "printer_name", "path", match.start())
        else:
            add(value, "computer_name", "computer", match.start())
    for match in _EMAIL_RE.finditer(script):
        add(match.group(0), "user_upn", "user", match.start())
    for match in _UNC_RE.finditer(script):
        add(match.group(0), "share_path", "path", match.start())
    for match in _URL_RE.finditer(script):
        add(match.group(0), "url", "url", match.start())
    return list(found.values())


def _kind_for_assignment(variable: str, value: str) -> str | None:
    if _SECRET_VAR_RE.search(variable):
        return "secret"
    if _EMAIL_RE.fullmatch(value):
        return "user"
    if _URL_RE.match(value) or (_URL_VAR_RE.search(variable) and "://" in value):
        return "url"
    if _UNC_RE.match(value) or (_PATH_VAR_RE.search(variable) and _LOCAL_PATH_RE.match(value)):
        return "path"
    if _COMPUTER_VAR_RE.search(variable) and re.fullmatch(r"[A-Za-z0-9][\w.\-]*", value):
        return "computer"
    if _USER_VAR_RE.search(variable) and re.fullmatch(r"[\w.\-\\@ ]+", value):
        return "user"
    return None


def _replace_literal(body: str, literal: str, placeholder: str) -> str:
    # Whole-token replacement only: "PC-01" must not rewrite "PC-010".
    pattern = re.compile(r"(?<![\w.@-])" + re.escape(literal) + r"(?![\w@-]|\.\w)")
    return pattern.sub(lambda _match: placeholder, body)


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_") or "value"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    suffix = 2
    while f"{name}_{suffix}" in taken:
        suffix += 1
    return f"{name}_{suffix}"


def _parameter(name: str, kind: str, *, sensitive: bool, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "string",
        "required": True,
        "default": None,
        "sensitive": sensitive,
        "description": description or f"Value for {name}.",
    }
