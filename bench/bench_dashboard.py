"""
The dashboard with every panel (my open sessions with their state, waiting for pick-up, picked
up from me, notifications) for an engineer of an account with 100 sessions and 10
notifications, then 10,000 sessions and 1,000 notifications (plus escalations, pick-ups and
fixes in proportion, and the same again in another account), through the real view with a
test client. Budget: median <= 15 ms, <= 10 queries, flat (the 10,000 median within 1.5x of
the 100 one, same query count). Wall and CPU time are both reported: the machine is shared.
PostgreSQL database ``flowpilot_bench``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment()
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

MS_BUDGET = 15.0
QUERY_BUDGET = 10
FLAT_RATIO = 1.5
SIZES = ((100, 10), (10_000, 1_000))  # (sessions, notifications)
ROUNDS = 60
WARMUP = 10
PASSWORD = "bench-password-not-secret"  # noqa: S105 - a throwaway bench login
PANELS = ("sessions", "waiting", "picked-up", "notifications")


def people(slug: str) -> tuple[Any, Any]:
    from accounts.models import Account, Role, User

    account, _ = Account.objects.get_or_create(slug=slug, defaults={"name": slug})
    made = []
    for local, name in (("engineer", "Bench Engineer"), ("senior", "Bench Senior")):
        email = f"{local}@{slug}.example"
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email, PASSWORD, account=account, role=Role.ENGINEER, name=name
        )
        made.append(user)
    return made[0], made[1]


def fill(engineer: Any, senior: Any, sessions: int, notifications: int) -> None:
    """
    ``sessions`` in the account, three in four the engineer's: most resolved, some escalated
    (half of those picked up by the senior), some picked up from the senior, a third with a
    fix (proposed or waiting to verify); ``notifications`` for the engineer.
    """
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from handoffs.models import AppNotification, SessionHandoff
    from sessions_app.models import AISession, SuggestedFix

    account = engineer.account
    AppNotification.objects.filter(account=account).delete()
    SessionHandoff.objects.filter(account=account).delete()
    AISession.objects.filter(account=account).delete()
    now = timezone.now()
    rows = []
    for index in range(sessions):
        mine = index % 4 != 0
        status = "resolved" if index % 5 < 3 else ("escalated" if index % 5 == 3 else "active")
        rows.append(
            AISession(
                account=account,
                user=engineer if mine else senior,
                escalated_to=engineer if not mine and index % 8 == 0 else None,
                status=status,
                problem_summary=f"Bench problem {index}",
                psa_ticket_id=str(40_000 + index) if index % 2 else "",
                updated_at=now - timedelta(minutes=index * 7),
            )
        )
    created = AISession.objects.bulk_create(rows, batch_size=2000)
    fixes, handoffs = [], []
    for index, session in enumerate(created):
        if index % 3 == 0:
            fixes.append(
                SuggestedFix(
                    account=account,
                    session=session,
                    title="Restart the spooler",
                    status="applied_pending" if index % 2 else "proposed",
                    pending_reason="User is on the road" if index % 2 else "",
                )
            )
        if session.status == "escalated":
            claimed = index % 20 == 3
            handoffs.append(
                SessionHandoff(
                    account=account,
                    session=session,
                    intent="escalate",
                    from_user=session.user,
                    claimed_by=(senior if session.user == engineer else engineer)
                    if claimed
                    else None,
                    claimed_at=session.updated_at if claimed else None,
                    created_at=session.updated_at,
                )
            )
    SuggestedFix.objects.bulk_create(fixes, batch_size=2000)
    SessionHandoff.objects.bulk_create(handoffs, batch_size=2000)
    AppNotification.objects.bulk_create(
        (
            AppNotification(
                account=account,
                user=engineer,
                kind="handoff_created",
                title=f"Bench notification {index}",
                link="/",
                read_at=now if index % 3 else None,
                created_at=now - timedelta(minutes=index),
            )
            for index in range(notifications)
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        for table in (
            "sessions_app_aisession",
            "sessions_app_suggestedfix",
            "handoffs_sessionhandoff",
            "handoffs_appnotification",
        ):
            cursor.execute(f"ANALYZE {table}")


def measure(client: Any, url: str) -> tuple[float, float, int]:
    """Median wall and CPU milliseconds of ``url``, and its (most common) query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    walls, cpus, counts = [], [], []
    for index in range(WARMUP + ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            cpu = (time.process_time() - cpu) * 1000
            wall = (time.perf_counter() - wall) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        if index >= WARMUP:
            walls.append(wall)
            cpus.append(cpu)
            counts.append(len(captured.captured_queries))
    return statistics.median(walls), statistics.median(cpus), statistics.mode(counts)


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    engineer, senior = people("bench-dashboard")
    other_engineer, other_senior = people("bench-dashboard-other")
    results: dict[int, dict[str, tuple[float, float, int]]] = {}
    for sessions, notifications in SIZES:
        fill(engineer, senior, sessions, notifications)
        fill(other_engineer, other_senior, sessions, notifications)
        client = Client()
        login = client.post("/login", {"email": engineer.email, "password": PASSWORD})
        assert login.status_code == 302
        html = client.get("/").content.decode()
        for testid in ("open-sessions", "waiting-escalations", "my-escalations"):
            assert f'data-testid="{testid}"' in html, testid
        assert 'data-testid="dashboard-notifications"' in html
        row = {"/": measure(client, "/")}
        for key in PANELS:
            row[key] = measure(client, f"/dashboard/panels/{key}")
        results[sessions] = row
        for name, (wall, cpu, count) in row.items():
            print(
                f"{name:>14} at {sessions:,} sessions / {notifications:,} notifications: "
                f"median wall {wall:.2f} ms, CPU {cpu:.2f} ms, {count} queries"
            )
    small, large = results[SIZES[0][0]]["/"], results[SIZES[-1][0]]["/"]
    ratio = large[0] / small[0]
    fast = large[0] <= MS_BUDGET
    few = large[2] <= QUERY_BUDGET
    flat = ratio <= FLAT_RATIO and large[2] == small[2]
    print(f"dashboard median at 10,000 sessions: {large[0]:.2f} ms wall ({large[1]:.2f} ms CPU) "
          f"vs budget {MS_BUDGET:.0f} ms ({'OK' if fast else 'OVER'})")  # fmt: skip
    print(f"dashboard queries: {large[2]} vs budget {QUERY_BUDGET} ({'OK' if few else 'OVER'})")
    print(f"dashboard flat 100 -> 10,000: ratio {ratio:.2f} vs budget {FLAT_RATIO}, queries "
          f"{small[2]} -> {large[2]} ({'OK' if flat else 'OVER'})")  # fmt: skip
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if fast and few and flat else 1


if __name__ == "__main__":
    sys.exit(main())
