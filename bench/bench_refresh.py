"""
``POST /api/v1/auth/refresh`` at 20 concurrent clients on PostgreSQL. Budget: p95 <= 25 ms server
time, zero errors.

Twenty client threads each log in once and then rotate their refresh token in a closed loop.
Requests are served by one server process per CPU (each with its own interpreter and database
connection, like daphne workers behind a balancer) running the whole Django stack in-process:
middleware, DRF, the conditional UPDATE and minting. Server time is the time a worker spends on a
request; the client-observed time (which adds queueing for a free worker) is printed beside it.
Database ``flowpilot_bench``.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
from typing import Any

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment(redis=True)

BUDGET_MS = 25.0
CLIENTS = 20
WORKERS = max(2, os.cpu_count() or 2)
REFRESHES_PER_CLIENT = 60
WARMUP_PER_CLIENT = 5
EMAIL = "bench-refresh-{}@bench.example"


def server_worker(requests: Any, replies: list[Any]) -> None:
    """One server process: its own interpreter and database connection, like a daphne worker."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connections

    connections.close_all()  # never share the parent's socket
    handler = WSGIHandler()
    while True:
        job = requests.get()
        if job is None:
            return
        client_id, raw = job
        body = json.dumps({"refresh": raw}).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/auth/refresh", "SCRIPT_NAME": "",
            "QUERY_STRING": "", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
            "HTTP_HOST": "localhost", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }  # fmt: skip
        status: list[str] = []
        started = time.perf_counter()
        response = handler(environ, lambda s, h, *a, out=status: out.append(s))
        payload = b"".join(response)
        response.close()
        elapsed = (time.perf_counter() - started) * 1000
        replies[client_id].put((int(status[0].split()[0]), payload, elapsed))


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    from accounts.models import Account, RefreshToken, Role, User

    account, _ = Account.objects.get_or_create(slug="bench-refresh", defaults={"name": "Bench"})
    for index in range(CLIENTS):
        if not User.objects.filter(email=EMAIL.format(index)).exists():
            User.objects.create_user(
                EMAIL.format(index), "bench-password-1", account=account, role=Role.ENGINEER
            )
    RefreshToken.objects.filter(account=account).delete()
    connections.close_all()

    from accounts.services.tokens import issue_token_pair

    users = [
        User.objects.select_related("account").get(email=EMAIL.format(i)) for i in range(CLIENTS)
    ]
    tokens = [issue_token_pair(user)["refresh"] for user in users]
    connections.close_all()

    context = multiprocessing.get_context("fork")
    requests = context.Queue()
    replies = [context.Queue() for _ in range(CLIENTS)]
    servers = [
        context.Process(target=server_worker, args=(requests, replies), daemon=True)
        for _ in range(WORKERS)
    ]
    for server in servers:
        server.start()
    barrier = threading.Barrier(CLIENTS)
    results: list[tuple[list[float], list[float], int]] = []

    def client(index: int) -> None:
        token, server_ms, client_ms, errors = tokens[index], [], [], 0
        barrier.wait()
        for number in range(WARMUP_PER_CLIENT + REFRESHES_PER_CLIENT):
            started = time.perf_counter()
            requests.put((index, token))
            code, payload, elapsed = replies[index].get(timeout=60)
            if code != 200:
                errors += 1
                continue
            token = json.loads(payload)["refresh"]
            if number >= WARMUP_PER_CLIENT:
                server_ms.append(elapsed)
                client_ms.append((time.perf_counter() - started) * 1000)
        results.append((server_ms, client_ms, errors))

    # Uncontended reference: one client alone, same workers.
    alone: list[float] = []
    token = issue_token_pair(users[0])["refresh"]
    for _ in range(40):
        requests.put((0, token))
        code, payload, elapsed = replies[0].get(timeout=60)
        token = json.loads(payload)["refresh"]
        alone.append(elapsed)
    alone.sort()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    for _ in servers:
        requests.put(None)
    for server in servers:
        server.join(timeout=30)

    timings = sorted(t for batch, _, _ in results for t in batch)
    observed = sorted(t for _, batch, _ in results for t in batch)
    errors = sum(e for _, _, e in results)
    spent = RefreshToken.objects.filter(account=account, revoked_reason="rotated").count()
    RefreshToken.objects.filter(account=account).delete()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    ok = p95 <= BUDGET_MS and errors == 0
    print(f"refresh clients: {CLIENTS} concurrent against {WORKERS} server processes, "
          f"{len(timings)} timed refreshes, {len(timings) / wall:.0f} req/s, "
          f"{spent} tokens spent")  # fmt: skip
    print(f"refresh client-observed p95 (includes queueing for a worker): "
          f"{observed[int(len(observed) * 0.95) - 1]:.1f} ms")  # fmt: skip
    print(f"refresh single client p50 (uncontended reference): {alone[len(alone) // 2]:.2f} ms")
    print(f"refresh p50: {p50:.2f} ms")
    print(f"refresh errors: {errors} vs budget 0")
    print(f"refresh p95: {p95:.2f} ms vs budget {BUDGET_MS:.0f} ms "
          f"({'OK' if ok else 'OVER'})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
