"""The Redis publisher: a publish never waits on Redis, and events leave in order."""

from __future__ import annotations

import asyncio
import time

import pytest
from channels.layers import get_channel_layer

from flowpilot.realtime import flush_published, publish

pytestmark = pytest.mark.services


def test_publish_returns_at_once_and_events_arrive_in_order() -> None:
    layer = get_channel_layer()
    assert layer is not None and "Redis" in type(layer).__name__

    async def scenario() -> tuple[list[int], float]:
        channel = await layer.new_channel()
        await layer.group_add("test.publisher", channel)
        started = time.perf_counter()
        for n in range(20):
            publish("test.publisher", "numbered", {"n": n})
        spent = time.perf_counter() - started
        got = [
            (await asyncio.wait_for(layer.receive(channel), 10))["payload"]["n"] for _ in range(20)
        ]
        await layer.group_discard("test.publisher", channel)
        return got, spent

    got, spent = asyncio.run(scenario())
    assert got == list(range(20))
    assert spent < 0.5  # twenty hand-offs to the publisher thread, no Redis round trip each
    assert flush_published(timeout=5)


def test_an_unreachable_redis_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = get_channel_layer()

    async def refused(group: str, message: dict[str, object]) -> None:
        raise ConnectionError("refused")

    monkeypatch.setattr(layer, "group_send", refused)
    from flowpilot.resilience import redis_breaker

    try:
        publish("test.publisher", "lost", {})
        assert flush_published(timeout=5)
        assert "Channel layer unreachable: lost to test.publisher not pushed" in caplog.text
    finally:
        redis_breaker.reset()


def test_a_payload_given_as_a_function_is_built_on_the_publisher_thread() -> None:
    import threading

    layer = get_channel_layer()
    built_on: list[str] = []

    def payload() -> dict[str, object]:
        built_on.append(threading.current_thread().name)
        return {"n": 1}

    async def scenario() -> dict[str, object]:
        channel = await layer.new_channel()
        await layer.group_add("test.publisher.lazy", channel)
        publish("test.publisher.lazy", "lazy", payload)
        got = await asyncio.wait_for(layer.receive(channel), 10)
        await layer.group_discard("test.publisher.lazy", channel)
        return got

    got = asyncio.run(scenario())
    assert got["event"] == "lazy" and got["payload"] == {"n": 1}
    assert built_on == ["realtime-publisher"]
    assert flush_published(timeout=5)


def test_a_payload_function_that_fails_is_logged_and_the_next_event_still_leaves(
    caplog: pytest.LogCaptureFixture,
) -> None:
    layer = get_channel_layer()

    def broken() -> dict[str, object]:
        raise RuntimeError("template missing")

    async def scenario() -> dict[str, object]:
        channel = await layer.new_channel()
        await layer.group_add("test.publisher.broken", channel)
        publish("test.publisher.broken", "broken", broken)
        publish("test.publisher.broken", "after", {"ok": True})
        got = await asyncio.wait_for(layer.receive(channel), 10)
        await layer.group_discard("test.publisher.broken", channel)
        return got

    got = asyncio.run(scenario())
    assert got["event"] == "after"
    assert flush_published(timeout=5)
    assert "Could not publish broken to test.publisher.broken" in caplog.text
