"""What `/readyz` checks: the database and, when configured, Redis, each within a short time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from sqlalchemy import text

from consult.web.services import Services

logger = logging.getLogger("consult.web")

# A probe answers within a load balancer's timeout even when a service hangs.
CHECK_SECONDS = 2.0
OK, UNREACHABLE = "ok", "unreachable"


async def _answers(check: Awaitable[object], service: str) -> str:
    try:
        await asyncio.wait_for(check, CHECK_SECONDS)
    except Exception as error:  # any failure means not ready; the reason goes to the log
        logger.warning("readiness: %s unreachable: %s", service, error)
        return UNREACHABLE
    return OK


async def _database(services: Services) -> None:
    async with services.started.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def readiness(services: Services) -> dict[str, str]:
    """Each service the web process needs, `ok` or `unreachable`."""
    checks = {"database": _answers(_database(services), "database")}
    if services.settings.redis_url:
        checks["redis"] = _answers(_redis(services.settings.redis_url), "redis")
    results = await asyncio.gather(*checks.values())
    return dict(zip(checks, results, strict=True))
