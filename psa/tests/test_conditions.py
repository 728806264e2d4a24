"""The conditions builder escapes user text; the simulator's parser reads what it builds."""

from __future__ import annotations

import pytest

from psa.providers import conditions as c
from psa.simulator.conditions import ConditionError, parse

TICKET = {
    "id": 1204,
    "summary": 'Printer says "offline" \\ again',
    "board": {"id": 1, "name": "Service Desk"},
    "status": {"id": 2, "name": "In Progress"},
    "closedFlag": False,
    "resources": "ivy.chen, dkim",
    "_info": {"lastUpdated": "2026-02-01T10:00:00Z"},
}


def test_literals_quote_and_escape_user_text() -> None:
    assert c.literal('say "hi" \\ bye') == '"say \\"hi\\" \\\\ bye"'
    assert c.literal(12) == "12"
    assert c.literal(False) == "false"
    assert c.literal(None) == "null"


def test_an_injection_attempt_stays_one_string() -> None:
    text = '" or id > 0 or summary = "'
    condition = c.compare("summary", "contains", text)
    assert parse(condition)(TICKET) is False
    assert parse(c.compare("summary", "contains", '"offline" \\ again'))(TICKET) is True


def test_field_names_and_operators_are_checked() -> None:
    with pytest.raises(ValueError):
        c.compare("summary = 1 or id", "=", 1)
    with pytest.raises(ValueError):
        c.compare("summary", "; drop", 1)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('status/name = "in progress"', True),
        ('status/name != "In Progress"', False),
        ("board/id = 1 and closedFlag = false", True),
        ("board/id = 2 or id >= 1204", True),
        ("(board/id = 2 or id > 1204) and closedFlag = False", False),
        ('resources contains "dkim"', True),
        ('resources not contains "dkim"', False),
        ('summary like "Printer*"', True),
        ('summary like "%again"', True),
        ('status/name in ("New", "In Progress")', True),
        ('status/name not in ("New")', True),
        ("board/id in (3, 4)", False),
        ("lastUpdated > [2026-01-01T00:00:00Z]", False),
        ("_info/lastUpdated > [2026-01-01T00:00:00Z]", True),
        ("owner = null", True),
        ("", True),
    ],
)
def test_the_parser_follows_the_grammar(condition: str, expected: bool) -> None:
    assert parse(condition)(TICKET) is expected


@pytest.mark.parametrize("condition", ['summary = "open', "id = ", "id ~ 3", "(id = 1", "id in 3"])
def test_malformed_conditions_are_refused(condition: str) -> None:
    with pytest.raises(ConditionError):
        parse(condition)
