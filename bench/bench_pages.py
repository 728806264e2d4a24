"""
Page and list benchmarks, on PostgreSQL database ``flowpilot_bench`` (issue 8, part 9).

1. ``session_page``: ``GET /sessions/{id}`` of a session with 30 steps (markdown in every
   assistant step) against ``GET /api/v1/ai-sessions/{id}`` of the same session. Budgets: page
   median <= 1.5x the JSON median, <= 15 ms, <= 10 queries.
2. ``sessions_list``: ``GET /api/v1/ai-sessions`` and the ``/sessions`` page for an engineer
   with 100 sessions in the account, then with 10,000 (plus picked-up ones). Budget: each at
   10,000 within 1.5x of the same at 100, with the same query count.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment()

PAGE_RATIO_BUDGET = 1.5
PAGE_MS_BUDGET = 15.0
PAGE_QUERIES_BUDGET = 10
LIST_RATIO_BUDGET = 1.5
STEPS = 30
SAMPLES = 60
WARMUP = 10
SMALL, LARGE = 100, 10_000
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway bench user
REPLY = (
    "Thanks, that narrows it down.\n**What I see**: the cached credential is stale.\n"
    "Try these in order:\n1. Remove the *MicrosoftOffice16* entries in Credential Manager\n"
    "2. Restart Outlook and sign in\n3. Check `Get-Service ClickToRunSvc`\n\n"
    "```powershell\ncmdkey /list | Select-String Office\n```\n- then tell me what it shows"
)


class Client:
    """A WSGI client that calls Django in-process (no socket), authenticated per request."""

    def __init__(self, user: Any) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import Client as DjangoClient

        from accounts.services.tokens import issue_token_pair

        self.handler = WSGIHandler()
        self.token = issue_token_pair(user)["access"]
        self.browser = DjangoClient()
        self.browser.force_login(user)
        self.cookie = "; ".join(f"{k}={v.value}" for k, v in self.browser.cookies.items())

    def get(self, path: str, *, api: bool) -> tuple[float, int, int, float]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        environ = {
            "REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }  # fmt: skip
        if api:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        else:
            environ["HTTP_COOKIE"] = self.cookie
        status: list[str] = []
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            response = self.handler(environ, lambda s, h, *a: status.append(s))
            size = len(b"".join(response))
            response.close()
            elapsed = (time.perf_counter() - started) * 1000
            cpu_ms = (time.process_time() - cpu) * 1000
        if not status[0].startswith("200"):
            raise RuntimeError(f"GET {path} answered {status[0]}")
        return elapsed, len(queries), size, cpu_ms


CPU: dict[str, float] = {}  # median CPU ms per path (the machine is shared: wall is noisy)


def median_of(client: Client, path: str, *, api: bool) -> tuple[float, int]:
    times, counts, cpus = [], [], []
    for index in range(WARMUP + SAMPLES):
        elapsed, count, _, cpu_ms = client.get(path, api=api)
        if index >= WARMUP:
            times.append(elapsed)
            counts.append(count)
            cpus.append(cpu_ms)
    CPU[path] = statistics.median(cpus)
    # The mode: an occasional sample also writes the sign-in's activity stamp.
    return statistics.median(times), statistics.mode(counts)


def user_for(slug: str) -> Any:
    from accounts.models import Account, Role, User

    account, _ = Account.objects.get_or_create(slug=slug, defaults={"name": f"Bench {slug}"})
    email = f"{slug}@bench.example"
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, PASSWORD, account=account, role=Role.ENGINEER, name="Bench Engineer"
        )
    return user


def fill_sessions(user: Any, colleague: Any, count: int) -> None:
    """``count`` sessions of the account: most the user's, a tenth a colleague's picked up."""
    from django.db import connection
    from django.utils import timezone

    from sessions_app.models import AISession

    AISession.objects.filter(account=user.account).delete()
    now = timezone.now()
    rows = [
        AISession(
            account=user.account,
            user=colleague if index % 10 == 0 else user,
            escalated_to=user if index % 10 == 0 else None,
            status="escalated" if index % 10 == 0 else "active",
            problem_summary=f"Bench problem {index}",
            updated_at=now - timedelta(seconds=index),
        )
        for index in range(count)
    ]
    AISession.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sessions_app_aisession")


def bench_session_page(user: Any) -> tuple[float, float, int, int]:
    from sessions_app.models import AISession, AISessionStep, StepRole, rendered_step_html
    from sessions_app.services import sessions

    AISession.objects.filter(account=user.account).delete()
    session, _ = sessions.create_session(user=user, problem="Outlook keeps asking for a password")
    rows = [
        AISessionStep(
            account_id=user.account_id,
            session=session,
            role=StepRole.ASSISTANT if index % 2 == 0 else StepRole.USER,
            content=f"{REPLY}\n\nStep {index}" if index % 2 == 0 else f"It says {index}.",
            author=None if index % 2 == 0 else user,
        )
        for index in range(STEPS - 1)
    ]
    for row in rows:  # what save() stores when a step is written (bulk_create skips it)
        row.content_html = rendered_step_html(row.role, row.content)
    AISessionStep.objects.bulk_create(rows)
    client = Client(user)
    page_ms, page_queries = median_of(client, f"/sessions/{session.pk}", api=False)
    json_ms, json_queries = median_of(client, f"/api/v1/ai-sessions/{session.pk}", api=True)
    return page_ms, json_ms, page_queries, json_queries


def bench_lists(user: Any, colleague: Any) -> dict[str, dict[int, tuple[float, int]]]:
    results: dict[str, dict[int, tuple[float, int]]] = {"api": {}, "page": {}}
    for count in (SMALL, LARGE):
        fill_sessions(user, colleague, count)
        client = Client(user)
        results["api"][count] = median_of(client, "/api/v1/ai-sessions", api=True)
        results["page"][count] = median_of(client, "/sessions", api=False)
    return results


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    user = user_for("bench-pages")
    colleague = user_for("bench-pages-colleague")
    colleague.account = user.account
    colleague.save(update_fields=["account"])

    page_ms, json_ms, page_queries, json_queries = bench_session_page(user)
    lists = bench_lists(user, colleague)

    def verdict(ok: bool) -> str:
        return "OK" if ok else "OVER"

    ok = True
    ratio = page_ms / json_ms
    page_ok = ratio <= PAGE_RATIO_BUDGET and page_ms <= PAGE_MS_BUDGET
    page_ok = page_ok and page_queries <= PAGE_QUERIES_BUDGET
    ok &= page_ok
    page_cpu = next(v for k, v in CPU.items() if k.startswith("/sessions/"))
    json_cpu = next(v for k, v in CPU.items() if k.startswith("/api/v1/ai-sessions/"))
    print(f"session_page CPU median: {page_cpu:.1f} ms; JSON detail {json_cpu:.1f} ms; "
          f"ratio {page_cpu / json_cpu:.2f}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"session_page ({STEPS} steps) median: {page_ms:.1f} ms vs budget "
          f"{PAGE_MS_BUDGET:.0f} ms; "
          f"JSON detail {json_ms:.1f} ms; ratio {ratio:.2f} vs budget {PAGE_RATIO_BUDGET}; "
          f"queries {page_queries} vs budget {PAGE_QUERIES_BUDGET} (JSON {json_queries}) "
          f"({verdict(page_ok)})")  # fmt: skip
    for kind, label in (("api", "GET /api/v1/ai-sessions"), ("page", "GET /sessions")):
        small_ms, small_q = lists[kind][SMALL]
        large_ms, large_q = lists[kind][LARGE]
        list_ratio = large_ms / small_ms
        list_ok = list_ratio <= LIST_RATIO_BUDGET and large_q == small_q
        ok &= list_ok
        print(f"sessions_list {label}: {large_ms:.1f} ms at {LARGE:,} vs {small_ms:.1f} ms at "
              f"{SMALL}; ratio {list_ratio:.2f} vs budget {LIST_RATIO_BUDGET}; queries "
              f"{large_q} vs {small_q} ({verdict(list_ok)})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
