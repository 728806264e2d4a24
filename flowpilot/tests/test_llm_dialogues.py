"""The dialogue test set: realistic multi-turn conversations played against the offline
assistant the way the sessions app runs it, scored and held to the figures the product
promises (understood ≥ 90 %, invented = 0, right fix ≥ 90 %, recovery 100 %)."""

from __future__ import annotations

import pytest

from flowpilot.llm.offline import OfflineClient
from flowpilot.llm.offline.knowledge import load_runbooks
from flowpilot.llm.offline.playback import Figures, load_dialogues, play, unsupported

DIALOGUES = load_dialogues()


@pytest.fixture(scope="module")
def figures() -> Figures:
    return Figures([play(dialogue, OfflineClient()) for dialogue in DIALOGUES])


def test_the_set_is_large_and_covers_every_runbook_family() -> None:
    """At least 25 multi-turn dialogues, every runbook family among them."""
    assert len(DIALOGUES) >= 25
    assert all(len(dialogue.turns) >= 3 for dialogue in DIALOGUES)
    families = {runbook.family for runbook in load_runbooks()}
    assert families <= {dialogue.family for dialogue in DIALOGUES}
    runbook_ids = {runbook.id for runbook in load_runbooks()}
    assert {dialogue.runbook for dialogue in DIALOGUES} <= runbook_ids
    assert sum(1 for dialogue in DIALOGUES if dialogue.recovery) >= 5


def test_figures_meet_the_thresholds(figures: Figures, capsys: pytest.CaptureFixture[str]) -> None:
    """The suite reports the figures and fails below the promised thresholds."""
    with capsys.disabled():
        print(f"\noffline assistant dialogue set: {figures.summary()}")
    misses = [miss for result in figures.results for miss in result.misses]
    wrong = [
        f"{result.dialogue.id}: ended at {result.final_cause or 'no cause'}, "
        f"expected {result.dialogue.cause}"
        for result in figures.results
        if not result.right_fix
    ]
    assert figures.understood >= 90.0, misses
    assert figures.invented == 0, [i for result in figures.results for i in result.invented]
    assert figures.right_fix >= 90.0, wrong
    assert figures.recovery == 100.0, [
        result.dialogue.id for result in figures.results if result.recovered is False
    ]


def test_every_promoted_fact_is_supported_by_what_the_engineer_wrote(figures: Figures) -> None:
    """Each fact in What we know quotes words the engineer wrote (or is their own words)."""
    promoted = 0
    for result in figures.results:
        said = result.player.said
        for fact in result.player.facts:
            promoted += 1
            assert unsupported(fact, said) == "", (result.dialogue.id, fact)
    assert promoted >= 3 * len(DIALOGUES)


@pytest.mark.parametrize(
    ("fact", "said", "problem"),
    [
        (
            'Outlook\'s status bar shows "Need password" (“the credential manager has an old '
            "entry”).",
            ["the credential manager has an old entry"],
            "quotes 'Need password'",
        ),
        ("Only this user is affected (“just Jane”).", ["only her"], "never written"),
        ("Only this user is affected.", ["only her"], "names no evidence"),
        ("Recent change: since the firmware update.", ["since the update"], "never written"),
    ],
)
def test_the_support_check_catches_invented_facts(fact: str, said: list[str], problem: str) -> None:
    """The never-invent check rejects options nobody named, unwritten words and bare claims."""
    assert problem in unsupported(fact, said)


def test_recovery_dialogues_move_to_a_different_cause(figures: Figures) -> None:
    """After a failed fix (or a relapse) the assistant proposes a cause not yet tried."""
    recovered = [result for result in figures.results if result.dialogue.recovery]
    assert recovered
    assert all(result.recovered for result in recovered)
