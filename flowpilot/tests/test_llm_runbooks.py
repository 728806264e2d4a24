"""The runbook knowledge base loads, is complete, and its fix scripts are consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowpilot.llm.offline.knowledge import (
    PLACEHOLDER_RE,
    RUNBOOKS_DIR,
    Runbook,
    RunbookError,
    load_runbooks,
)

RUNBOOKS = load_runbooks()


def test_at_least_twelve_runbooks_load() -> None:
    """Every YAML file loads into a runbook and there are at least 12 of them."""
    assert len(RUNBOOKS) >= 12
    assert len(RUNBOOKS) == len(list(RUNBOOKS_DIR.glob("*.yaml")))


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.id)
def test_fix_placeholders_are_exactly_the_declared_parameters(runbook: Runbook) -> None:
    """Each {{placeholder}} in a fix script is declared, and each parameter is used."""
    placeholders = set(PLACEHOLDER_RE.findall(runbook.fix.script))

    assert placeholders == {parameter.name for parameter in runbook.fix.parameters}
    assert placeholders


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.id)
def test_runbook_content_is_complete(runbook: Runbook) -> None:
    """Questions, checks with commands, facts, root cause, steps and a described fix exist."""
    assert len(runbook.questions) >= 3
    assert len(runbook.checks) >= 3
    assert all(check.command for check in runbook.checks)
    for confirms in [item.confirms for item in runbook.questions] + [
        item.confirms for item in runbook.checks
    ]:
        assert confirms
        assert all(confirmation.phrases for confirmation in confirms)
    assert runbook.root_cause and runbook.summary and runbook.plan
    assert len(runbook.next_steps) >= 3
    assert 0 <= runbook.fix.confidence <= 100
    assert all(parameter.description for parameter in runbook.fix.parameters)


@pytest.mark.parametrize("runbook", RUNBOOKS, ids=lambda runbook: runbook.id)
def test_fix_scripts_are_safe_powershell(runbook: Runbook) -> None:
    """Scripts stop on errors or handle them, and never use risky constructs."""
    script = runbook.fix.script
    assert "$ErrorActionPreference" in script
    for forbidden in ("Invoke-Expression", "iex ", "Format-Volume", "Remove-Item -Path C:\\ "):
        assert forbidden not in script
    # Braces and parentheses balance (a cheap syntax sanity check).
    assert script.count("{") - script.count("{{") * 2 == script.count("}") - script.count("}}") * 2
    assert script.count("(") == script.count(")")


def test_invalid_runbook_is_rejected(tmp_path: Path) -> None:
    """A fix script with an undeclared placeholder fails to load."""
    source = (RUNBOOKS_DIR / "rdp.yaml").read_text(encoding="utf-8")
    (tmp_path / "rdp.yaml").write_text(
        source.replace("$UserAccount = '{{user_account}}'", "$UserAccount = '{{who}}'"),
        encoding="utf-8",
    )

    with pytest.raises(RunbookError, match="placeholders"):
        load_runbooks(tmp_path)
