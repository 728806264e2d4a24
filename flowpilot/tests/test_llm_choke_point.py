"""
One LLM choke point: every model call of the product gets its client from
``flowpilot.llm.client.get_llm_client``, and tests replace the model there, with autospec.
This test reads the sources so a second door (an SDK import, a client built by hand, a patch
of some caller's name) fails here instead of silently escaping the tests' fake model.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from unittest import mock

from flowpilot.llm import LLMRequest, get_llm_client
from flowpilot.llm import client as llm_client
from flowpilot.llm.testing import ScriptedClient

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "sessions_app", "handoffs", "scripts", "psa", "front", "flowpilot", "bench")
CHOKE_POINT = "flowpilot.llm.client.get_llm_client"
LLM_INTERNALS = re.compile(r"^flowpilot\.llm\.(client|anthropic_provider|offline)(\.|$)|^anthropic")


def sources(tests: bool) -> list[Path]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative.startswith("flowpilot/llm/"):
                continue
            if ("/tests/" in relative) == tests:
                found.append(path)
    return found


def test_production_code_reaches_models_only_through_the_llm_package() -> None:
    """No app imports the SDK, a provider or the client module: ``flowpilot.llm`` only."""
    offenders = []
    for path in sources(tests=False):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} {name}"
                for name in names
                if LLM_INTERNALS.match(name)
            ]
    # bench scripts swap the choke point itself for a timed client.
    offenders = [o for o in offenders if not o.startswith("bench/")]
    assert not offenders, offenders


def test_tests_patch_the_model_in_one_place_with_autospec() -> None:
    """A patch of any LLM client name other than the choke point would miss some callers."""
    patch_target = re.compile(r"""["']([\w.]*(?:get_llm_client|llm_client))["']""")
    wrong = []
    for path in sources(tests=True):
        text = path.read_text()
        for match in patch_target.finditer(text):
            if match.group(1) != CHOKE_POINT and "." in match.group(1):
                wrong.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
        for call in re.finditer(
            rf"""mock\.patch\(\s*["']{re.escape(CHOKE_POINT)}["'][^)]*""", text
        ):
            if "autospec=True" not in call.group(0):
                wrong.append(f"{path.relative_to(ROOT)}: patch without autospec")
    assert not wrong, wrong


def test_one_patch_replaces_the_model_for_every_caller() -> None:
    """Callers that imported ``get_llm_client`` from the package still get the patched one."""
    fake = ScriptedClient(["Patched."])
    with mock.patch(CHOKE_POINT, autospec=True, return_value=fake) as patched:
        assert get_llm_client() is fake
        request = LLMRequest(purpose="chat", tier="heavy", system="", messages=[], context={})
        assert get_llm_client().complete(request).text == "Patched."
    assert patched.call_count == 2
    assert get_llm_client(provider="offline") is not fake
    assert llm_client.get_llm_client is not patched
