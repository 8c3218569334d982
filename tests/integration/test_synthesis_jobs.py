"""Synthesis runs survive what production does to them: killed workers, a flushed Redis, stops."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.db import utcnow
from consult.jobs import ArqQueue, InProcessQueue, job_context, resume_synthesis_runs, synthesize
from consult.synthesis.models import RunStage, RunStatus, SynthesisMembership, SynthesisRun
from consult.synthesis.runs import ids_of_ranges, run_job_id
from tests.support.seeding import queue_demo_run
from tests.support.services import redis_url
from tests.support.site import make_settings
from tests.support.synthesis import add_contributions, synthesised
from tests.support.worker import (
    eventually,
    forget_arq_jobs,
    make_worker,
    work_until,
    worker_environment,
)

pytestmark = [pytest.mark.each_database, pytest.mark.anyio]
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def factory(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the demo consultation, no contribution embedded yet."""
    return fresh_demo_sessions


# --------------------------------------------------------------------------- in-process


async def test_an_interrupted_in_process_run_is_recorded_and_resumed_by_the_sweep(
    fresh_demo_url: str, factory: async_sessionmaker[AsyncSession]
) -> None:
    settings = make_settings(fresh_demo_url)
    run_id = await queue_demo_run(factory)
    queue = InProcessQueue(job_context(settings, factory))
    await queue.enqueue(synthesize, run_id, job_id=run_job_id(run_id))

    async def started() -> bool:
        return (await read_run(factory, run_id)).stage not in (RunStage.QUEUED, RunStage.LOADING)

    await eventually(started, every=0.02)
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


# --------------------------------------------------------------------------- arq and Redis


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
async def redis_place(
    fresh_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RedisPlace]:
    """A queue of its own, with no job left by an earlier test: arq's job and result keys are
    global to a Redis database, and run ids repeat between tests (each has its own database)."""
    url = redis_url()
    worker_environment(monkeypatch, fresh_demo_url, url)
    place = RedisPlace(url, f"consult-test-{uuid.uuid4().hex[:8]}")
    await forget_arq_jobs(url)
    try:
        yield place
    finally:
        await forget_arq_jobs(url)


def run_finished(
    factory: async_sessionmaker[AsyncSession], run_id: int
) -> Callable[[], Awaitable[bool]]:
    """Whether the run is over, done or failed (the condition to wait for)."""

    async def finished() -> bool:
        status = (await read_run(factory, run_id)).status
        return status not in (RunStatus.QUEUED, RunStatus.RUNNING)

    return finished


@pytest.mark.redis
async def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes(
    factory: async_sessionmaker[AsyncSession], redis_place: RedisPlace
) -> None:
    queue_name, redis = redis_place.queue, redis_place.url
    queue = await ArqQueue.connect(redis)
    try:
        run_id = await queue_demo_run(factory)
        await queue.pool.enqueue_job(
            "synthesize",
            run_id,
            _job_id=f"{run_job_id(run_id)}:{queue_name}",
            _queue_name=queue_name,
        )
        script = (
            "import asyncio, time\n"
            "import consult.synthesis.runs\n"
            # This worker never gets past clustering, so it is killed mid-run however fast
            # the machine is.
            "consult.synthesis.runs.gather_themes = lambda *a, **k: time.sleep(3600)\n"
            "from tests.support.worker import make_worker\n"
            "async def work():\n"
            f"    await make_worker({queue_name!r}, {redis!r}).main()\n"
            "asyncio.run(work())\n"
        )
        # The worker's environment (set by the fixture) passes on to the process.
        process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)  # noqa: ASYNC220
        try:

            async def clustering() -> bool:
                run = await read_run(factory, run_id)
                if run.stage in (RunStage.CAMPAIGNS, RunStage.CLUSTERING, RunStage.SAVING):
                    return True
                assert process.poll() is None, "the worker stopped before the run started"
                return False

            await eventually(clustering, every=0.02)
            # Citizens keep writing while the run works: these wait for the next run.
            late = await add_contributions(factory, 4)
            process.send_signal(signal.SIGKILL)  # no clean-up, no cancellation: a crash
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        killed = await read_run(factory, run_id)
        assert killed.status is RunStatus.RUNNING, "the run finished before the worker was killed"
        assert killed.input_ids is not None
        fixed = ids_of_ranges(killed.input_ids)

        # Too early: the run may only be slow, so the sweep leaves it alone.
        assert await _sweep(factory, queue_name, redis, minutes=1) == 0
        # Without a heartbeat for longer than the bound (90 s), it is queued again under a new
        # id by the next sweep (every 30 s): within two minutes.
        assert await _sweep(factory, queue_name, redis, minutes=2) == 1
        # The dead worker's job stays locked in Redis until its time limit, so a worker in
        # burst mode would wait for it: run a regular worker until the run completes.
        await work_until(make_worker(queue_name, redis), run_finished(factory, run_id))
        await assert_complete_once(factory, run_id)
        assert (await read_run(factory, run_id)).attempts == 2
        # The resumed run synthesised exactly the input the first attempt fixed.
        assert await synthesised(factory, run_id) == fixed
        assert not late & fixed
    finally:
        await queue.pool.delete(queue_name)
        await queue.close()


@pytest.mark.redis
async def test_a_run_lost_with_redis_is_found_again_by_the_sweep(
    factory: async_sessionmaker[AsyncSession],
    redis_place: RedisPlace,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queue_name, redis = redis_place.queue, redis_place.url
    queue = await ArqQueue.connect(redis)
    try:
        run_id = await queue_demo_run(factory)
        await queue.pool.enqueue_job(
            "synthesize", run_id, _job_id=run_job_id(run_id), _queue_name=queue_name
        )
        # Redis loses everything before a worker ran the job.
        await queue.pool.delete(queue_name, f"arq:job:{run_job_id(run_id)}")
        idle = make_worker(queue_name, redis, burst=True)  # runs what is queued: nothing
        await idle.main()
        await idle.close()
        assert idle.jobs_complete == 0
        assert (await read_run(factory, run_id)).status is RunStatus.QUEUED

        assert await _sweep(factory, queue_name, redis, minutes=3) == 1
        # This worker clusters the articles in a process of its own, as production does.
        monkeypatch.setenv("CONSULT_SYNTHESIS_PROCESSES", "1")
        sweeper = make_worker(queue_name, redis)
        await work_until(sweeper, run_finished(factory, run_id))
        assert sweeper.jobs_failed == 0
        await assert_complete_once(factory, run_id)
    finally:
        await queue.pool.delete(queue_name)
        await queue.close()
