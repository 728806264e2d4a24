"""Offline previews, assessment, fact synthesis and template extraction."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from flowpilot.llm import LLMRequest, Purpose
from flowpilot.llm.offline import OfflineClient
from flowpilot.llm.offline.knowledge import PLACEHOLDER_RE

NOTE_SECTIONS = ["Problem", "What we confirmed", "Root cause", "Resolution"]
PACKAGE_SECTIONS = [
    "Problem",
    "What we've confirmed",
    "What we've tried",
    "Current hypothesis",
    "Suggested next steps",
]
FIX_TITLE = "Clear cached Office credentials and rebuild the Outlook offline cache"


def _bundle(status: str | None, **fix_fields: Any) -> dict[str, Any]:
    fix = None
    if status is not None:
        fix = {
            "title": FIX_TITLE,
            "description": "Removes stale Office credentials and rebuilds the OST.",
            "status": status,
            "applied_at": "2026-11-30T10:00:00+00:00",
            "verified_at": None,
            "partial_notes": "",
            "failure_reason": "",
            "pending_reason": "",
            **fix_fields,
        }
    return {
        "problem": "Outlook keeps prompting Jane for her password",
        "ticket": "48213",
        "facts": [
            "Only this user is affected.",
            "Outlook on the web works for the account.",
        ],
        "fix": fix,
        "script_runs": [
            {"template": "Clear Office credentials", "parameters": {"user_upn": "[redacted]"}}
        ],
    }


def _run(purpose: Purpose, context: dict[str, Any]) -> str:
    request = LLMRequest(purpose=purpose, tier="heavy", system="", messages=[], context=context)
    return OfflineClient().complete(request).text


def _sections(markdown: str) -> list[str]:
    return re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)


def _section(markdown: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match is not None
    return match.group(1).strip()


@pytest.mark.parametrize(
    "status", [None, "proposed", "applied_success", "applied_failed", "applied_partial"]
)
def test_resolution_note_has_exactly_the_four_sections(status: str | None) -> None:
    """Every note has Problem / What we confirmed / Root cause / Resolution, in order."""
    note = _run("resolution_note", _bundle(status))

    assert _sections(note) == NOTE_SECTIONS


def test_resolution_note_for_success_closes_the_issue() -> None:
    """A verified fix reads as closure and keeps facts, fix and script runs."""
    note = _run(
        "resolution_note", _bundle("applied_success", verified_at="2026-11-30T10:20:00+00:00")
    )

    resolution = _section(note, "Resolution")
    assert FIX_TITLE in resolution
    assert "verified it worked" in resolution
    assert "resolved" in resolution
    assert "Clear Office credentials" in resolution
    assert "- Only this user is affected." in _section(note, "What we confirmed")
    assert "#48213" in _section(note, "Problem")


def test_resolution_note_for_failed_fix_says_tried_and_not_resolved() -> None:
    """A failed fix is described as tried, with its reason, and never as a closure."""
    note = _run(
        "resolution_note", _bundle("applied_failed", failure_reason="Outlook still prompts")
    )

    resolution = _section(note, "Resolution")
    assert "Tried" in resolution
    assert "Outlook still prompts" in resolution
    assert "still open" in resolution
    assert "resolved" not in note.lower()
    assert "can be closed" not in note


def test_resolution_note_for_pending_fix_is_provisional() -> None:
    """A pending fix reads 'pending verification: <reason>' and is marked provisional."""
    note = _run(
        "resolution_note", _bundle("applied_pending", pending_reason="the user is out until Monday")
    )

    resolution = _section(note, "Resolution")
    assert "pending verification: the user is out until Monday" in resolution
    assert "provisional" in resolution
    assert "resolved" not in note.lower()


def test_resolution_note_without_fix_says_no_fix_applied() -> None:
    """With no fix the note says so and claims no cause."""
    note = _run("resolution_note", _bundle(None))

    assert _section(note, "Resolution").startswith("No fix applied yet.")
    assert _section(note, "Root cause") == "Not identified yet."


def test_resolution_note_uses_only_bundle_facts() -> None:
    """The confirmed-facts section lists exactly the bundle's facts."""
    context = _bundle("applied_success")

    note = _run("resolution_note", context)

    bullets = [line[2:] for line in _section(note, "What we confirmed").splitlines()]
    assert bullets == context["facts"]


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        ("applied_failed", {"failure_reason": "Still prompts"}, "did not work: Still prompts."),
        ("applied_partial", {"partial_notes": "Mail syncs, calendar not"}, "partly helped"),
        ("applied_pending", {"pending_reason": "user offline"}, "pending verification: user"),
        (None, {}, "No fix applied yet."),
    ],
)
def test_escalation_package_sections_and_tried_wording(
    status: str | None, fields: dict[str, str], expected: str
) -> None:
    """The package has its five sections and 'What we've tried' reflects the outcome."""
    package = _run("escalation_package", _bundle(status, **fields))

    assert _sections(package) == PACKAGE_SECTIONS
    assert expected in _section(package, "What we've tried")
    steps = _section(package, "Suggested next steps").splitlines()
    assert 3 <= len(steps) <= 5
    assert all(re.match(r"^\d\. ", step) for step in steps)


def test_escalation_package_uses_runbook_hint_as_unconfirmed_theory() -> None:
    """A runbook hint gives a hypothesis, labelled as not yet confirmed."""
    package = _run("escalation_package", dict(_bundle(None), runbook_hint="outlook-sync"))

    hypothesis = _section(package, "Current hypothesis")
    assert hypothesis.startswith("Working theory, not yet confirmed:")
    assert "stale cached credentials" in hypothesis


def test_handoff_assessment_is_valid_json_with_three_to_five_steps() -> None:
    """The assessment is JSON with summary, hypothesis and 3-5 suggested steps."""
    text = _run("handoff_assessment", _bundle("applied_failed", failure_reason="Still prompts"))

    data = json.loads(text)
    assert set(data) == {"summary", "hypothesis", "suggested_steps"}
    assert "Outlook keeps prompting Jane" in data["summary"]
    assert "did not work" in data["summary"]
    assert 3 <= len(data["suggested_steps"]) <= 5
    assert all(isinstance(step, str) and step for step in data["suggested_steps"])


def test_handoff_assessment_for_empty_bundle_still_has_steps() -> None:
    """Even a bare session gets a usable assessment."""
    data = json.loads(_run("handoff_assessment", {"problem": "Something odd"}))

    assert data["summary"].startswith("Something odd")
    assert len(data["suggested_steps"]) >= 3


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({"kind": "question", "item": "Does anything work?"}, ""),
        ({"kind": "question", "item": "When did it start?", "answer": ""}, ""),
        ({"kind": "check", "item": "A check no runbook knows"}, ""),
        ({"kind": "", "item": "x", "answer": "y"}, ""),
    ],
)
def test_fact_synthesis_returns_empty_when_nothing_is_known(
    context: dict[str, str], expected: str
) -> None:
    """No answer to a question (or an unknown check) synthesises nothing."""
    assert _run("fact_synthesis", context) == expected


def test_fact_synthesis_maps_answers_to_runbook_facts() -> None:
    """A recognised answer becomes the runbook's fact sentence."""
    fact = _run(
        "fact_synthesis",
        {
            "kind": "question",
            "item": "Does Outlook on the web (outlook.office.com) work for the same account?",
            "answer": "Yes, webmail works",
        },
    )

    assert (
        fact == "Outlook on the web works for the account, so the mailbox and credentials are fine."
    )


def test_fact_synthesis_falls_back_to_the_answer() -> None:
    """An unrecognised answer is kept verbatim as one sentence."""
    fact = _run(
        "fact_synthesis",
        {"kind": "question", "item": "When did it start?", "answer": "Monday after the update"},
    )

    assert fact == "When did it start: Monday after the update."


def test_fact_synthesis_for_a_known_check_without_output() -> None:
    """Promoting a runbook check without output records its finding."""
    fact = _run("fact_synthesis", {"kind": "check", "item": "Check the Print Spooler service"})

    assert fact == "The Print Spooler service is stopped."


SCRIPT = """$ErrorActionPreference = 'Stop'
$UserPrincipalName = 'jane.doe@contoso.com'
$ComputerName = 'PC-0142'
$Password = 'Summer2026!'
Invoke-Command -ComputerName PC-0142 -ScriptBlock { Restart-Service Spooler }
Write-Output "Reset for jane.doe@contoso.com on PC-01420"
"""


def test_template_extraction_parameterises_obvious_literals_only() -> None:
    """Identity, computer and secret literals become placeholders; the rest stays literal."""
    data = json.loads(_run("template_extraction", {"script": SCRIPT}))

    body = data["body"]
    names = [parameter["name"] for parameter in data["parameters"]]
    assert names == ["user_principal_name", "computer_name", "password"]
    assert "$ErrorActionPreference = 'Stop'" in body
    assert "jane.doe@contoso.com" not in body
    assert "Summer2026!" not in body
    assert "-ComputerName {{computer_name}}" in body
    assert "PC-01420" in body  # a longer name is a different literal
    password = next(p for p in data["parameters"] if p["name"] == "password")
    assert password["sensitive"] is True
    assert password["default"] is None


def test_template_extraction_body_references_only_declared_parameters() -> None:
    """Every placeholder in the body is declared and every declared one is used."""
    script = (
        SCRIPT
        + "New-PSDrive -Name S -Root '\\\\fs01\\finance' -Persist\nWrite-Output '{{ticket}}'\n"
    )

    data = json.loads(_run("template_extraction", {"script": script}))

    used = set(PLACEHOLDER_RE.findall(data["body"]))
    assert used == {parameter["name"] for parameter in data["parameters"]}
    assert "ticket" in used


def test_template_extraction_leaves_generic_scripts_alone() -> None:
    """A script with nothing customer-specific gets no parameters."""
    script = "Restart-Service -Name Spooler -Force\nGet-Service Spooler\n"

    data = json.loads(_run("template_extraction", {"script": script}))

    assert data == {"body": script, "parameters": []}


# --- the runbook's cause needs a session fact; earlier fixes stay in the record -------------

OUTLOOK_CAUSE_START = "Outlook is holding stale cached credentials"
SUPPORTING_FACT = "Stale Office/Exchange credentials are cached in Credential Manager."


@pytest.mark.parametrize("status", ["applied_success", "applied_pending"])
def test_resolution_note_labels_an_unsupported_runbook_cause_as_likely(status: str) -> None:
    """Without a session fact behind it, the runbook's cause is 'Likely cause (not yet
    confirmed)', never stated as the root cause."""
    note = _run("resolution_note", _bundle(status, pending_reason="reboot tonight"))

    cause = _section(note, "Root cause")
    assert cause.startswith(f"Likely cause (not yet confirmed): {OUTLOOK_CAUSE_START}")
    assert "confirms this" not in cause
    assert "Provisional, until the fix is verified" not in cause


def test_resolution_note_states_the_runbook_cause_a_fact_supports() -> None:
    """A session fact that backs the runbook's cause lets the note state it as the cause."""
    context = _bundle("applied_success")
    context["facts"] = [*context["facts"], SUPPORTING_FACT]

    cause = _section(_run("resolution_note", context), "Root cause")

    assert cause.startswith(OUTLOOK_CAUSE_START)
    assert cause.endswith("The successful fix confirms this.")
    assert "not yet confirmed" not in cause


def _with_earlier_failure(context: dict[str, Any]) -> dict[str, Any]:
    context["tried"] = [
        {
            "title": "Reset the Outlook profile",
            "description": "A new mail profile.",
            "status": "applied_failed",
            "applied_at": "2026-11-30T09:00:00+00:00",
            "verified_at": "2026-11-30T09:30:00+00:00",
            "partial_notes": "",
            "failure_reason": "Still prompts after the new profile",
            "pending_reason": "",
        }
    ]
    return context


def test_escalation_package_keeps_an_earlier_failed_fix_in_what_we_tried() -> None:
    """A fix that failed and was replaced stays in 'What we've tried', before the new one,
    and the hypothesis says it was ruled out."""
    package = _run(
        "escalation_package", _with_earlier_failure(_bundle("proposed", applied_at=None))
    )

    tried = _section(package, "What we've tried").splitlines()
    assert tried[0] == (
        "- Tried **Reset the Outlook profile** on 2026-11-30 09:00 UTC; it did not work: "
        "Still prompts after the new profile."
    )
    assert tried[1] == f"- Then **{FIX_TITLE}** was suggested; not applied yet."
    assert "No fix applied yet" not in package
    assert "Already tried without success: **Reset the Outlook profile**" in _section(
        package, "Current hypothesis"
    )


def test_resolution_note_and_assessment_mention_the_earlier_failed_fix() -> None:
    """The note lists earlier attempts under Resolution; the assessment's summary names them."""
    note = _run("resolution_note", _with_earlier_failure(_bundle("proposed", applied_at=None)))
    resolution = _section(note, "Resolution")
    assert resolution.startswith("Tried before:\n- Tried **Reset the Outlook profile**")
    assert "No working fix yet. Suggested next, not yet applied" in resolution

    data = json.loads(_run("handoff_assessment", _with_earlier_failure(_bundle("applied_failed"))))
    assert "tried before: Reset the Outlook profile (did not work)" in data["summary"]
