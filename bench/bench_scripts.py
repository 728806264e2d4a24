"""
Script library benchmarks, on PostgreSQL database ``flowpilot_bench``.

1. ``library_page``: server time of ``GET /scripts`` (the whole Django stack in-process: session
   auth, middleware, the sidebar's pending-draft count, the template list, rendering) for an
   account with 500 templates. Budgets: p95 <= 30 ms and <= 10 queries.
2. ``render_and_review``: ``render`` (strict, 20 parameters, each value quoted for its
   PowerShell context) plus ``review_rendered`` (tree-sitter parse and the rule table) of a
   200-line template, with values that change on every call so neither cache helps the
   review. Budget: p95 <= 5 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment(redis=True)
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"

PAGE_BUDGET_MS = 30.0
PAGE_QUERY_BUDGET = 10
RENDER_BUDGET_MS = 5.0
TEMPLATES = 500
VIEWS = 80
RENDERS = 300


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def big_template() -> tuple[str, list[dict[str, object]]]:
    """200 lines, 20 parameters in every context a template uses."""
    parameters: list[dict[str, object]] = []
    lines = [
        "#Requires -RunAsAdministrator",
        "$ErrorActionPreference = 'Stop'",
        "$Key = 'HKCU:\\Software\\Bench'",
    ]
    for index in range(20):
        kind = ("string", "int", "bool", "secret")[index % 4]
        parameters.append({"name": f"p{index}", "type": kind, "required": True})
        lines.append(f"$Value{index} = '{{{{p{index}}}}}'")
    while len(lines) < 196:
        n = len(lines)
        lines += [
            f"Get-Service -Name 'Svc{n}' | Select-Object Name, Status",
            f'Write-Output "Step {n}: {{{{p{n % 20}}}}} on $env:COMPUTERNAME"',
            f"if ($Value{n % 20}) {{ Set-ItemProperty -Path $Key -Name 'K{n}' -Value {n} }}",
            f"# note {n}",
        ]
    lines += ["Get-ChildItem -Path $env:TEMP -File | Remove-Item -Force", "Write-Output 'Done'"]
    return "\n".join(lines[:200]) + "\n", parameters


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Account, Role, User
    from scripts.models import ScriptCategory, ScriptTemplate
    from scripts.parameters import parse_schema
    from scripts.rendering import render
    from scripts.review import review_rendered

    call_command("migrate", verbosity=0, interactive=False)
    account, _ = Account.objects.get_or_create(slug="bench-scripts", defaults={"name": "Bench"})
    user = User.objects.filter(email="bench-scripts@bench.example").first()
    if user is None:
        user = User.objects.create_user(
            "bench-scripts@bench.example", "bench-password-1", account=account,
            role=Role.ENGINEER, name="Bench Engineer",
        )  # fmt: skip
    existing = ScriptTemplate.objects.filter(account=account).count()
    categories = list(ScriptCategory.objects.filter(account=account))
    if existing < TEMPLATES:
        ScriptTemplate.objects.bulk_create(
            ScriptTemplate(
                account=account,
                category=categories[index % len(categories)] if categories else None,
                name=f"Bench template {index:04d}",
                description="Restarts a service and reports its status. " * 3,
                body="Restart-Service -Name '{{service}}'\n",
                parameters_schema=[{"name": "service"}],
            )
            for index in range(TEMPLATES - existing)
        )
    count = ScriptTemplate.objects.filter(account=account).count()

    client = Client()
    client.force_login(user)
    for _ in range(5):
        assert client.get("/scripts").status_code == 200
    page_ms = []
    page_cpu_ms = []
    for _ in range(VIEWS):
        started, cpu = time.perf_counter(), time.thread_time()
        response = client.get("/scripts")
        page_ms.append((time.perf_counter() - started) * 1000)
        page_cpu_ms.append((time.thread_time() - cpu) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        client.get("/scripts")
    queries = len(captured.captured_queries)
    reset_queries()

    body, raw = big_template()
    schema = parse_schema(raw)
    render_ms = []
    render_cpu_ms = []
    for sample in range(RENDERS + 20):
        values = {
            f"p{index}": (sample + index if index % 4 == 1 else (index % 2 == 0) if index % 4 == 2
                          else f"value-{sample}-{index}'; Stop-Computer")
            for index in range(20)
        }  # fmt: skip
        started, cpu = time.perf_counter(), time.thread_time()
        rendered = render(body, schema, values)
        review = review_rendered(rendered)
        elapsed = (time.perf_counter() - started) * 1000
        cpu_ms = (time.thread_time() - cpu) * 1000
        assert review.parses, review.findings
        if sample >= 20:
            render_ms.append(elapsed)
            render_cpu_ms.append(cpu_ms)

    ok_page = p95(page_ms) <= PAGE_BUDGET_MS
    ok_queries = queries <= PAGE_QUERY_BUDGET
    ok_render = p95(render_ms) <= RENDER_BUDGET_MS

    def verdict(ok: bool) -> str:
        return "OK" if ok else "OVER"

    print(f"library_page ({count} templates) p50: {statistics.median(page_ms):.1f} ms")
    print(f"library_page p95: {p95(page_ms):.1f} ms vs budget {PAGE_BUDGET_MS:.0f} ms "
          f"({verdict(ok_page)}, n={len(page_ms)})")  # fmt: skip
    # CPU time of this thread (information): on a loaded machine wall time mostly waits.
    print(f"library_page cpu (information) p50: {statistics.median(page_cpu_ms):.1f} ms, "
          f"p95 {p95(page_cpu_ms):.1f} ms")  # fmt: skip
    print(f"library_page queries: {queries} vs budget {PAGE_QUERY_BUDGET} ({verdict(ok_queries)})")
    print(f"render_and_review (200 lines, 20 parameters) p50: "
          f"{statistics.median(render_ms):.2f} ms")  # fmt: skip
    print(f"render_and_review p95: {p95(render_ms):.2f} ms vs budget {RENDER_BUDGET_MS:.0f} ms "
          f"({verdict(ok_render)}, n={len(render_ms)})")  # fmt: skip
    print(f"render_and_review cpu (information) p50: {statistics.median(render_cpu_ms):.2f} ms, "
          f"p95 {p95(render_cpu_ms):.2f} ms")  # fmt: skip
    return 0 if ok_page and ok_queries and ok_render else 1


if __name__ == "__main__":
    sys.exit(main())
