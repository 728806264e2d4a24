"""The Redis circuit breaker: after a failure callers fall back at once, and the half-open probe
runs in the background, so no request waits on a Redis that hangs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from flowpilot.resilience import CircuitBreaker

PAUSE = 0.05


@pytest.fixture(autouse=True)
def _short_pause(settings: Any) -> None:
    settings.REDIS_BREAKER_SECONDS = PAUSE


def down() -> str:
    raise ConnectionError("refused")


def test_a_failure_opens_the_breaker_and_callers_fall_back_without_calling() -> None:
    calls: list[str] = []

    def service() -> str:
        calls.append("service")
        return "up"

    breaker = CircuitBreaker("Test", probe=lambda: None)
    assert breaker.call(down, lambda: "fallback") == "fallback"
    assert breaker.is_open() and "refused" in breaker.last_error
    assert breaker.call(service, lambda: "fallback") == "fallback"
    assert calls == []


def test_the_probe_runs_in_the_background_while_callers_keep_falling_back() -> None:
    """A probe that hangs (a Redis that accepts and never answers) delays no caller."""
    release, probed = threading.Event(), threading.Event()

    def hanging_probe() -> None:
        probed.set()
        release.wait(5)

    breaker = CircuitBreaker("Test", probe=hanging_probe)
    breaker.call(down, lambda: None)
    time.sleep(PAUSE * 2)
    started = time.perf_counter()
    answers = [breaker.call(lambda: "service", lambda: "fallback") for _ in range(20)]
    assert time.perf_counter() - started < 0.5
    assert answers == ["fallback"] * 20
    assert probed.wait(2)  # one probe, started by the first caller after the pause
    release.set()
    deadline = time.monotonic() + 2
    while breaker.is_open() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not breaker.is_open()  # the probe answered: Redis is used again
    assert breaker.call(lambda: "service", lambda: "fallback") == "service"


def test_a_failed_probe_keeps_the_breaker_open_for_another_pause() -> None:
    probes: list[int] = []

    def failing_probe() -> None:
        probes.append(1)
        raise TimeoutError("still hung")

    breaker = CircuitBreaker("Test", probe=failing_probe)
    breaker.call(down, lambda: None)
    time.sleep(PAUSE * 2)
    assert breaker.call(lambda: "service", lambda: "fallback") == "fallback"
    deadline = time.monotonic() + 2
    while not probes and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.02)
    assert probes == [1]
    assert breaker.is_open() and "still hung" in breaker.last_error
    assert breaker.call(lambda: "service", lambda: "fallback") == "fallback"


def test_without_a_probe_the_next_call_after_the_pause_is_the_probe() -> None:
    breaker = CircuitBreaker("Test")
    breaker.call(down, lambda: None)
    assert breaker.call(lambda: "service", lambda: "fallback") == "fallback"
    time.sleep(PAUSE * 2)
    assert breaker.call(lambda: "service", lambda: "fallback") == "service"
    assert not breaker.is_open()
