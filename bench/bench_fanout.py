"""
Hand-off fan-out on PostgreSQL + Redis with TWO daphne processes (the scale-out shape):

50 seniors of one account hold ``/ws/escalations/`` open, 25 on each process. A junior's
hand-off commits in this process; the clock runs from the commit (an ``on_commit`` hook
registered before the hand-off's own) to each socket's ``handoff_created`` frame. The report is
the p95 over every frame of every round (budget 20 ms), with the loopback floor (a ping/pong
round trip on the same sockets) beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import statistics
import sys
import threading
import time
from typing import Any

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment(redis=True)
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

SOCKETS = 50
ROUNDS = 30
WARM_UP = 3
BUDGET_MS = 20.0


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


class Listeners:
    """50 websocket clients on their own event loop thread, stamping each frame's arrival."""

    def __init__(self, targets: list[tuple[str, str]]) -> None:
        self.targets = targets  # (base url, session cookie)
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.sockets: list[Any] = []
        self.floor: list[float] = []
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(120) or self.error is not None:
            raise RuntimeError(f"the sockets did not all connect: {self.error!r}")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except Exception as exc:
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        import websockets

        for base, cookie in self.targets:
            ws = await websockets.connect(
                base.replace("http", "ws") + "/ws/escalations/",
                additional_headers={"Origin": base, "Cookie": cookie},
                open_timeout=60,
                max_queue=None,
            )
            self.sockets.append(ws)
        # Ready means joined: the consumer answers a ping only after its group_add.
        self.floor = [await self._ping(ws) for ws in self.sockets]
        self.ready.set()
        await asyncio.gather(*(self._listen(ws) for ws in self.sockets))

    async def _ping(self, ws: Any) -> float:
        started = time.perf_counter()
        await ws.send('{"type":"ping"}')
        while json.loads(await ws.recv())["type"] != "pong":
            pass
        return (time.perf_counter() - started) * 1000

    async def _listen(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in ws:
                now = time.perf_counter()
                body = json.loads(raw)
                if body["type"] == "handoff_created":
                    with self.lock:
                        self.arrivals.setdefault(body["payload"]["handoff_id"], []).append(now)
        except ConnectionClosed:
            return

    def wait_for(self, handoff_id: str, count: int, timeout: float = 10) -> list[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = list(self.arrivals.get(handoff_id, []))
            if len(got) >= count:
                return got
            time.sleep(0.002)
        return got

    def close(self) -> None:
        async def shut() -> None:
            await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)

        if self.thread.is_alive():
            # The servers stop next; the thread is a daemon.
            with contextlib.suppress(TimeoutError):
                asyncio.run_coroutine_threadsafe(shut(), self.loop).result(10)


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client

    from accounts.models import Account, User
    from flowpilot.testing.live import start_app_process
    from handoffs import services
    from sessions_app.models import AISession

    call_command("migrate", verbosity=0, interactive=False)
    logging.getLogger("handoffs").setLevel(logging.ERROR)
    account, _ = Account.objects.get_or_create(slug="bench-fanout", defaults={"name": "Fan-out"})

    def person(email: str) -> Any:
        found = User.objects.filter(email=email).first()
        return found or User.objects.create_user(
            email, "bench-password-1", account=account, role="engineer", name=email.split("@")[0]
        )

    junior = person("bench-fanout-junior@bench.example")
    seniors = [person(f"bench-fanout-senior{n}@bench.example") for n in range(SOCKETS)]
    cookies = []
    for senior in seniors:
        client = Client()
        client.force_login(senior)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")

    apps = [start_app_process({}), start_app_process({})]
    listeners = Listeners(
        [(apps[n % 2].url, cookie) for n, cookie in enumerate(cookies)]  # 25 on each process
    )
    latencies: list[float] = []
    missing = 0
    cpu_started = time.process_time()
    try:
        listeners.start()
        for round_no in range(ROUNDS + WARM_UP):
            session = AISession.objects.create(
                account=account, user=junior, problem_summary=f"Fan-out {round_no}"
            )
            committed: list[float] = []
            with transaction.atomic():
                # Registered first, so it runs first when the transaction commits.
                transaction.on_commit(lambda: committed.append(time.perf_counter()))  # noqa: B023
                result = services.create_handoff(
                    session=session, actor=junior, intent="escalate", markdown="pkg"
                )
            arrivals = listeners.wait_for(str(result.handoff.pk), SOCKETS)
            missing += SOCKETS - len(arrivals)
            if round_no >= WARM_UP:
                latencies += [(at - committed[0]) * 1000 for at in arrivals]
            time.sleep(0.05)
        cpu_ms = (time.process_time() - cpu_started) * 1000
    finally:
        try:
            listeners.close()
        finally:
            for app in apps:  # never leave the two servers running
                app.stop()
    load = os.getloadavg()[0]
    floor = statistics.median(listeners.floor)
    print(f"loopback floor (ping/pong on the same sockets) median: {floor:.2f} ms")
    print(
        f"commit → handoff_created at {SOCKETS} sockets over 2 daphne processes: "
        f"median {statistics.median(latencies):.2f} ms, p95 {p95(latencies):.2f} ms "
        f"vs {BUDGET_MS:g} ms {'ok' if p95(latencies) <= BUDGET_MS else 'OVER BUDGET'} "
        f"(n={len(latencies)}, frames missing {missing}; this process CPU {cpu_ms:.0f} ms "
        f"for {ROUNDS + WARM_UP} rounds; load average {load:.2f})"
    )
    return 0 if p95(latencies) <= BUDGET_MS and missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
