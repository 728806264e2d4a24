"""
Outcome race: 20 concurrent ``PATCH .../suggested-fixes/{fid}/outcome`` requests with terminal
outcomes on one fix, on PostgreSQL. Exactly one may win (200); the rest answer 409; no 500s.
Each round uses a fresh fix; every request runs the whole Django stack in its own thread with
its own database connection.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from collections import Counter
from typing import Any

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment(redis=True)

CONCURRENCY = 20
ROUNDS = 10
OUTCOMES = ["applied_success", "applied_failed", "dismissed"]


def patch(
    handler: Any,
    url: str,
    token: str,
    outcome: str,
    barrier: threading.Barrier,
    results: list[tuple[int, str, float]],
    lock: threading.Lock,
) -> None:
    """One PATCH through the WSGI application, released together with the others."""
    from django.db import connection

    body = json.dumps({"outcome": outcome, "failure_reason": "race"}).encode()
    environ = {
        "REQUEST_METHOD": "PATCH", "PATH_INFO": url, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
        "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }  # fmt: skip
    status: list[str] = []
    try:
        barrier.wait(timeout=30)
        started = time.perf_counter()
        response = handler(environ, lambda s, h, *a: status.append(s))
        b"".join(response)
        response.close()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            results.append((int(status[0].split()[0]), outcome, elapsed))
    finally:
        connection.close()


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    # 190 expected 409s would each log a warning; real errors still log.
    logging.getLogger("django.request").setLevel(logging.ERROR)

    from accounts.models import Account, AuditEvent, Role, User
    from accounts.services.tokens import issue_token_pair
    from sessions_app.models import AISession, SuggestedFix
    from sessions_app.services import fixes

    account, _ = Account.objects.get_or_create(slug="bench-race", defaults={"name": "Bench"})
    user = User.objects.filter(email="bench-race@bench.example").first()
    if user is None:
        user = User.objects.create_user(
            "bench-race@bench.example", "bench-password-1", account=account,
            role=Role.ENGINEER, name="Bench Engineer",
        )  # fmt: skip
    token = issue_token_pair(user)["access"]
    handler = WSGIHandler()
    statuses: Counter[int] = Counter()
    bad_rounds = 0
    slowest = 0.0

    for round_no in range(ROUNDS):
        session = AISession.objects.create(
            account=account, user=user, problem_summary=f"Race round {round_no}"
        )
        fix = fixes.propose_fix(
            session=session, step=None, title="Restart the spooler", description="",
            confidence=80, script="Restart-Service Spooler", parameters=[],
        )  # fmt: skip
        fixes.apply_fix(session=session, fix=fix, actor=user)
        version_before = AISession.objects.get(pk=session.pk).state_version
        url = f"/api/v1/ai-sessions/{session.pk}/suggested-fixes/{fix.pk}/outcome"
        barrier = threading.Barrier(CONCURRENCY)
        results: list[tuple[int, str, float]] = []
        lock = threading.Lock()

        threads = [
            threading.Thread(
                target=patch,
                args=(handler, url, token, OUTCOMES[i % len(OUTCOMES)], barrier, results, lock),
            )
            for i in range(CONCURRENCY)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        codes = Counter(code for code, _, _ in results)
        statuses.update(codes)
        slowest = max([slowest, *(elapsed for _, _, elapsed in results)])
        winners = [outcome for code, outcome, _ in results if code == 200]
        fix.refresh_from_db()
        version_after = AISession.objects.get(pk=session.pk).state_version
        events = AuditEvent.objects.filter(type="fix.outcome", payload__fix_id=fix.pk).count()
        ok = (
            len(results) == CONCURRENCY
            and codes.get(200) == 1
            and codes.get(409) == CONCURRENCY - 1
            and winners == [fix.status]
            and version_after == version_before + 1
            and events == 1
        )
        if not ok:
            bad_rounds += 1
            print(f"round {round_no}: codes={dict(codes)} winners={winners} "
                  f"status={fix.status} versions={version_before}->{version_after} "
                  f"events={events}")  # fmt: skip
        SuggestedFix.objects.filter(session=session).delete()
        session.delete()

    connection.close()
    total = CONCURRENCY * ROUNDS
    five_hundreds = sum(n for code, n in statuses.items() if code >= 500)
    print(f"outcome_race: {ROUNDS} rounds x {CONCURRENCY} concurrent PATCHes "
          f"-> {statuses.get(200, 0)} won, {statuses.get(409, 0)} answered 409, "
          f"{five_hundreds} answered 5xx (of {total})")  # fmt: skip
    print(f"outcome_race exactly one winner per round: {ROUNDS - bad_rounds}/{ROUNDS} "
          f"vs budget {ROUNDS}/{ROUNDS}")  # fmt: skip
    print(f"outcome_race 5xx: {five_hundreds} vs budget 0")
    print(f"outcome_race slowest request: {slowest:.0f} ms")
    return 0 if bad_rounds == 0 and five_hundreds == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
