"""
Sign-in with Redis down against sign-in with Redis up. Budget: p95 with Redis down <= 2x p95
with Redis up, for each way Redis can be down, zero errors.

``POST /api/v1/auth/login/json`` (right password; and a wrong one from a new client address
each time, which reads and writes the failure counters) runs through the whole Django stack
in-process (middleware, DRF, the throttle, minting) in one child process per mode, so each
mode starts with a fresh circuit breaker, as a restarted server would:

- ``up``: the real Redis;
- ``refused``: REDIS_URL points at a closed port (connect fails at once);
- ``hung``: REDIS_URL points at a listener that accepts and never answers (every command would
  wait REDIS_SOCKET_TIMEOUT: only the circuit breaker keeps that off each request).

The first request of a down mode pays for finding out (the one failed call opens the breaker);
it is measured like every other. Database ``flowpilot_bench``. Wall and CPU time (the request
thread's) per request, medians of several rounds are printed beside the budget.
"""

from __future__ import annotations

import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment(redis=True)

RATIO_BUDGET = 2.0
SIGNINS = 60
WARMUP = 5
ROUNDS = 3
# A fresh address per run: the failure counters of a previous run (kept in Redis) stay out.
EMAIL = f"bench-signin-{os.getpid()}@bench.example"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway bench user
MODES = ("up", "refused", "hung")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]


# --- the child: one mode ----------------------------------------------------------------------


def login(handler: Any, password: str, ip: str) -> tuple[int, float, float]:
    body = json.dumps({"email": EMAIL, "password": password}).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/auth/login/json", "SCRIPT_NAME": "",
        "QUERY_STRING": "", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "HTTP_HOST": "localhost", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": ip,
        "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }  # fmt: skip
    status: list[str] = []
    cpu, wall = time.thread_time(), time.perf_counter()
    response = handler(environ, lambda s, h, *a, out=status: out.append(s))
    b"".join(response)
    response.close()
    wall_ms = (time.perf_counter() - wall) * 1000
    cpu_ms = (time.thread_time() - cpu) * 1000
    return int(status[0].split()[0]), wall_ms, cpu_ms


def child(mode: str) -> None:
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    from accounts.models import Account, Role, User
    from flowpilot.resilience import redis_breaker

    account, _ = Account.objects.get_or_create(slug="bench-signin", defaults={"name": "Bench"})
    User.objects.create_user(EMAIL, PASSWORD, account=account, role=Role.ENGINEER)
    handler = WSGIHandler()
    out: dict[str, Any] = {"mode": mode, "errors": 0}
    for kind, password, expected in (("right", PASSWORD, 200), ("wrong", "not-it", 401)):
        walls, cpus = [], []
        for number in range(WARMUP + SIGNINS):
            # A new address for each wrong password: the per-(address, IP) lock never trips.
            ip = f"10.{os.getpid() % 250}.{number // 250}.{number % 250 + 1}"
            code, wall, cpu = login(handler, password, ip)
            if code != expected:
                out["errors"] += 1
            # The very first request of the process counts (it finds Redis down); the warm-up
            # only settles the right-password series, which runs first.
            if number >= WARMUP or (kind == "right" and number == 0 and mode != "up"):
                walls.append(wall)
                cpus.append(cpu)
        out[kind] = {
            "p50_wall": statistics.median(walls),
            "p95_wall": p95(walls),
            "max_wall": max(walls),
            "p95_cpu": p95(cpus),
        }
    out["breaker_open"] = redis_breaker.is_open()
    User.objects.filter(email=EMAIL).delete()
    print("RESULT " + json.dumps(out))


# --- the parent -------------------------------------------------------------------------------


class Blackhole:
    """A TCP listener that accepts connections and never answers: a hung Redis."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_mode(mode: str, blackhole: Blackhole) -> dict[str, Any]:
    env = dict(os.environ)
    if mode == "refused":
        env["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    elif mode == "hung":
        env["REDIS_URL"] = f"redis://127.0.0.1:{blackhole.port}/0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    done = subprocess.run(  # noqa: S603 - this script, run as a child
        [sys.executable, __file__, "--child", mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    raise SystemExit(f"{mode}: no result\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    blackhole = Blackhole()
    rounds: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for number in range(ROUNDS):
        for mode in MODES:
            rounds[mode].append(run_mode(mode, blackhole))
            print(f"round {number + 1}/{ROUNDS} {mode}: done", file=sys.stderr, flush=True)

    def median(mode: str, kind: str, key: str) -> float:
        return statistics.median(result[kind][key] for result in rounds[mode])

    load = os.getloadavg()
    print(
        f"sign-in, Redis up vs down ({SIGNINS} sign-ins per series, median of {ROUNDS} rounds; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    ok = True
    for kind in ("right", "wrong"):
        base = median("up", kind, "p95_wall")
        cpu_base = median("up", kind, "p95_cpu")
        for mode in MODES:
            p95_wall = median(mode, kind, "p95_wall")
            ratio = p95_wall / base
            cpu_ratio = median(mode, kind, "p95_cpu") / cpu_base
            errors = sum(result["errors"] for result in rounds[mode])
            verdict = ""
            if mode != "up":
                passed = ratio <= RATIO_BUDGET and errors == 0
                ok = ok and passed
                verdict = (
                    f"  ratio {ratio:.2f} (cpu {cpu_ratio:.2f}; budget <= {RATIO_BUDGET:.1f}) "
                    + ("OK" if passed else "OVER")
                )
            print(
                f"  {kind:5} password  {mode:7}  p50 {median(mode, kind, 'p50_wall'):7.1f} ms  "
                f"p95 {p95_wall:7.1f} ms  max {median(mode, kind, 'max_wall'):7.1f} ms  "
                f"cpu p95 {median(mode, kind, 'p95_cpu'):6.1f} ms  errors {errors}{verdict}"
            )
    for mode in ("refused", "hung"):
        opened = all(result["breaker_open"] for result in rounds[mode])
        print(f"  breaker open at the end ({mode}): {opened}")
        ok = ok and opened
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
