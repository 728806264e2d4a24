"""Rendering: strict validation, typed values, and quoting verified by the PowerShell parser."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flowpilot.errors import Unprocessable
from scripts import powershell
from scripts.parameters import REDACTED, parse_schema, redact_sensitive
from scripts.rendering import quote, render, slots

HOSTILE = [
    "O'Brien'; Remove-Item C:\\ -Recurse -Force; '",
    "jane\u2019; Stop-Computer; \u2018",
    '"; Stop-Computer; "',
    "\u201c; Stop-Computer; \u201d",
    "$(Stop-Computer)",
    "${env:PATH}$env:USERNAME",
    "`$(Stop-Computer)`",
    "line one\nRemove-Item C:\\Windows -Recurse\n# ",
    "'@\nStop-Computer\n@'",
    'a`"; Format-Volume -DriveLetter C; "b',
    "#> Stop-Computer <#",
]
BENIGN = "jane.doe@contoso.com"

SINGLE = "Get-Mailbox -Identity '{{v}}' | Format-List\n"
DOUBLE = 'Write-Output "Hello {{v}} from $env:COMPUTERNAME"\n'
BARE = "Get-ADUser -Identity {{v}} -Properties LockedOut\n"
ASSIGN = "$User = {{v}}\nWrite-Output $User\n"
SUBEXPR = "Write-Output \"Found $(Get-ADUser -Identity '{{v}}' | Select-Object -Expand Name)\"\n"


def _commands(script: str) -> list[str]:
    tree = powershell.parse_lenient(script)
    return [
        powershell.text(node).lower()
        for node in powershell.walk(tree.root_node)
        if node.type == "command_name"
    ]


def _strings(script: str) -> list[str]:
    """The innermost string literals (a "...$('x')..." string holds another one)."""
    tree = powershell.parse(script)
    literals = [n for n in powershell.walk(tree.root_node) if n.type == "string_literal"]
    return [
        powershell.text(node)
        for node in literals
        if not any(
            other is not node and node.start_byte <= other.start_byte < node.end_byte
            for other in literals
        )
    ]


def _assert_contained(template: str, value: str) -> None:
    schema = parse_schema([{"name": "v"}])
    hostile = render(template, schema, {"v": value}).script
    benign = render(template, schema, {"v": BENIGN}).script
    tree = powershell.parse(hostile)
    assert not tree.root_node.has_error, hostile
    assert _commands(hostile) == _commands(benign), hostile
    hostile_strings, benign_strings = _strings(hostile), _strings(benign)
    assert len(hostile_strings) == len(benign_strings), hostile
    changed = [s for s, b in zip(hostile_strings, benign_strings, strict=True) if s != b]
    # Exactly one literal carries the value: the one the benign value sat in.
    assert len(changed) == 1, (hostile_strings, benign_strings)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("template", [SINGLE, DOUBLE, BARE, ASSIGN, SUBEXPR])
def test_hostile_values_stay_one_string_literal(template: str, value: str) -> None:
    _assert_contained(template, value)


@pytest.mark.parametrize("value", [v for v in HOSTILE if "\n" not in v])
def test_here_string_values_stay_inside(value: str) -> None:
    template = "$body = @'\nDear {{v}},\n'@\nWrite-Output $body\n"
    _assert_contained(template, value)
    template = '$body = @"\nDear {{v}} on $env:COMPUTERNAME\n"@\nWrite-Output $body\n'
    _assert_contained(template, value)


def test_here_string_refuses_line_breaks() -> None:
    schema = parse_schema([{"name": "v"}])
    with pytest.raises(Unprocessable) as exc:
        render("$b = @'\n{{v}}\n'@\n", schema, {"v": "x\n'@\nStop-Computer"})
    assert exc.value.extra["parameter"] == "v"


def test_comment_values_cannot_start_a_line_of_code() -> None:
    schema = parse_schema([{"name": "v"}])
    script = render("# for {{v}}\nWrite-Output 1\n", schema, {"v": "x\nStop-Computer"}).script
    assert "stop-computer" not in _commands(script)
    block = render("<# for {{v}} #>\nWrite-Output 1\n", schema, {"v": "#> Stop-Computer"}).script
    assert "stop-computer" not in _commands(block)


def test_single_quote_context_doubles_every_single_quote_character() -> None:
    assert quote("a'b\u2018c\u2019d\u201ae\u201bf", "single") == (
        "a''b\u2018\u2018c\u2019\u2019d\u201a\u201ae\u201b\u201bf"
    )
    assert quote('a"b$c`d\u201ce\u201df\u201eg', "double") == ('a`"b`$c``d`\u201ce`\u201df`\u201eg')


def test_contexts_are_read_from_the_parse() -> None:
    body = "$a = '{{a}}'\n$b = \"{{b}}\"\nGet-X -Y {{c}}\n# {{d}}\n$e = @'\n{{e}}\n'@\n"
    assert [(slot.name, slot.context) for slot in slots(body)] == [
        ("a", "single"),
        ("b", "double"),
        ("c", "bare"),
        ("d", "comment"),
        ("e", "here_single"),
    ]


def test_placeholder_glued_into_a_word_is_refused() -> None:
    schema = parse_schema([{"name": "server"}])
    with pytest.raises(Unprocessable) as exc:
        render("Get-ChildItem \\\\{{server}}\\share\n", schema, {"server": "fs01"})
    assert exc.value.code == "placeholder_unquoted"


def test_typed_values_render_as_literals_in_code() -> None:
    schema = parse_schema(
        [
            {"name": "days", "type": "int"},
            {"name": "force", "type": "bool"},
            {"name": "mode", "type": "choice", "choices": ["fast", "full"]},
        ]
    )
    script = render(
        "Clean -Days {{days}} -Force:{{force}} -Mode {{mode}}\n$d = '{{days}}'; $f = '{{force}}'\n",
        schema,
        {"days": "30", "force": "yes", "mode": "full"},
    ).script
    assert script == "Clean -Days 30 -Force:$true -Mode 'full'\n$d = '30'; $f = 'true'\n"


@pytest.mark.parametrize(
    ("schema", "values", "code", "parameter"),
    [
        ([{"name": "days", "type": "int"}], {"days": "3; rm x"}, "parameter_invalid", "days"),
        ([{"name": "days", "type": "int"}], {"days": True}, "parameter_invalid", "days"),
        ([{"name": "force", "type": "bool"}], {"force": "maybe"}, "parameter_invalid", "force"),
        (
            [{"name": "m", "type": "choice", "choices": ["a"]}],
            {"m": "b"},
            "parameter_invalid",
            "m",
        ),
        ([{"name": "days", "type": "int"}], {}, "parameter_missing", "days"),
        ([{"name": "days", "type": "int"}], {"days": 1, "other": 2}, "parameter_unknown", "other"),
    ],
)
def test_strict_rendering_names_the_parameter(
    schema: list[dict[str, object]], values: dict[str, object], code: str, parameter: str
) -> None:
    with pytest.raises(Unprocessable) as exc:
        render("Run {{days}} {{force}} {{m}}", parse_schema(schema), values)
        render("Run {{days}}", parse_schema(schema), values)
    assert exc.value.code in (code, "placeholder_unknown")
    assert exc.value.extra["parameter"] in (parameter, "force", "m", "days")


def test_unknown_placeholder_is_refused() -> None:
    with pytest.raises(Unprocessable) as exc:
        render(
            "Get-Mailbox '{{user}}' '{{mailbox}}'", parse_schema([{"name": "user"}]), {"user": "a"}
        )
    assert exc.value.code == "placeholder_unknown"
    assert exc.value.extra["parameter"] == "mailbox"


def test_defaults_fill_and_lenient_rendering_keeps_missing_placeholders() -> None:
    schema = parse_schema(
        [{"name": "user"}, {"name": "days", "type": "int", "default": 7, "required": False}]
    )
    rendered = render("Get-X '{{user}}' {{days}}", schema, {}, strict=False)
    assert rendered.script == "Get-X '{{user}}' 7"
    assert rendered.missing == ("user",)
    assert not rendered.complete


def test_schema_validation() -> None:
    for bad in (
        "x",
        [{"name": "1bad"}],
        [{"name": "a"}, {"name": "a"}],
        [{"name": "a", "type": "float"}],
        [{"name": "a", "type": "choice"}],
        [{"name": "a", "type": "int", "default": "x"}],
    ):
        with pytest.raises(Unprocessable):
            parse_schema(bad)
    (spec,) = parse_schema([{"name": "pw", "type": "password", "default": "hunter2"}])
    assert spec.type == "secret" and spec.is_secret and spec.default is None
    assert parse_schema([{"name": "x", "type": "boolean", "default": "true"}])[0].default is True


def test_redact_sensitive_masks_declared_and_secret_looking_names() -> None:
    schema = [{"name": "code", "sensitive": True}, {"name": "user"}]
    redacted = redact_sensitive({"code": "1234", "user": "jane", "api_key": "abc"}, schema)
    assert redacted == {"code": REDACTED, "user": "jane", "api_key": REDACTED}
    secret_type = parse_schema([{"name": "value", "type": "secret"}])
    assert redact_sensitive({"value": "s3cret"}, secret_type) == {"value": REDACTED}


RUNBOOKS = sorted(
    (Path(__file__).resolve().parents[2] / "flowpilot/llm/offline/runbooks").glob("*.yaml")
)


@pytest.mark.parametrize("path", RUNBOOKS, ids=lambda p: p.stem)
def test_runbook_fix_scripts_render_hostile_values_safely(path: Path) -> None:
    fix = yaml.safe_load(path.read_text())["fix"]
    schema = parse_schema(fix["parameters"])
    benign: dict[str, object] = {
        s.name: 5 if s.type == "int" else (True if s.type == "bool" else "x") for s in schema
    }
    hostile = {
        s.name: "'; Stop-Computer; '" if s.type in ("string", "secret") else benign[s.name]
        for s in schema
    }
    safe = render(fix["script"], schema, hostile).script
    assert not powershell.parse_lenient(safe).root_node.has_error
    assert _commands(safe) == _commands(render(fix["script"], schema, benign).script)


STARTER = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "starter_library.yaml").read_text(encoding="utf-8")
)


def _starter_templates() -> list[tuple[str, list[dict[str, object]]]]:
    found: list[tuple[str, list[dict[str, object]]]] = []

    def collect(item: object) -> None:
        if isinstance(item, dict):
            if "body" in item and isinstance(item["body"], str):
                found.append((item["body"], item.get("parameters") or []))
            else:
                for value in item.values():
                    collect(value)
        elif isinstance(item, list):
            for value in item:
                collect(value)

    collect(STARTER)
    runbooks = [yaml.safe_load(path.read_text())["fix"] for path in RUNBOOKS]
    return found + [(fix["script"], fix["parameters"]) for fix in runbooks]


@pytest.mark.parametrize("value", [*HOSTILE, BENIGN, "a, b", "5MB"])
def test_incremental_parse_of_a_rendered_script_is_the_full_parse(value: str) -> None:
    """The review re-parses only where the values went; the tree is the one a full parse builds."""
    from scripts.review import review_rendered, review_script

    reused = 0
    for body, raw in _starter_templates():
        schema = parse_schema(raw)
        typed: dict[str, object] = {"int": 7, "bool": False}
        values = {
            s.name: s.choices[0] if s.type == "choice" else typed.get(s.type, value) for s in schema
        }
        try:
            rendered = render(body, schema, values)
        except Unprocessable:
            continue  # a here-string refusing a line break
        parsed = rendered.parsed()
        full = powershell.lenient_parse(rendered.script)
        reused += rendered.template is not None
        assert parsed.data == full.data
        assert str(parsed.tree.root_node) == str(full.tree.root_node)
        assert review_rendered(rendered) == review_script(rendered.script)
    assert reused  # the fast path is taken for most templates


def test_a_string_value_in_bare_code_is_parsed_in_full() -> None:
    schema = parse_schema([{"name": "v"}])
    rendered = render(BARE, schema, {"v": "jane"})
    assert rendered.template is None
    assert rendered.parsed().data == rendered.script.encode()
