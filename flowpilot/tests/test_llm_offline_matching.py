"""The answer matcher and the ranked hypothesis: negation, numbers and scope, timing, several
answers in one message, pasted PowerShell output, misspellings, and causes moved by evidence."""

from __future__ import annotations

import pytest

from flowpilot.llm.offline.knowledge import Runbook, runbook_by_id
from flowpilot.llm.offline.language import (
    clause_signals,
    find_phrase,
    flatten_output,
    outcome_of,
    split_clauses,
)
from flowpilot.llm.offline.matching import read_message
from flowpilot.llm.offline.reasoning import confidence, rank_causes


def _runbook(runbook_id: str) -> Runbook:
    runbook = runbook_by_id(runbook_id)
    assert runbook is not None
    return runbook


def _facts(runbook_id: str, text: str) -> set[str]:
    return {
        finding.confirmation.id for finding in read_message(_runbook(runbook_id), text).findings
    }


def _signals(text: str) -> set[str]:
    return {hit.name for clause in split_clauses(text) for hit in clause_signals(clause)}


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        ("same on a phone hotspot", {"hotspot-fails"}, {"hotspot-works"}),
        ("not on the hotspot either", {"hotspot-fails"}, {"hotspot-works"}),
        ("it doesn't work on the hotspot", set(), {"hotspot-works"}),
        ("works fine on her phone hotspot", {"hotspot-works"}, {"hotspot-fails"}),
    ],
)
def test_negation_flips_or_blocks_a_finding(
    text: str, expected: set[str], absent: set[str]
) -> None:
    """A negator in the clause denies the phrase; `when_not` phrases assert the opposite."""
    facts = _facts("vpn", text)

    assert expected <= facts
    assert not absent & facts


def test_no_error_code_is_not_an_error_code() -> None:
    """'no error code' is not read as the client reporting a certificate error."""
    assert "cert-error" not in _facts("vpn", "no error code, it just sits there")
    assert find_phrase(("no", "error", "code"), ("error",)) == (True, True)


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("All 12 home users are affected", "scope:everyone"),
        ("everyone in the office has it", "scope:everyone"),
        ("nobody can print to the HP", "scope:everyone"),
        ("three users in sales have it", "scope:several"),
        ("a few of the accounts team", "scope:several"),
        ("only her", "scope:one"),
        ("just Jane's laptop", "scope:one"),
        ("everyone else is fine", "scope:one"),
    ],
)
def test_numbers_and_scope(text: str, signal: str) -> None:
    """Counts, 'everyone', 'nobody can' and 'only her' become one scope signal."""
    scopes = {name for name in _signals(text) if name.startswith("scope:")}

    assert scopes == {signal}


def test_not_only_her_is_not_one_user() -> None:
    """'It's not only her' widens the scope instead of narrowing it."""
    assert "scope:one" not in _signals("It's not only her, several users in sales have it")
    assert "scope:several" in _signals("It's not only her, several users in sales have it")


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("since last night's firewall firmware update", "change:firmware"),
        ("started after the Windows update on Tuesday", "change:update"),
        ("she changed her password yesterday", "change:password"),
        ("it drops every ten minutes", "pattern:intermittent"),
        ("VPN drops every 10 minutes", "pattern:intermittent"),
        ("it comes and goes", "pattern:intermittent"),
        ("remote staff working from home", "env:home"),
        ("nothing has changed recently", "change:none"),
    ],
)
def test_timing_and_change(text: str, signal: str) -> None:
    """Recent changes, intermittent patterns and where it happens are recognised."""
    assert signal in _signals(text)


def test_several_answers_in_one_message_close_several_items() -> None:
    """One message with three answers closes three different questions."""
    runbook = _runbook("outlook-sync")
    reading = read_message(
        runbook, "Only her — OWA works fine in the browser. She changed her password yesterday."
    )

    assert {finding.confirmation.id for finding in reading.findings} == {
        "ol-one",
        "owa-ok",
        "pw-changed",
    }
    assert len({id(finding.item) for finding in reading.findings}) == 3
    assert {finding.clause for finding in reading.findings} == {
        "Only her",
        "OWA works fine in the browser",
        "She changed her password yesterday",
    }


def test_a_powershell_table_becomes_key_value_rows() -> None:
    """Table output pairs each header with its cell, one line per row."""
    table = (
        "Name    DisplayName    Status  StartType\n"
        "----    -----------    ------  ---------\n"
        "Spooler Print Spooler  Stopped Automatic\n"
    )

    assert flatten_output(table) == [
        "Name Spooler DisplayName Print Spooler Status Stopped StartType Automatic"
    ]
    assert "spooler-stopped" in _facts("printer-spooler", table)


def test_a_powershell_list_is_read_line_by_line() -> None:
    """'Key : Value' list output is matched per line."""
    output = (
        "ComputerName     : vpn.contoso.com\n"
        "RemoteAddress    : 203.0.113.10\n"
        "TcpTestSucceeded : False\n"
    )

    assert _facts("vpn", output) == {"gw-down"}


def test_misspelt_words_still_match() -> None:
    """Fuzzy matching folds typos onto the runbook's own words."""
    assert "spooler-stopped" in _facts("printer-spooler", "the spoolr servce is stoped")


def test_a_later_clause_about_the_same_item_wins() -> None:
    """'Only her… no wait, the whole team' records the correction."""
    facts = _facts("outlook-sync", "only her. no wait, several users in the team have it")

    assert "ol-many" in facts and "ol-one" not in facts


def test_unrelated_words_match_nothing() -> None:
    """Words that answer nothing stay unmatched (and are acknowledged by the reply)."""
    reading = read_message(_runbook("vpn"), "I'll ask the office manager tomorrow")

    assert reading.findings == ()
    assert reading.unmatched == ("I'll ask the office manager tomorrow",)


@pytest.mark.parametrize(
    ("message", "outcome"),
    [
        ("ran it, didn't work", "applied_failed"),
        ("still slow after the restart", "applied_failed"),
        ("it's better but two users still can't connect", "applied_partial"),
        ("that fixed it, printing again", "applied_success"),
        ("it's not fixed", "applied_failed"),
    ],
)
def test_outcomes(message: str, outcome: str) -> None:
    """Failure, partial success and success are told apart."""
    assert outcome_of(message) == outcome


def test_evidence_moves_the_ranked_hypothesis() -> None:
    """Everyone affected after a firmware update puts the gateway first, one user the client."""
    vpn = _runbook("vpn")

    everyone = rank_causes(vpn, {"vpn-many", "change:firmware"})
    one_user = rank_causes(vpn, {"vpn-one", "adapter-bad"})
    dropping = rank_causes(vpn, {"tunnel-drops", "pattern:intermittent", "vpn-many"})

    assert everyone[0].cause.id == "gateway"
    assert everyone[0].supporting == ("vpn-many", "change:firmware")
    assert one_user[0].cause.id == "client"
    assert dropping[0].cause.id == "drops"


def test_a_ruled_out_cause_sinks_and_boosts_reorder() -> None:
    """A failed cause goes last; a caller's prior boost (e.g. from past outcomes) counts."""
    vpn = _runbook("vpn")

    ruled = rank_causes(vpn, {"vpn-one"}, ruled_out={"client"})
    boosted = rank_causes(vpn, set(), boosts={"vpn:home-network": 5.0})

    assert ruled[0].cause.id != "client" and ruled[-1].cause.id == "client"
    assert boosted[0].cause.id == "home-network"
    assert rank_causes(vpn, set(), boosts={"home-network": 5.0})[0].cause.id == "home-network"


def test_confidence_follows_the_evidence() -> None:
    """More evidence for the lead raises confidence; evidence against lowers it."""
    vpn = _runbook("vpn")
    bare = rank_causes(vpn, set())
    strong = rank_causes(vpn, {"vpn-one", "adapter-bad", "svc-stopped"})
    contested = rank_causes(vpn, {"vpn-one", "adapter-ok"})

    assert confidence(strong, strong[0]) > confidence(bare, bare[0])
    assert confidence(contested, contested[0]) < confidence(strong, strong[0])
    assert 20 <= confidence(bare, bare[0]) <= 95
