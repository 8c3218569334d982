"""Moving windows of requests: the same budget in this process's memory and in Redis."""

from __future__ import annotations

import time
import uuid

import pytest
from limits import parse

from consult.web.ratelimit import MemoryWindows, RedisWindows
from tests.support.services import redis_url

THREE_A_MINUTE = parse("3/minute")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.anyio
async def test_a_budget_refuses_what_is_over_it_and_frees_up_as_its_window_moves() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    answers = []
    for _ in range(4):
        answers.append(await windows.hit(THREE_A_MINUTE, "vote", "user:1"))
        clock.now += 10
    assert answers == [True, True, True, False]
    # The first hit was at 1,000,000: room again a minute after it, not before.
    assert await windows.reset_time(THREE_A_MINUTE, "vote", "user:1") == 1_000_060.0
    clock.now = 1_000_059.9
    assert not await windows.hit(THREE_A_MINUTE, "vote", "user:1")
    clock.now = 1_000_060.0
    assert await windows.hit(THREE_A_MINUTE, "vote", "user:1")
    assert not await windows.hit(THREE_A_MINUTE, "vote", "user:1")
    # Someone else, and the same person elsewhere, have budgets of their own.
    assert await windows.hit(THREE_A_MINUTE, "vote", "user:2")
    assert await windows.hit(THREE_A_MINUTE, "contribute", "user:1")


@pytest.mark.anyio
async def test_refused_requests_do_not_use_up_the_budget() -> None:
    clock = Clock()
    windows = MemoryWindows(clock)
    for _ in range(3):
        assert await windows.hit(THREE_A_MINUTE, "any", "192.0.2.1")
    for _ in range(50):  # hammering while refused
        clock.now += 1
        assert not await windows.hit(THREE_A_MINUTE, "any", "192.0.2.1")
    clock.now += 10  # a minute after the three accepted
    assert [await windows.hit(THREE_A_MINUTE, "any", "192.0.2.1") for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


@pytest.mark.anyio
async def test_counters_of_people_gone_quiet_are_dropped_and_the_active_kept() -> None:
    clock = Clock()
    windows = MemoryWindows(clock, sweep_seconds=60)
    for person in range(10_000):
        await windows.hit(THREE_A_MINUTE, "any", f"user:{person}")
    assert len(windows) == 10_000
    clock.now += 30
    await windows.hit(THREE_A_MINUTE, "any", "user:still-here")
    clock.now += 31  # the first ten thousand fell out of their window; one sweep is due
    await windows.hit(THREE_A_MINUTE, "any", "user:new")
    assert len(windows) == 2
    # The one kept still counts its earlier hit.
    assert await windows.hit(THREE_A_MINUTE, "any", "user:still-here")
    assert await windows.hit(THREE_A_MINUTE, "any", "user:still-here")
    assert not await windows.hit(THREE_A_MINUTE, "any", "user:still-here")


@pytest.mark.anyio
@pytest.mark.redis
async def test_web_processes_share_one_budget_through_redis() -> None:
    url = redis_url()
    first, second = RedisWindows(url), RedisWindows(url)
    person = f"user:{uuid.uuid4()}"
    try:
        started = time.time()
        answers = [
            await windows.hit(THREE_A_MINUTE, "vote", person) for windows in (first, second, first)
        ]
        assert answers == [True, True, True]
        assert not await second.hit(THREE_A_MINUTE, "vote", person)
        reset = await second.reset_time(THREE_A_MINUTE, "vote", person)
        assert started + 59 <= reset <= time.time() + 60
        assert await first.hit(THREE_A_MINUTE, "vote", f"user:{uuid.uuid4()}")
    finally:
        await first.close()
        await second.close()
