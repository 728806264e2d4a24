"""
The safety review: what a PowerShell script does that deserves a second look before anyone
runs it. The script is parsed with the tree-sitter PowerShell grammar and a table of rules
looks at each command (aliases resolved), its parameters and its arguments — never at raw
text, so a comment or a string that merely mentions ``Remove-Item`` raises nothing.

Severity ``high`` asks the engineer for an explicit acknowledgement before copying.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from tree_sitter import Node, Query, QueryCursor, Tree

from scripts import powershell
from scripts.rendering import Rendered

Severity = Literal["info", "warning", "high"]
SEVERITY_ORDER = {"high": 0, "warning": 1, "info": 2}
MAX_SYNTAX_FINDINGS = 5

ALIASES = {
    "rm": "remove-item",
    "del": "remove-item",
    "erase": "remove-item",
    "rd": "remove-item",
    "rmdir": "remove-item",
    "ri": "remove-item",
    "rp": "remove-itemproperty",
    "iex": "invoke-expression",
    "iwr": "invoke-webrequest",
    "curl": "invoke-webrequest",
    "wget": "invoke-webrequest",
    "irm": "invoke-restmethod",
    "saps": "start-process",
    "start": "start-process",
}
DOWNLOADERS = frozenset({"invoke-webrequest", "invoke-restmethod", "start-bitstransfer"})
DOWNLOAD_WORDS = re.compile(
    r"downloadstring|downloadfile|downloaddata|invoke-webrequest|invoke-restmethod|\biwr\b|\birm\b"
    r"|net\.webclient|system\.net\.http",
    re.IGNORECASE,
)
SYSTEM_PATH = re.compile(
    r"^(?:[a-z]:\\?\*?|\\\\?|\\\*|/|\*|[a-z]:\\(?:windows|program files(?: \(x86\))?|users|"
    r"programdata)\\?\*?|\$env:(?:systemroot|windir|systemdrive|programfiles|userprofile)\\?\*?)$",
    re.IGNORECASE,
)
HKLM = re.compile(r"^(?:hklm:|hkey_local_machine|registry::hkey_local_machine|hklm\\)", re.I)
FALSE_WORDS = frozenset({"$false", "false", "0", "'false'", '"false"'})


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    line: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "line": self.line,
            "message": self.message,
        }


@dataclass(frozen=True)
class Review:
    parses: bool
    findings: tuple[Finding, ...]

    @property
    def has_high(self) -> bool:
        return any(finding.severity == "high" for finding in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"parses": self.parses, "findings": [f.as_dict() for f in self.findings]}


@dataclass
class Command:
    """One command as the rules see it: canonical lower-case name, parameters, arguments."""

    name: str
    line: int
    params: dict[str, str | None] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    literals: list[str] = field(default_factory=list)
    source: str = ""
    pipeline: list[str] = field(default_factory=list)
    position: int = 0

    def has(self, *prefixes: str, minimum: int = 2) -> bool:
        """A parameter given as any unambiguous abbreviation of one of ``prefixes``."""
        return any(self.param(prefix, minimum=minimum) is not None for prefix in prefixes)

    def param(self, full: str, *, minimum: int = 2) -> str | None:
        for name, value in self.params.items():
            if len(name) >= minimum and full.startswith(name):
                return value if value is not None else ""
        return None

    @property
    def values(self) -> list[str]:
        return [*self.args, *(v for v in self.params.values() if v)]

    def targets(self) -> list[str]:
        return [value.strip("'\"") for value in self.values if value]


Rule = Callable[[Command], Iterator[tuple[str, Severity, str]]]
RULES: dict[str, Rule] = {}


def rule(*commands: str) -> Callable[[Rule], Rule]:
    def register(func: Rule) -> Rule:
        for command in commands:
            previous = RULES.get(command)
            if previous is None:
                RULES[command] = func
            else:
                RULES[command] = _chain(previous, func)
        return func

    return register


def _chain(first: Rule, second: Rule) -> Rule:
    def both(command: Command) -> Iterator[tuple[str, Severity, str]]:
        yield from first(command)
        yield from second(command)

    return both


@rule("remove-item")
def _remove_item(command: Command) -> Iterator[tuple[str, Severity, str]]:
    targets = command.targets()
    if any(HKLM.match(target) for target in targets):
        yield "registry_hklm_delete", "high", "Deletes registry keys under HKLM (machine-wide)."
        return
    if command.has("recurse", minimum=1):
        if any(SYSTEM_PATH.match(target) for target in targets):
            yield (
                "recursive_delete",
                "high",
                "Recursively deletes a drive root or a system folder.",
            )
        else:
            yield "recursive_delete", "warning", "Deletes files and folders recursively."


@rule("remove-itemproperty", "clear-itemproperty")
def _remove_item_property(command: Command) -> Iterator[tuple[str, Severity, str]]:
    if any(HKLM.match(target) for target in command.targets()):
        yield "registry_hklm_delete", "high", "Deletes registry values under HKLM (machine-wide)."


@rule("reg", "reg.exe")
def _reg(command: Command) -> Iterator[tuple[str, Severity, str]]:
    words = [arg.lower() for arg in command.args]
    if words and words[0] == "delete" and len(words) > 1 and HKLM.match(words[1]):
        yield "registry_hklm_delete", "high", "Deletes registry keys under HKLM (machine-wide)."


@rule("cmd", "cmd.exe")
def _cmd(command: Command) -> Iterator[tuple[str, Severity, str]]:
    words = " ".join(command.args).lower()
    if re.search(r"\b(?:rd|rmdir)\b.*\s/s\b", words):
        yield "recursive_delete", "warning", "Deletes a folder tree recursively (rd /s)."
    if re.search(r"\bformat\b\s+[a-z]:", words):
        yield "disk_format", "high", "Formats a disk volume."


@rule(
    "format-volume",
    "clear-disk",
    "initialize-disk",
    "remove-partition",
    "format",
    "format.com",
    "diskpart",
    "diskpart.exe",
)
def _disk(command: Command) -> Iterator[tuple[str, Severity, str]]:
    yield "disk_format", "high", "Formats, wipes or repartitions a disk."


@rule("cipher", "cipher.exe")
def _cipher(command: Command) -> Iterator[tuple[str, Severity, str]]:
    if any(arg.lower().startswith("/w") for arg in command.args):
        yield "disk_format", "high", "Wipes free space on a volume (cipher /w)."


@rule("stop-computer", "restart-computer")
def _power(command: Command) -> Iterator[tuple[str, Severity, str]]:
    verb = "Shuts down" if command.name == "stop-computer" else "Restarts"
    yield "shutdown", "warning", f"{verb} the computer; save the user's work first."


@rule("shutdown", "shutdown.exe")
def _shutdown(command: Command) -> Iterator[tuple[str, Severity, str]]:
    flags = {arg.lower() for arg in command.args}
    if flags & {"/s", "/r", "/p", "/h", "-s", "-r", "/g", "/sg"} and "/a" not in flags:
        yield "shutdown", "warning", "Shuts down or restarts the computer."


@rule("set-mppreference")
def _defender(command: Command) -> Iterator[tuple[str, Severity, str]]:
    for name, value in command.params.items():
        if name.startswith("disable") and (value is None or value.lower() not in FALSE_WORDS):
            yield "defender_disabled", "high", "Turns off Microsoft Defender protection."
            return


@rule("add-mppreference")
def _defender_exclusion(command: Command) -> Iterator[tuple[str, Severity, str]]:
    if any(name.startswith("exclusion") for name in command.params):
        yield "defender_exclusion", "warning", "Adds a Microsoft Defender exclusion."


@rule("stop-service", "set-service", "sc", "sc.exe")
def _defender_service(command: Command) -> Iterator[tuple[str, Severity, str]]:
    names = {value.strip("'\"").lower() for value in command.values}
    if names & {"windefend", "mpssvc", "wscsvc"}:
        yield (
            "security_service_stopped",
            "high",
            "Stops or disables Defender, the firewall or Security Center.",
        )


@rule("set-netfirewallprofile")
def _firewall(command: Command) -> Iterator[tuple[str, Severity, str]]:
    enabled = command.param("enabled")
    if enabled is not None and enabled.strip("'\"").lower() in {"false", "$false", "0"}:
        yield "firewall_disabled", "high", "Turns off Windows Firewall."


@rule("netsh", "netsh.exe")
def _netsh(command: Command) -> Iterator[tuple[str, Severity, str]]:
    words = [arg.lower() for arg in command.args]
    if words[:1] == ["advfirewall"] and "state" in words and "off" in words:
        yield "firewall_disabled", "high", "Turns off Windows Firewall."
    if words[:2] == ["firewall", "set"] and "disable" in words:
        yield "firewall_disabled", "high", "Turns off Windows Firewall."


@rule("set-executionpolicy")
def _execution_policy(command: Command) -> Iterator[tuple[str, Severity, str]]:
    words = {value.strip("'\"").lower() for value in command.values}
    if words & {"bypass", "unrestricted"}:
        scope = (command.param("scope") or "").strip("'\"").lower()
        if scope == "process":
            yield (
                "execution_policy",
                "warning",
                "Lowers the execution policy for this PowerShell process.",
            )
        else:
            yield "execution_policy", "high", "Lowers the execution policy for the machine/user."


@rule("powershell", "powershell.exe", "pwsh", "pwsh.exe")
def _nested_powershell(command: Command) -> Iterator[tuple[str, Severity, str]]:
    policy = command.param("executionpolicy", minimum=2) or ""
    if policy.strip("'\"").lower() in {"bypass", "unrestricted"}:
        yield "execution_policy", "warning", "Starts PowerShell with the execution policy bypassed."
    if command.has("encodedcommand", minimum=2):
        yield "encoded_command", "high", "Runs an encoded (hidden) command."


@rule("invoke-expression")
def _invoke_expression(command: Command) -> Iterator[tuple[str, Severity, str]]:
    upstream = set(command.pipeline[: command.position])
    if upstream & DOWNLOADERS or DOWNLOAD_WORDS.search(command.source):
        yield "download_execute", "high", "Downloads code from the internet and runs it."
    else:
        yield "invoke_expression", "warning", "Runs a string as code (Invoke-Expression)."


@rule("convertto-securestring")
def _plain_text(command: Command) -> Iterator[tuple[str, Severity, str]]:
    if not command.has("asplaintext"):
        return
    if command.literals and not any("{{" in value for value in command.literals):
        yield "plaintext_credential", "high", "A password is written in the script in clear text."
    else:
        yield (
            "plaintext_credential",
            "warning",
            "Turns a plain-text value into a credential; keep it out of logs and tickets.",
        )


def review_script(script: str) -> Review:
    """Parse ``script`` and run the rule table over its commands."""
    return _review(script)


def review_rendered(rendered: Rendered) -> Review:
    """The review of a rendered template, its parse re-using the template's (see ``parsed``)."""
    return _review_tree(rendered.parsed().tree)


@lru_cache(maxsize=256)
def _review(script: str) -> Review:
    return _review_tree(powershell.parse_lenient(script))


def _review_tree(tree: Tree) -> Review:
    findings: list[Finding] = []
    errors = powershell.syntax_errors(tree)
    if errors and all(child.type == "comment" for child in tree.root_node.named_children):
        # Only comments (or nothing): the grammar wants a statement, PowerShell does not.
        errors = []
    for node in errors[:MAX_SYNTAX_FINDINGS]:
        what = "is missing something" if node.is_missing else "cannot be parsed"
        findings.append(
            Finding(
                rule="syntax_error",
                severity="warning",
                line=node.start_point[0] + 1,
                message=f"Syntax error: this line {what}.",
            )
        )
    captures = _captures(tree.root_node)
    constants = _constants(captures.get("assignment", []))
    seen: set[tuple[str, int]] = set()
    for command in _commands(captures.get("command", []), constants):
        check = RULES[command.name]
        for rule_name, severity, message in check(command):
            if (rule_name, command.line) in seen:
                continue
            seen.add((rule_name, command.line))
            findings.append(Finding(rule_name, severity, command.line, message))
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.line))
    return Review(parses=not errors, findings=tuple(findings))


# --- reading the tree ---------------------------------------------------------------------


_SIMPLE_VARIABLE = re.compile(r"^\$[A-Za-z_][\w:]*$")
_SIMPLE_STRING = re.compile(r"""^(?:'(?:[^']|'')*'|"[^"`$]*")$""")
_QUERY = Query(powershell.LANGUAGE, "(command) @command (assignment_expression) @assignment")


def _captures(root: Node) -> dict[str, list[Node]]:
    """Commands and assignments, found by the grammar's query engine (not a Python walk)."""
    return QueryCursor(_QUERY).captures(root)


def _constants(assignments: list[Node]) -> dict[str, str]:
    """``$name = 'literal'`` assignments, so ``Remove-Item -Path $key`` can be judged."""
    found: dict[str, str] = {}
    for node in assignments:
        left = powershell.text(node.children[0]).strip()
        right = powershell.text(node.children[-1]).strip()
        if _SIMPLE_VARIABLE.match(left) and _SIMPLE_STRING.match(right):
            found[left.lower()] = _unquote(right)
    return found


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        return value[1:-1]
    return value


def _resolve(value: str, constants: dict[str, str]) -> str:
    stripped = _unquote(value)
    if value.startswith("'"):
        return stripped
    return re.sub(
        r"\$\{?([A-Za-z_][\w:]*)\}?",
        lambda m: constants.get("$" + m.group(1).lower(), m.group(0)),
        stripped,
    )


def _commands(nodes: list[Node], constants: dict[str, str]) -> Iterator[Command]:
    """The commands some rule looks at (the others are not read any further)."""
    for node in nodes:
        name_node = next(
            (c for c in node.children if c.type in ("command_name", "command_name_expr")), None
        )
        if name_node is None:
            continue
        raw_name = powershell.text(name_node).strip("'\"&. ").lower()
        name = ALIASES.get(raw_name, raw_name)
        if name not in RULES:
            continue
        pipeline = _pipeline_names(node)
        command = Command(
            name=name,
            line=node.start_point[0] + 1,
            source=powershell.text(node),
            pipeline=pipeline,
            position=pipeline.index(name) if name in pipeline else 0,
        )
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        pending: str | None = None
        for element in elements.children if elements is not None else []:
            if element.type == "command_argument_sep":
                continue
            if element.type == "command_parameter":
                text = powershell.text(element).lstrip("-").lower()
                name_part, _, inline = text.partition(":")
                command.params[name_part] = inline or None
                pending = name_part if not inline else None
                continue
            value = powershell.text(element)
            resolved = _resolve(value, constants)
            command.args.append(resolved)
            if value[:1] in ("'", '"'):
                command.literals.append(value)
            if pending is not None and command.params.get(pending) is None:
                command.params[pending] = resolved
            pending = None
        yield command


def _pipeline_names(command: Node) -> list[str]:
    parent = command.parent
    while parent is not None and parent.type not in ("pipeline", "pipeline_chain"):
        parent = parent.parent
    if parent is None:
        return []
    names: list[str] = []
    for child in parent.children:
        if child.type == "command":
            name_node = next(
                (c for c in child.children if c.type in ("command_name", "command_name_expr")),
                None,
            )
            if name_node is not None:
                raw = powershell.text(name_node).strip("'\"&. ").lower()
                names.append(ALIASES.get(raw, raw))
    return names
