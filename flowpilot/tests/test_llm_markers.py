"""Marker parsing: typed payloads out, markers stripped, malformed blocks ignored."""

from __future__ import annotations

import json
from typing import Any

from flowpilot.llm.markers import (
    FixParameter,
    OutcomeProposal,
    Promotion,
    TaskAction,
    TaskCheck,
    TaskQuestion,
    format_marker,
    parse_markers,
    visible_prefix,
)

FIX: dict[str, Any] = {
    "title": "Restart the Print Spooler",
    "description": "Clears stuck jobs.",
    "confidence": 80,
    "script": "Restart-Service -Name Spooler -ComputerName '{{computer_name}}'",
    "parameters": [
        {
            "name": "computer_name",
            "type": "string",
            "required": True,
            "default": None,
            "sensitive": False,
            "description": "Print server",
        }
    ],
}


def test_well_formed_reply_yields_every_payload_and_clean_text() -> None:
    """Each marker kind is parsed into its dataclass and removed from the display text."""
    text = "\n".join(
        [
            "Only Jane is affected, so this is local to her PC.",
            "",
            format_marker(
                "TASKS",
                {
                    "questions": [{"text": "Does OWA work?"}],
                    "checks": [{"label": "Test 443", "command": "Test-NetConnection x -Port 443"}],
                    "actions": [{"label": "Run the fix"}],
                },
            ),
            format_marker(
                "PROMOTE", {"text": "Only Jane is affected.", "source": "question", "ref": "Who?"}
            ),
            format_marker("SUGGEST_FIX", FIX),
            format_marker("FIX_OUTCOME", {"outcome": "applied_failed", "reason": "Still prompts"}),
        ]
    )

    reply = parse_markers(text)

    assert reply.display_text == "Only Jane is affected, so this is local to her PC."
    assert reply.errors == []
    assert reply.tasks is not None
    assert reply.tasks.questions == [TaskQuestion("Does OWA work?")]
    assert reply.tasks.checks == [TaskCheck("Test 443", "Test-NetConnection x -Port 443")]
    assert reply.tasks.actions == [TaskAction("Run the fix")]
    assert reply.promotions == [Promotion("Only Jane is affected.", "question", "Who?")]
    assert reply.fix is not None
    assert reply.fix.title == "Restart the Print Spooler"
    assert reply.fix.confidence == 80
    assert reply.fix.parameters == [FixParameter(name="computer_name", description="Print server")]
    assert reply.outcome == OutcomeProposal("applied_failed", "Still prompts")


def test_json_may_span_lines_after_the_marker() -> None:
    """Whitespace and newlines inside (and right before) the JSON object are tolerated."""
    text = 'Intro\n[PROMOTE] {\n  "text": "Disk is full",\n  "source": "check"\n}\nOutro'

    reply = parse_markers(text)

    assert reply.promotions == [Promotion("Disk is full", "check", "")]
    assert reply.display_text == "Intro\n\nOutro"


def test_several_fix_blocks_last_valid_one_wins() -> None:
    """Only the last [SUGGEST_FIX] counts; [PROMOTE] blocks all count."""
    second = dict(FIX, title="Second fix")
    text = "\n".join(
        [
            format_marker("SUGGEST_FIX", FIX),
            format_marker("PROMOTE", {"text": "A", "source": "ai", "ref": ""}),
            format_marker("SUGGEST_FIX", second),
            format_marker("PROMOTE", {"text": "B"}),
        ]
    )

    reply = parse_markers(text)

    assert reply.fix is not None
    assert reply.fix.title == "Second fix"
    assert [promotion.text for promotion in reply.promotions] == ["A", "B"]
    assert reply.promotions[1].source == "ai"


def test_malformed_json_is_ignored_stripped_and_reported() -> None:
    """Broken JSON never raises, never leaks into the display text and is listed in errors."""
    text = (
        "Before\n"
        '[PROMOTE]{"text": "unterminated\n'
        '[SUGGEST_FIX]{"title": "x", "confidence": 50,}\n'
        "[TASKS] not json at all\n"
        "After"
    )

    reply = parse_markers(text)

    assert reply.promotions == []
    assert reply.fix is None
    assert reply.tasks is None
    assert len(reply.errors) == 3
    assert "[" not in reply.display_text
    assert reply.display_text.startswith("Before")
    assert reply.display_text.endswith("After")


def test_wrong_types_and_unknown_values_are_ignored() -> None:
    """Blocks with wrong field types or unknown enum values are dropped with an error."""
    text = "\n".join(
        [
            format_marker("PROMOTE", {"text": 42}),
            format_marker("PROMOTE", {"text": "x", "source": "guess"}),
            format_marker("FIX_OUTCOME", {"outcome": "applied_maybe"}),
            format_marker("TASKS", {"questions": "not a list"}),
            format_marker("SUGGEST_FIX", dict(FIX, confidence="very high")),
            '[PROMOTE]["a", "list"]',
        ]
    )

    reply = parse_markers(text)

    assert reply.promotions == []
    assert reply.outcome is None
    assert reply.tasks is None
    assert reply.fix is None
    assert len(reply.errors) == 6
    assert reply.display_text == ""


def test_confidence_is_clamped_to_0_100() -> None:
    """Out-of-range confidences are clamped and numeric strings accepted."""
    high = parse_markers(format_marker("SUGGEST_FIX", dict(FIX, confidence=140)))
    low = parse_markers(format_marker("SUGGEST_FIX", dict(FIX, confidence=-5)))
    text = parse_markers(format_marker("SUGGEST_FIX", dict(FIX, confidence="72.6")))

    assert high.fix is not None and high.fix.confidence == 100
    assert low.fix is not None and low.fix.confidence == 0
    assert text.fix is not None and text.fix.confidence == 73


def test_invalid_fix_after_valid_one_keeps_the_valid_one() -> None:
    """An ignored later block does not erase an earlier valid fix."""
    text = (
        format_marker("SUGGEST_FIX", FIX)
        + "\n"
        + format_marker("SUGGEST_FIX", dict(FIX, confidence=None))
    )

    reply = parse_markers(text)

    assert reply.fix is not None and reply.fix.title == FIX["title"]
    assert len(reply.errors) == 1


def test_bad_parameter_entries_are_skipped_not_fatal() -> None:
    """A fix keeps its valid parameters when one entry is malformed."""
    payload = dict(FIX, parameters=[*FIX["parameters"], {"name": "bad name!"}, "oops"])

    reply = parse_markers(format_marker("SUGGEST_FIX", payload))

    assert reply.fix is not None
    assert [parameter.name for parameter in reply.fix.parameters] == ["computer_name"]
    assert len(reply.errors) == 2


def test_markers_in_the_middle_of_text_are_stripped() -> None:
    """A marker between paragraphs is removed and the paragraphs are kept."""
    text = f"First paragraph.\n{format_marker('PROMOTE', {'text': 'X'})}\nSecond paragraph."

    reply = parse_markers(text)

    assert reply.display_text == "First paragraph.\n\nSecond paragraph."


def test_brackets_that_are_not_markers_stay() -> None:
    """Ordinary square brackets and unknown tags are left in the display text."""
    text = 'Use [link](https://x) and [NOTE]{"a": 1} and $a[0]'

    reply = parse_markers(text)

    assert reply.display_text == text
    assert reply.errors == []


def test_marker_tag_inside_json_string_is_not_reparsed() -> None:
    """A tag quoted inside a block's JSON does not start a second block."""
    text = format_marker("PROMOTE", {"text": "Output mentioned [TASKS]{} literally"})

    reply = parse_markers(text)

    assert [promotion.text for promotion in reply.promotions] == [
        "Output mentioned [TASKS]{} literally"
    ]
    assert reply.tasks is None


def test_visible_prefix_cuts_at_a_marker_or_a_possible_marker_start() -> None:
    """Streaming text is shown up to the first [ that begins (or may begin) a marker."""
    assert visible_prefix("Hello there") == "Hello there"
    assert visible_prefix("Hello [PRO") == "Hello "
    assert visible_prefix("Hello [") == "Hello "
    assert visible_prefix('Done.\n[TASKS]{"questions": [') == "Done.\n"
    assert visible_prefix("See [link](x) then [SUGGEST_") == "See [link](x) then "
    assert visible_prefix("Array $a[0] is fine") == "Array $a[0] is fine"


def test_format_marker_round_trips() -> None:
    """format_marker writes what parse_markers reads."""
    payload = {"outcome": "applied_partial", "reason": "Two of three printers work"}

    reply = parse_markers(format_marker("FIX_OUTCOME", payload))

    assert reply.outcome == OutcomeProposal("applied_partial", "Two of three printers work")
    assert json.loads(format_marker("FIX_OUTCOME", payload)[len("[FIX_OUTCOME]") :]) == payload
