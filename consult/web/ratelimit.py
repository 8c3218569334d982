"""Rate limits on top of the `limits` library (Redis when configured, memory otherwise)."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request
from starlette.responses import Response

from consult.web.errors import error_response


class RateLimiter:
    """Counts requests per client IP in a moving window and answers 429 when over."""

    def __init__(self, redis_url: str | None = None) -> None:
        self.storage: Storage
        if redis_url:
            # Shared by every web process, so the budget holds across the cluster.
            self.storage = RedisStorage(
                "async+" + redis_url, implementation="redispy", key_prefix="consult-limits"
            )
        else:
            self.storage = MemoryStorage()
        self.limiter = MovingWindowRateLimiter(self.storage)

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
        item = parse(spec)
        client = client or (request.client.host if request.client else "unknown")
        identifiers = (scope_name or request.url.path, client)
        if await self.limiter.hit(item, *identifiers):
            return None
        window = await self.limiter.get_window_stats(item, *identifiers)
        retry_after = max(1, math.ceil(window.reset_time - time.time()))
        return error_response(request, 429, headers={"Retry-After": str(retry_after)})

    async def reset(self) -> None:
        """Forget every counter (tests and operators)."""
        await self.storage.reset()

    async def close(self) -> None:
        """Close the connection to Redis, if the counters are there (the process stops)."""
        bridge = getattr(self.storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None:
            await client.aclose()
