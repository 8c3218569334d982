"""Rate limits: moving windows of requests per client, in Redis when configured, else here.

Several web processes share their budgets through Redis, counted by the `limits` library.
One process alone (the embedded default) counts in its own memory with
:class:`MemoryWindows`. `limits`' asynchronous memory storage, used before, started on each
check a sweep of every counter, each through a worker thread: 69 µs a check with one person
counted, 12 µs with thousands, against 3.6 µs here whatever their number
(`python -m bench.ratelimit`), and a request passes three or four checks.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response

from consult.web.errors import error_response


class Windows(Protocol):
    """Moving windows of hits, one per item and identifiers."""

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit and say whether it fits the item's budget (a refused hit is not
        counted)."""

    async def reset_time(self, item: RateLimitItem, *identifiers: str) -> float:
        """When the window has room again (seconds since the epoch)."""

    async def reset(self) -> None:
        """Forget every window."""

    async def close(self) -> None:
        """Let go of what the windows hold (a connection)."""


@dataclass
class _Window:
    """One key's hits within its span, oldest first."""

    span: float
    times: deque[float] = field(default_factory=deque)

    def moved_to(self, now: float) -> deque[float]:
        """The hits still within the span at `now`."""
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        return self.times


class MemoryWindows:
    """Moving windows kept in this process: per key, the times of its hits in the window.

    A hit drops its own key's expired times; the keys nobody has used for a whole window are
    dropped by a sweep that runs at most once per ``sweep_seconds``, so memory follows the
    people active within the longest window and each request costs the same whatever their
    number.
    """

    def __init__(self, clock: Callable[[], float] = time.time, sweep_seconds: float = 60.0) -> None:
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        self._windows: dict[str, _Window] = {}
        self._next_sweep = clock() + sweep_seconds

    def __len__(self) -> int:
        """Keys held: the counters of those who were active within their window."""
        return len(self._windows)

    def _hits(self, item: RateLimitItem, identifiers: tuple[str, ...], now: float) -> deque[float]:
        key = item.key_for(*identifiers)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(item.get_expiry())
        return window.moved_to(now)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_seconds
        stale = [key for key, window in self._windows.items() if not window.moved_to(now)]
        for key in stale:
            del self._windows[key]

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        times = self._hits(item, identifiers, now)
        if len(times) >= item.amount:
            return False
        times.append(now)
        return True

    async def reset_time(self, item: RateLimitItem, *identifiers: str) -> float:
        now = self._clock()
        times = self._hits(item, identifiers, now)
        return times[0] + item.get_expiry() if times else now

    async def reset(self) -> None:
        self._windows.clear()

    async def close(self) -> None:
        return None


class RedisWindows:
    """Moving windows in Redis, shared by every web process, counted by `limits`."""

    def __init__(self, redis_url: str) -> None:
        self._storage = RedisStorage(
            "async+" + redis_url, implementation="redispy", key_prefix="consult-limits"
        )
        self._limiter = MovingWindowRateLimiter(self._storage)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return await self._limiter.hit(item, *identifiers)

    async def reset_time(self, item: RateLimitItem, *identifiers: str) -> float:
        window = await self._limiter.get_window_stats(item, *identifiers)
        return window.reset_time

    async def reset(self) -> None:
        await self._storage.reset()

    async def close(self) -> None:
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()


# The settings' few budgets, parsed once rather than on each request.
_parsed = lru_cache(maxsize=64)(parse)


class RateLimiter:
    """Counts requests per client IP in a moving window and answers 429 when over."""

    def __init__(self, redis_url: str | None = None) -> None:
        self.windows: Windows = RedisWindows(redis_url) if redis_url else MemoryWindows()

    async def check(
        self,
        request: Request,
        spec: str,
        scope_name: str | None = None,
        client: str | None = None,
    ) -> Response | None:
        """None when the request fits its budget, else the 429 response to send.

        Counted per client IP address unless `client` names another key (an account).
        """
        item = _parsed(spec)
        client = client or (request.client.host if request.client else "unknown")
        identifiers = (scope_name or request.url.path, client)
        if await self.windows.hit(item, *identifiers):
            return None
        reset_time = await self.windows.reset_time(item, *identifiers)
        retry_after = max(1, math.ceil(reset_time - time.time()))
        return error_response(request, 429, headers={"Retry-After": str(retry_after)})

    async def reset(self) -> None:
        """Forget every counter (tests and operators)."""
        await self.windows.reset()

    async def close(self) -> None:
        """Close the connection to Redis, if the counters are there (the process stops)."""
        await self.windows.close()
