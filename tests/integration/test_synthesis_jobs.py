"""Synthesis runs survive what production does to them: killed workers, a flushed Redis, stops."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.db import create_engine, create_session_factory, utcnow
from consult.jobs import ArqQueue, InProcessQueue, job_context, resume_synthesis_runs, synthesize
from consult.synthesis.models import RunStage, RunStatus, SynthesisMembership, SynthesisRun
from consult.synthesis.runs import run_job_id
from tests.conftest import REDIS_URL, make_settings, service_missing
from tests.integration.seeding import queued_demo_run

ROOT = Path(__file__).resolve().parents[2]
# The Redis database number these tests empty and use (the others stay untouched).
TEST_REDIS_DB = 13


async def read_run(factory: async_sessionmaker[AsyncSession], run_id: int) -> SynthesisRun:
    async with factory() as session:
        run = await session.get(SynthesisRun, run_id)
        assert run is not None
        return run


async def assert_complete_once(factory: async_sessionmaker[AsyncSession], run_id: int) -> None:
    """The run succeeded and each contribution sits once per scope (no half-saved leftovers)."""
    run = await read_run(factory, run_id)
    assert run.status is RunStatus.SUCCEEDED, run.error
    async with factory() as session:
        duplicates = await session.scalar(
            select(func.count()).select_from(
                select(SynthesisMembership.scope, SynthesisMembership.contribution_id)
                .where(SynthesisMembership.run_id == run_id)
                .group_by(SynthesisMembership.scope, SynthesisMembership.contribution_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        members = await session.scalar(
            select(func.count())
            .select_from(SynthesisMembership)
            .where(SynthesisMembership.run_id == run_id, SynthesisMembership.scope == "")
        )
    assert duplicates == 0
    assert members == run.contribution_count > 200


def later(minutes: float) -> Callable[[], datetime]:
    return lambda: utcnow() + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- in-process


def test_an_interrupted_in_process_run_is_recorded_and_resumed_by_the_sweep(
    database_url: str,
) -> None:
    settings = make_settings(database_url)

    async def scenario() -> None:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        try:
            run_id = await queued_demo_run(factory)
            queue = InProcessQueue(job_context(settings, factory))
            await queue.enqueue(synthesize, run_id, job_id=run_job_id(run_id))
            while (await read_run(factory, run_id)).stage in (RunStage.QUEUED, RunStage.LOADING):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            await queue.close(grace_seconds=0)  # the web process stops mid-run
            stopped = await read_run(factory, run_id)
            assert stopped.status is RunStatus.QUEUED
            assert stopped.error.startswith("interrupted during the")

            context = job_context(settings, factory) | {"clock": later(3)}
            restarted = InProcessQueue(context)
            await restarted.enqueue(resume_synthesis_runs, job_id="sweep")
            await restarted.drain()
            await assert_complete_once(factory, run_id)
            assert (await read_run(factory, run_id)).attempts == 2
        finally:
            await engine.dispose()

    asyncio.run(scenario())


# --------------------------------------------------------------------------- arq and Redis


def _worker(queue_name: str, redis_url: str, burst: bool = True) -> Any:
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


async def _sweep(
    factory: async_sessionmaker[AsyncSession], queue_name: str, redis_url: str, minutes: float
) -> int:
    """Run the periodic sweep as a worker would, some minutes from now."""
    from arq import create_pool
    from arq.connections import RedisSettings

    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=queue_name)
    try:
        context = {"session_factory": factory, "queue": ArqQueue(pool), "clock": later(minutes)}
        return await resume_synthesis_runs(context)
    finally:
        await pool.aclose()


@dataclass(frozen=True)
class RedisPlace:
    url: str
    queue: str


@pytest.fixture
def redis_place(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisPlace]:
    """An emptied Redis database of its own: job and result keys of arq are global to a
    database, and run ids repeat between tests (each starts with an empty SQL database)."""
    if not REDIS_URL:
        service_missing("Redis", "CONSULT_TEST_REDIS_URL")
    url = REDIS_URL.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"
    monkeypatch.setenv("CONSULT_DATABASE_URL", database_url)
    monkeypatch.setenv("CONSULT_REDIS_URL", url)
    monkeypatch.setenv("CONSULT_EMBEDDING_MODEL", "hashing")
    place = RedisPlace(url, f"consult-test-{uuid.uuid4().hex[:8]}")
    asyncio.run(_flush(url))
    yield place
    asyncio.run(_flush(url))


async def _flush(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.mark.redis
def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes(
    database_url: str, redis_place: RedisPlace
) -> None:
    queue_name, redis_url = redis_place.queue, redis_place.url

    async def scenario() -> None:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        queue = await ArqQueue.connect(redis_url)
        try:
            run_id = await queued_demo_run(factory)
            await queue.pool.enqueue_job(
                "synthesize",
                run_id,
                _job_id=f"{run_job_id(run_id)}:{queue_name}",
                _queue_name=queue_name,
            )
            # arq's Worker binds itself to the event loop current when it is built: build it inside.
            script = (
                "import asyncio\n"
                "from tests.integration.test_synthesis_jobs import _worker\n"
                "async def work():\n"
                f"    await _worker({queue_name!r}, {redis_url!r}).main()\n"
                "asyncio.run(work())\n"
            )
            process = subprocess.Popen(  # noqa: ASYNC220 (a process the test kills)
                [sys.executable, "-c", script], cwd=ROOT, env=os.environ.copy()
            )
            try:
                for _ in range(3000):
                    run = await read_run(factory, run_id)
                    if run.stage in (RunStage.CAMPAIGNS, RunStage.CLUSTERING, RunStage.SAVING):
                        break
                    assert process.poll() is None, "the worker stopped before the run started"
                    await asyncio.sleep(0.02)
                process.send_signal(signal.SIGKILL)  # no clean-up, no cancellation: a crash
                process.wait(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
            killed = await read_run(factory, run_id)
            assert killed.status is RunStatus.RUNNING, (
                "the run finished before the worker was killed"
            )

            # Too early: the run may only be slow, so the sweep leaves it alone.
            assert await _sweep(factory, queue_name, redis_url, minutes=1) == 0
            # Without a heartbeat for longer than the bound, it is queued again under a new id.
            assert await _sweep(factory, queue_name, redis_url, minutes=11) == 1
            # The dead worker's job stays locked in Redis until its time limit, so a worker in
            # burst mode would wait for it: run a regular worker until the run completes.
            replacement = _worker(queue_name, redis_url, burst=False)
            working = asyncio.create_task(replacement.main())
            try:
                for _ in range(1200):
                    if (await read_run(factory, run_id)).status not in (
                        RunStatus.QUEUED,
                        RunStatus.RUNNING,
                    ):
                        break
                    await asyncio.sleep(0.1)
            finally:
                working.cancel()
                await asyncio.gather(working, return_exceptions=True)
                await replacement.close()
            await assert_complete_once(factory, run_id)
            assert (await read_run(factory, run_id)).attempts == 2
        finally:
            await queue.pool.delete(queue_name)
            await queue.close()
            await engine.dispose()

    asyncio.run(scenario())


@pytest.mark.redis
def test_a_run_lost_with_redis_is_found_again_by_the_sweep(
    database_url: str, redis_place: RedisPlace
) -> None:
    queue_name, redis_url = redis_place.queue, redis_place.url

    async def scenario() -> None:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        queue = await ArqQueue.connect(redis_url)
        try:
            run_id = await queued_demo_run(factory)
            await queue.pool.enqueue_job(
                "synthesize", run_id, _job_id=run_job_id(run_id), _queue_name=queue_name
            )
            # Redis loses everything before a worker ran the job.
            await queue.pool.delete(queue_name, f"arq:job:{run_job_id(run_id)}")
            idle = _worker(queue_name, redis_url)
            await idle.main()
            await idle.close()
            assert idle.jobs_complete == 0
            assert (await read_run(factory, run_id)).status is RunStatus.QUEUED

            assert await _sweep(factory, queue_name, redis_url, minutes=3) == 1
            sweeper = _worker(queue_name, redis_url)
            await sweeper.main()
            await sweeper.close()
            assert sweeper.jobs_failed == 0
            await assert_complete_once(factory, run_id)
        finally:
            await queue.pool.delete(queue_name)
            await queue.close()
            await engine.dispose()

    asyncio.run(scenario())
