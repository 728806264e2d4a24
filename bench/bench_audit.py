"""
The owner's audit log page at 100,000 events (plus 100,000 of another account): the first
page, a filtered page and a page deep down the cursor chain, through the real view with a test
client. Budget: median <= 20 ms per page and flat (the 100,000-event median within 2x of the
1,000-event one). PostgreSQL database ``flowpilot_bench``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment()
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

BUDGET_MS = 20.0
SIZES = (1_000, 100_000)
ROUNDS = 30
TYPES = ("auth.login", "auth.logout", "account.session_policy_update", "user.role_changed")


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import Account, AuditEvent, Role, User

    password = "bench-password-not-secret"  # noqa: S105 - a throwaway bench login
    results: dict[int, float] = {}
    queries: dict[int, int] = {}
    for size in SIZES:
        slug = f"bench-audit-{size}"
        account, _ = Account.objects.get_or_create(slug=slug, defaults={"name": slug})
        other, _ = Account.objects.get_or_create(slug=f"{slug}-other", defaults={"name": "Other"})
        owner = User.objects.filter(email=f"owner@{slug}.example").first()
        if owner is None:
            owner = User.objects.create_user(
                f"owner@{slug}.example", password, account=account, role=Role.OWNER, name="Owner"
            )
        for target in (account, other):
            have = AuditEvent.objects.filter(account=target).count()
            if have < size:
                now = timezone.now()
                AuditEvent.objects.bulk_create(
                    (
                        AuditEvent(
                            account=target,
                            actor=owner if target == account else None,
                            type=TYPES[i % len(TYPES)],
                            payload={"method": "password", "old": "engineer", "new": "admin"},
                            created_at=now - timedelta(seconds=i),
                        )
                        for i in range(size - have)
                    ),
                    batch_size=5000,
                )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_auditevent")
        client = Client()
        assert (
            client.post("/login", {"email": owner.email, "password": password}).status_code == 302
        )
        first = client.get("/account/audit")
        assert first.status_code == 200
        # A page 20 cursors deep.
        deep_url = "/account/audit"
        for _ in range(20):
            html = first.content.decode()
            marker = 'id="audit-more" href="'
            start = html.index(marker) + len(marker)
            deep_url = "/account/audit" + html[start : html.index('"', start)].replace("&amp;", "&")
            first = client.get(deep_url)
        urls = ["/account/audit", "/account/audit?type=user.role_changed", deep_url]
        timings: list[float] = []
        cpu_timings: list[float] = []
        for _ in range(ROUNDS):
            for url in urls:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                cpu_timings.append((time.process_time() - cpu_started) * 1000)
                assert response.status_code == 200
        with CaptureQueriesContext(connection) as captured:
            client.get(urls[0])
        results[size] = statistics.median(timings)
        queries[size] = len(captured.captured_queries)
        cpu = statistics.median(cpu_timings)
        print(
            f"audit page at {size:,} events: median {results[size]:.2f} ms wall, {cpu:.2f} ms "
            f"CPU, {queries[size]} queries"
        )
    big, small = results[SIZES[-1]], results[SIZES[0]]
    flat = big <= max(2 * small, small + 5) and queries[SIZES[-1]] == queries[SIZES[0]]
    print(f"audit page median at 100,000 events: {big:.2f} ms vs budget {BUDGET_MS:.0f} ms")
    print(f"audit page flat (1,000 → 100,000): {'yes' if flat else 'no'} vs budget yes")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if big <= BUDGET_MS and flat else 1


if __name__ == "__main__":
    sys.exit(main())
