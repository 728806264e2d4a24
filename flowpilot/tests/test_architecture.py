"""
App dependencies point one way (SPEC §1). import-linter checks the imports (`make lint`); a
dotted string, a model reference or a template path hides a dependency from it, so this test
reads every production module's strings and every app template.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each app and the apps built on it, which it must never name. front composes everything.
DOWNSTREAM: dict[str, set[str]] = {
    "accounts": {"psa", "sessions_app", "scripts", "handoffs", "front"},
    "psa": {"sessions_app", "scripts", "handoffs", "front"},
    "sessions_app": {"psa", "scripts", "handoffs", "front"},
    "scripts": {"psa", "handoffs", "front"},
    "handoffs": {"scripts", "front"},
    "flowpilot/llm": {"accounts", "psa", "sessions_app", "scripts", "handoffs", "front"},
    "flowpilot/errors.py": {"accounts", "psa", "sessions_app", "scripts", "handoffs", "front"},
    "flowpilot/realtime.py": {"accounts", "psa", "sessions_app", "scripts", "handoffs", "front"},
    "flowpilot/tasks.py": {"accounts", "psa", "sessions_app", "scripts", "handoffs", "front"},
}
TEMPLATE_TAG = re.compile(r"""{%\s*(?:include|extends)\s+["']([^"']+)["']""")


def reference_pattern(apps: set[str]) -> re.Pattern[str]:
    """A whole string that points into one of ``apps``: "app.module.name", "app.Model",
    "app/template.html" or "app.module:attr". A bare label ("psa") is a value, not a path."""
    names = "|".join(sorted(apps))
    return re.compile(rf"^(?:{names})[./:][\w./:-]+$")


def docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def named_references(source: str, apps: set[str]) -> list[tuple[int, str]]:
    """(line, string) of every string literal in ``source`` naming one of ``apps``."""
    pattern = reference_pattern(apps)
    tree = ast.parse(source)
    skip = docstring_nodes(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and pattern.match(node.value.strip())
    ]


def production_files(area: str, suffix: str) -> Iterator[Path]:
    base = ROOT / area
    files = [base] if base.is_file() else sorted(base.rglob(f"*{suffix}"))
    for path in files:
        parts = path.relative_to(ROOT).parts
        if path.suffix == suffix and "tests" not in parts and "migrations" not in parts:
            yield path


def test_no_module_names_a_downstream_app_in_a_string() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for area, apps in DOWNSTREAM.items()
        for path in production_files(area, ".py")
        for line, text in named_references(path.read_text(), apps)
    ]
    assert found == [], "Upstream code names a downstream app:\n" + "\n".join(found)


def test_no_app_template_includes_a_downstream_template() -> None:
    found = []
    for area, apps in DOWNSTREAM.items():
        pattern = reference_pattern(apps)
        for path in production_files(area, ".html"):
            for name in TEMPLATE_TAG.findall(path.read_text()):
                if pattern.match(name):
                    found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == [], "An app template uses a downstream app's template:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        'DASHBOARD = ["sessions_app.views.dashboard_panel_context"]',
        'owner = models.ForeignKey("handoffs.Handoff", on_delete=models.CASCADE)',
        'render(request, "scripts/library.html")',
        'import_module("psa.demo")',
        'x = "front.panels:recent_sessions_panel"',
    ],
)
def test_the_string_rule_catches_a_hidden_dependency(source: str) -> None:
    """The checker is not vacuous: each of these names a downstream app of accounts."""
    assert named_references(source, DOWNSTREAM["accounts"]) != []


@pytest.mark.parametrize(
    "source",
    [
        '"""Used by sessions_app.views (a docstring, not a reference)."""',
        'label = "Open script generator"',
        'url_name = "psa-settings"',
        'text = "sessions_app is downstream"',
        'payload = {"via": "psa"}',
    ],
)
def test_prose_and_url_names_are_not_references(source: str) -> None:
    assert named_references(source, DOWNSTREAM["accounts"]) == []


def test_import_contracts_are_kept() -> None:
    """The import-linter contracts in pyproject.toml (direction of apps, no cycles) hold."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
