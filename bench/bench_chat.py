"""
Chat turn benchmarks, on PostgreSQL database ``flowpilot_bench`` with the offline assistant.

1. ``chat_turn_overhead``: server time of ``POST /api/v1/ai-sessions/{id}/messages`` (auth,
   middleware, saving both steps, prompt building, marker parsing, lane merge, facts, fix,
   serialising) minus the time spent inside the model call, at a session with 100 steps (the
   turn's two new steps are removed after each sample so the size stays 100).
   Budget: p95 <= 40 ms. The streaming page path (record the reply, render the sanitised step
   and the task lane) is measured the same way as ``chat_stream_finish``.
2. ``first_token_latency``: a real daphne server streams a reply (SSE) from a provider that
   yields a token every 40 ms, each stamped with the wall-clock time it was yielded; a plain
   HTTP client measures when each token arrives. Budget: p95 of the first token <= 50 ms.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import statistics
import sys
import time
from collections.abc import Generator
from typing import Any

from benchsupport import bench_environment, ensure_database  # noqa: E402

bench_environment(redis=True)

TURN_BUDGET_MS = 40.0
FIRST_TOKEN_BUDGET_MS = 50.0
STEPS = 100
TURNS = 150
WARMUP = 15
STREAMS = 25
TOKEN_INTERVAL_S = 0.04
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway bench user
ANSWERS = [
    "Only this user is affected. Webmail works in the browser.",
    "The password was changed yesterday.",
    "Outlook shows Need password in the status bar.",
    "TcpTestSucceeded : True",
    "What should I do next? Suggest a fix.",
    "Still the same after that, no luck.",
]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


class TimedClient:
    """Wraps a client and adds up the time spent inside it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.label = inner.name, inner.label
        self.spent = 0.0

    def complete(self, request: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.complete(request)
        finally:
            self.spent += time.perf_counter() - started

    def stream(self, request: Any) -> Any:
        return self.inner.stream(request)


class TimerClient:
    """Yields tokens on a timer, each carrying the wall-clock time it was yielded."""

    name = "timer"
    label = "Timer assistant"

    def complete(self, request: Any) -> Any:
        raise NotImplementedError

    def stream(self, request: Any) -> Any:
        from flowpilot.llm import LLMResult, LLMStream

        def tokens() -> Generator[str, None, Any]:
            for _ in range(5):
                time.sleep(TOKEN_INTERVAL_S)
                yield f"t={time.time():.6f} "
            return LLMResult("done", 1, 5, "timer", "timer")

        return LLMStream(tokens())


def make_session(user: Any, steps: int) -> Any:
    from sessions_app.models import AISessionStep, StepRole
    from sessions_app.services import sessions

    session, _ = sessions.create_session(
        user=user, problem="Outlook keeps asking for a password and mail is not syncing"
    )
    rows = AISessionStep.objects.bulk_create(
        AISessionStep(
            account_id=user.account_id,
            session=session,
            role=StepRole.ASSISTANT if index % 2 == 0 else StepRole.USER,
            content=f"Earlier message {index}: checked the **cached credentials** again.",
            author=None if index % 2 == 0 else user,
        )
        for index in range(steps - 1)
    )
    # Each earlier message has its reply (as stored turns do): no turn answers a backlog first.
    previous = session.steps.filter(role=StepRole.USER).order_by("pk").first()
    for row in rows:
        if row.role == StepRole.ASSISTANT and previous is not None:
            row.reply_to = previous
        previous = row if row.role == StepRole.USER else None
    AISessionStep.objects.bulk_update(rows, ["reply_to"])
    return session


def bench_turns(user: Any) -> tuple[list[float], list[float], list[float]]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    from accounts.services.tokens import issue_token_pair
    from flowpilot.llm import client as llm_client
    from flowpilot.llm import get_llm_client
    from sessions_app import views
    from sessions_app.models import AISessionStep
    from sessions_app.services import chat

    timed = TimedClient(get_llm_client(provider="offline"))
    # The LLM layer's one choke point: every model call of the turn gets the timed client.
    llm_client.get_llm_client = lambda **_: timed  # type: ignore[assignment]
    session = make_session(user, STEPS)
    handler = WSGIHandler()
    token = issue_token_pair(user)["access"]
    url = f"/api/v1/ai-sessions/{session.pk}/messages"

    def api_turn(content: str) -> tuple[float, float]:
        body = json.dumps({"content": content}).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": url, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "HTTP_HOST": "localhost",
            "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {token}",
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }  # fmt: skip
        status: list[str] = []
        timed.spent = 0.0
        started = time.perf_counter()
        response = handler(environ, lambda s, h, *a: status.append(s))
        b"".join(response)
        response.close()
        total = time.perf_counter() - started
        if not status[0].startswith("201"):
            raise RuntimeError(f"turn failed: {status[0]}")
        return (total - timed.spent) * 1000, timed.spent * 1000

    factory = RequestFactory()

    def stream_finish(content: str) -> float:
        """The page path after the model: store the reply, render the step and the lane."""
        step = chat.add_user_step(session=session, user=user, content=content)
        result = timed.inner.complete(chat.build_chat_request(session, step))
        request = factory.get(f"/sessions/{session.pk}")
        request.user = user
        started = time.perf_counter()
        turn = chat.record_reply(session=session, user_step=step, result=result)
        views._render_turn(request, session, turn)  # type: ignore[arg-type]
        return (time.perf_counter() - started) * 1000

    overhead, model, finish = [], [], []
    for index in range(WARMUP + TURNS):
        keep = set(AISessionStep.objects.filter(session=session).values_list("pk", flat=True))
        spent_ms, model_ms = api_turn(ANSWERS[index % len(ANSWERS)])
        finish_ms = stream_finish(ANSWERS[(index + 1) % len(ANSWERS)])
        AISessionStep.objects.filter(session=session).exclude(pk__in=keep).delete()
        if index >= WARMUP:
            overhead.append(spent_ms)
            model.append(model_ms)
            finish.append(finish_ms)
    assert AISessionStep.objects.filter(session=session).count() == STEPS
    session.delete()
    return overhead, model, finish


def login(host: str, port: int, email: str) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/login")
    response = conn.getresponse()
    response.read()
    cookies = response.headers.get_all("Set-Cookie") or []
    csrf = next(c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith("csrftoken="))
    body = f"email={email}&password={PASSWORD}&csrfmiddlewaretoken={csrf}"
    conn.request(
        "POST", "/login", body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Cookie": f"csrftoken={csrf}", "Referer": f"http://{host}:{port}/login"},
    )  # fmt: skip
    response = conn.getresponse()
    response.read()
    cookies = response.headers.get_all("Set-Cookie") or []
    session = next(c.split(";")[0] for c in cookies if c.startswith("sessionid="))
    conn.close()
    return f"csrftoken={csrf}; {session}"


def bench_first_token(user: Any) -> tuple[list[float], list[float]]:
    from flowpilot.llm import client as llm_client
    from flowpilot.testing.live import start_live_server
    from sessions_app.services import chat

    llm_client.get_llm_client = lambda **_: TimerClient()  # type: ignore[assignment]
    session = make_session(user, 4)
    server = start_live_server()  # forked: the child inherits the timer provider
    first, every = [], []
    try:
        cookie = login(server.host, server.port, user.email)
        for index in range(STREAMS):
            step = chat.add_user_step(session=session, user=user, content=f"go {index}")
            conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
            conn.request(
                "GET", f"/sessions/{session.pk}/steps/{step.pk}/stream",
                headers={"Cookie": cookie, "Accept": "text/event-stream"},
            )  # fmt: skip
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"stream answered {response.status}")
            seen = 0
            while True:
                line = response.fp.readline()
                if not line:
                    break
                now = time.time()
                match = re.search(rb"t=(\d+\.\d+)", line)
                if line.startswith(b"data:") and match:
                    latency = (now - float(match.group(1))) * 1000
                    every.append(latency)
                    if seen == 0:
                        first.append(latency)
                    seen += 1
                if line.startswith(b"event: done") or line.startswith(b"event: fail"):
                    response.fp.readline()
                    break
            conn.close()
    finally:
        server.stop()
        session.delete()
    return first, every


def db_round_trip(user: Any) -> float:
    from accounts.models import User

    samples = []
    for _ in range(200):
        started = time.perf_counter()
        list(User.objects.filter(pk=user.pk))
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> int:
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from accounts.models import Account, Role, User

    account, _ = Account.objects.get_or_create(slug="bench-chat", defaults={"name": "Bench"})
    user = User.objects.filter(email="bench-chat@bench.example").first()
    if user is None:
        user = User.objects.create_user(
            "bench-chat@bench.example", PASSWORD, account=account, role=Role.ENGINEER,
            name="Bench Engineer",
        )  # fmt: skip

    db_ms = db_round_trip(user)
    overhead, model, finish = bench_turns(user)
    first, every = bench_first_token(user)

    ok_turn = p95(overhead) <= TURN_BUDGET_MS
    ok_finish = p95(finish) <= TURN_BUDGET_MS
    ok_first = p95(first) <= FIRST_TOKEN_BUDGET_MS

    def verdict(ok: bool) -> str:
        return "OK" if ok else "OVER"

    print(f"db_round_trip (trivial query, machine-load calibration) p50: {db_ms:.2f} ms")
    print(f"chat_turn_overhead (API turn at {STEPS} steps, offline) p50: "
          f"{statistics.median(overhead):.1f} ms")  # fmt: skip
    print(f"chat_turn_overhead p95: {p95(overhead):.1f} ms vs budget {TURN_BUDGET_MS:.0f} ms "
          f"({verdict(ok_turn)}, n={len(overhead)}; model time excluded, "
          f"median {statistics.median(model):.1f} ms)")  # fmt: skip
    print(f"chat_stream_finish (store reply, render step and lane) p95: {p95(finish):.1f} ms "
          f"vs budget {TURN_BUDGET_MS:.0f} ms ({verdict(ok_finish)})")  # fmt: skip
    print(f"first_token_latency p50: {statistics.median(first):.1f} ms")
    print(f"first_token_latency p95: {p95(first):.1f} ms vs budget {FIRST_TOKEN_BUDGET_MS:.0f} ms "
          f"({verdict(ok_first)}, n={len(first)}; all tokens p95 {p95(every):.1f} ms)")  # fmt: skip
    return 0 if ok_turn and ok_first and ok_finish else 1


if __name__ == "__main__":
    sys.exit(main())
