"""The arq worker as tests start it, and waiting on what it does.

Every worker test sets the worker's environment with `worker_environment`: a worker started
with the defaults would load the real embedding model and start clustering processes, tens of
seconds that no test of the queue needs. Tests wait for the state they check, with a generous
deadline, never for a worker's timing: a burst worker on a loaded machine may stop before a job
that is about to become visible to it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the killed-worker test imports this module in a bare worker process
    import pytest

# Long enough for a synthesis of the demo on two busy cores, short enough to end a stuck test.
DEADLINE_SECONDS = 300.0


def worker_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, redis_url: str, **settings: str
) -> None:
    """The variables `worker.settings.startup` reads its settings from: this database and
    Redis, the hashing embedder and no clustering processes, then `settings` (an `smtp_port`
    keyword sets `CONSULT_SMTP_PORT`). Passwords are hashed as the whole test session sets."""
    values = {
        "database_url": database_url,
        "redis_url": redis_url,
        "embedding_model": "hashing",
        "synthesis_processes": "0",
        **settings,
    }
    for name, value in values.items():
        monkeypatch.setenv(f"CONSULT_{name.upper()}", value)


def make_worker(queue_name: str, redis_url: str, burst: bool = False) -> Any:
    """An arq worker of the application's job functions on one queue (built inside the event
    loop it will run in: arq binds a worker to the loop current when it is built)."""
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from worker.settings import WorkerSettings, shutdown, startup

    return Worker(
        functions=WorkerSettings.functions,
        on_startup=startup,
        on_shutdown=shutdown,
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=queue_name,
        burst=burst,
        poll_delay=0.05,
        handle_signals=False,
    )


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    seconds: float = DEADLINE_SECONDS,
    every: float = 0.1,
) -> None:
    """Wait until `condition()` holds, checking it `every` so many seconds; fail after
    `seconds`."""
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"still not the case after {seconds:.0f} s"
        await asyncio.sleep(every)


async def work_until(
    worker: Any, condition: Callable[[], Awaitable[bool]], seconds: float = DEADLINE_SECONDS
) -> None:
    """Run `worker` until `condition()` holds and the jobs it started have returned, then stop
    it. (A job writes what the condition reads before it returns, and closing a worker cancels
    the jobs still running.)"""
    working = asyncio.create_task(worker.main())

    async def done() -> bool:
        if working.done():
            working.result()  # a worker that stopped on its own failed to start
            raise AssertionError("the worker stopped")
        return await condition()

    async def idle() -> bool:
        return all(job.done() for job in worker.tasks.values())

    try:
        await eventually(done, seconds)
        await eventually(idle, seconds)
    finally:
        working.cancel()
        jobs = list(worker.tasks.values())
        for job in jobs:  # still running only when the condition never came true
            job.cancel()
        await asyncio.gather(working, *jobs, return_exceptions=True)
        worker.tasks.clear()
        await worker.close()


async def forget_arq_jobs(redis_url: str) -> None:
    """Delete arq's job, result and progress keys: run ids repeat between tests (each test has
    a database of its own), and arq ignores a job whose id it has already seen."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match="arq:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
