"""
Offline assistant benchmark: one chat turn of the runbook assistant itself (no database, no
HTTP) on a 30-step session with every runbook loaded.

``offline_turn``: ``OfflineClient.complete`` for the 30th step (15 engineer messages, 14
assistant replies, the lane, facts and an active fix in the context). Each sample ends with a
message never seen before, so its reading is computed; the earlier messages are read from the
per-process cache, as in a running server. Budget: p95 <= 10 ms of the turn's CPU time
(``time.thread_time``: the assistant's own cost; on a shared, overloaded machine wall-clock
p95 mostly measures the scheduler, so it is printed alongside, unbudgeted).

``offline_turn_cold`` clears every cache first (the first turn of a fresh worker process),
same budget.
"""

from __future__ import annotations

import statistics
import sys
import time

from flowpilot.llm import LLMRequest, Message
from flowpilot.llm.offline import OfflineClient, chat, matching
from flowpilot.llm.offline.knowledge import load_runbooks
from flowpilot.llm.offline.language import _clause_signals

BUDGET_MS = 10.0
SAMPLES = 200
WARMUP = 10
PROBLEM = "VPN not connecting for remote staff since this morning"
ANSWERS = [
    "All 12 home users are affected, FortiClient, since last night's firewall firmware update",
    "same on a phone hotspot",
    "no error code, it just sits at 40% and times out",
    "ComputerName     : vpn.contoso.com\nRemoteAddress    : 203.0.113.10\nTcpTestSucceeded : True",
    "Name      InterfaceDescription               Status    AdminStatus\n"
    "----      --------------------               ------    -----------\n"
    "Ethernet2 Fortinet Virtual Ethernet Adapter  Up        Up",
    "what else should I check?",
    "the service is running, StartType Automatic",
    "it drops every ten minutes once connected",
    "not only her, the whole sales team",
    "what should I do?",
    "checked the gateway log, nothing obvious",
    "we rolled the firmware back yesterday evening",
    "still the same this morning",
    "what next?",
]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def session(last: str) -> LLMRequest:
    client = OfflineClient()
    messages: list[Message] = []
    for text in [PROBLEM, *ANSWERS[:14]]:
        messages.append(Message("user", text))
        request = _request(messages)
        messages.append(Message("assistant", client.complete(request).text))
    messages.append(Message("user", last))
    return _request(messages)


def _request(messages: list[Message]) -> LLMRequest:
    return LLMRequest(
        purpose="chat",
        tier="heavy",
        system="",
        messages=list(messages),
        context={
            "problem": PROBLEM,
            "facts": ["Several users cannot connect (“All 12 home users are affected”)."],
            "open_questions": ["Does the same VPN work from a different network?"],
            "open_checks": ["Test reachability of the VPN gateway", "Check the VPN client service"],
            "active_fix": None,
        },
    )


def clear_caches() -> None:
    matching._cache.clear()
    matching._closest_cache.clear()
    chat._switch_cache.clear()
    _clause_signals.cache_clear()


def measure(*, cold: bool) -> tuple[list[float], list[float]]:
    client = OfflineClient()
    base = session(ANSWERS[14 % len(ANSWERS)])
    timings: list[float] = []
    walls: list[float] = []
    for index in range(SAMPLES + WARMUP):
        last = f"{ANSWERS[index % len(ANSWERS)]} (sample {index})"
        request = LLMRequest(
            purpose="chat",
            tier="heavy",
            system="",
            messages=[*base.messages[:-1], Message("user", last)],
            context=base.context,
        )
        if cold:
            clear_caches()
        started, wall = time.thread_time(), time.perf_counter()
        client.complete(request)
        elapsed = (time.thread_time() - started) * 1000
        if index >= WARMUP:
            timings.append(elapsed)
            walls.append((time.perf_counter() - wall) * 1000)
    return timings, walls


def main() -> int:
    runbooks = load_runbooks()
    assert len(runbooks) >= 30, len(runbooks)
    failed = 0
    for name, cold in (("offline_turn", False), ("offline_turn_cold", True)):  # noqa: B007
        timings, walls = measure(cold=cold)
        value = p95(timings)
        budget = f"vs budget {BUDGET_MS:.0f} ms"
        print(
            f"{name}: p95 {value:.2f} ms CPU {budget} (median {statistics.median(timings):.2f} "
            f"ms; wall p95 {p95(walls):.2f} ms, median {statistics.median(walls):.2f} ms; "
            f"{len(runbooks)} runbooks, 30 steps)"
        )
        failed += value > BUDGET_MS
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
