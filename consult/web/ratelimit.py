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
        self._hits: dict[str, deque[float]] = {}
        self._spans: dict[str, float] = {}
        self._next_sweep = clock() + sweep_seconds

    def __len__(self) -> int:
        """Keys held: the counters of those who were active within their window."""
        return len(self._hits)

    def _window(self, key: str, span: float, now: float) -> deque[float]:
        times = self._hits.get(key)
        if times is None:
            times = self._hits[key] = deque()
            self._spans[key] = span
        while times and times[0] <= now - span:
            times.popleft()
        return times

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_seconds
        spans = self._spans
        stale = [
            key for key, times in self._hits.items() if not times or times[-1] <= now - spans[key]
        ]
        for key in stale:
            del self._hits[key]
            del self._spans[key]

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        span = item.get_expiry()
        times = self._window(item.key_for(*identifiers), span, now)
        if len(times) >= item.amount:
            return False
        times.append(now)
        return True

    async def reset_time(self, item: RateLimitItem, *identifiers: str) -> float:
        now = self._clock()
        span = item.get_expiry()
        times = self._window(item.key_for(*identifiers), span, now)
        return times[0] + span if times else now

    async def reset(self) -> None:
        self._hits.clear()
        self._spans.clear()

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
