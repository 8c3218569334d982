"""A killed synthesis resumes within two minutes, on the very input it started with; a busy run
keeps its heartbeat and is never taken for dead; an attempt taken for dead cannot write over
the one that replaced it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.db import utcnow
from consult.jobs import InProcessQueue, job_context, resume_synthesis_runs, synthesize
from consult.synthesis import runs
from consult.synthesis.models import RunStage, RunStatus, SynthesisMembership, SynthesisRun
from consult.synthesis.runs import ids_of_ranges, run_job_id
from tests.support.seeding import queue_demo_run
from tests.support.site import Clock, make_settings
from tests.support.synthesis import add_contributions, synthesised
from tests.support.worker import eventually

pytestmark = [pytest.mark.each_database, pytest.mark.anyio]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def factory(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the demo consultation as just seeded."""
    return fresh_demo_sessions


async def read_run(factory: async_sessionmaker[AsyncSession], run_id: int) -> SynthesisRun:
    async with factory() as session:
        run = await session.get(SynthesisRun, run_id)
        assert run is not None
        return run


def later(seconds: float) -> Callable[[], datetime]:
    return lambda: utcnow() + timedelta(seconds=seconds)


async def sweep(factory: async_sessionmaker[AsyncSession], settings: Any, seconds: float) -> int:
    """The periodic sweep, `seconds` from now, queueing in this process (drained here)."""
    queue = InProcessQueue(job_context(settings, factory) | {"clock": later(seconds)})
    try:
        found = await resume_synthesis_runs(queue.context)
        await queue.drain()
    finally:
        await queue.close()
    return found


def killable_run(database_url: str, run_id: int, marker: Path) -> subprocess.Popen[bytes]:
    """A process executing the run that stops dead when clustering begins (it writes `marker`
    and hangs, beating no more, until it is killed)."""
    script = f"""
import asyncio, pathlib, time
from consult.db import create_engine, create_session_factory
from consult.jobs import pipeline_for
from consult.synthesis.models import RunStage
from consult.synthesis.runs import execute_run
from tests.support.site import make_settings

def hang(stage, done, total):
    if stage is RunStage.CLUSTERING:
        pathlib.Path({str(marker)!r}).write_text("clustering")
        time.sleep(3600)

async def main():
    engine = create_engine({database_url!r})
    context = {{"settings": make_settings({database_url!r})}}
    await execute_run(create_session_factory(engine), pipeline_for(context), {run_id},
                      listener=hang)

asyncio.run(main())
"""
    return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)


async def test_a_killed_run_resumes_within_two_minutes_on_the_input_it_started_with(
    fresh_demo_url: str, factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    settings = make_settings(fresh_demo_url)
    run_id = await queue_demo_run(factory)
    marker = tmp_path / "clustering"
    process = killable_run(fresh_demo_url, run_id, marker)
    try:

        async def clustering() -> bool:
            assert process.poll() is None, "the run's process stopped on its own"
            return marker.exists()

        await eventually(clustering, every=0.05)
        started = await read_run(factory, run_id)
        assert started.status is RunStatus.RUNNING and started.input_ids is not None
        fixed = ids_of_ranges(started.input_ids)
        # Citizens keep writing while the run works; then its process dies without a word.
        late = await add_contributions(factory, 5)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert (await read_run(factory, run_id)).status is RunStatus.RUNNING

    # Within the bound, the run may only be busy: left alone. Past it (90 s), resumed at the
    # next sweep (every 30 s): within two minutes of its last heartbeat.
    assert await sweep(factory, settings, seconds=60) == 0
    assert await sweep(factory, settings, seconds=120) == 1

    done = await read_run(factory, run_id)
    assert done.status is RunStatus.SUCCEEDED, done.error
    assert done.attempts == 2
    assert done.contribution_count == len(fixed) > 200
    assert await synthesised(factory, run_id) == fixed
    assert not late & fixed


async def test_a_busy_run_keeps_its_heartbeat_and_is_never_taken_for_dead(
    fresh_demo_url: str,
    factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long clustering step (held here until released) beats meanwhile: however far the
    clock moves, the sweep finds a fresh heartbeat."""
    monkeypatch.setattr(runs, "HEARTBEAT_SECONDS", 0.05)
    release, entered = threading.Event(), threading.Event()
    gather_themes = runs.gather_themes

    def slow_themes(*args: Any) -> Any:
        entered.set()
        release.wait(timeout=120)
        return gather_themes(*args)

    monkeypatch.setattr(runs, "gather_themes", slow_themes)
    clock = Clock()
    settings = make_settings(fresh_demo_url)
    run_id = await queue_demo_run(factory)
    queue = InProcessQueue(job_context(settings, factory) | {"clock": clock})
    try:
        await queue.enqueue(synthesize, run_id, job_id=run_job_id(run_id))
        await eventually(lambda: asyncio.sleep(0, entered.is_set()))
        for _ in range(3):
            clock.advance(minutes=5)  # far past the bound, while the step works

            async def beaten(moment: datetime = clock.now) -> bool:
                return (await read_run(factory, run_id)).heartbeat_at == moment

            await eventually(beaten, every=0.02)
            context = job_context(settings, factory) | {"clock": clock, "queue": queue}
            assert await resume_synthesis_runs(context) == 0
        release.set()
        await queue.drain()
    finally:
        release.set()
        await queue.close()
    done = await read_run(factory, run_id)
    assert (done.status, done.attempts) == (RunStatus.SUCCEEDED, 1)


async def test_an_attempt_taken_for_dead_cannot_write_over_its_successor(
    fresh_demo_url: str,
    factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker frozen for longer than the bound (no heartbeat) is replaced; when it wakes up
    it finds the run no longer its own and stops without saving."""
    monkeypatch.setattr(runs, "HEARTBEAT_SECONDS", 3600.0)  # the first attempt stays silent
    release, entered = threading.Event(), threading.Event()
    gather_themes = runs.gather_themes
    calls = 0

    def first_call_freezes(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            entered.set()
            release.wait(timeout=120)
        return gather_themes(*args)

    monkeypatch.setattr(runs, "gather_themes", first_call_freezes)
    settings = make_settings(fresh_demo_url)
    run_id = await queue_demo_run(factory)
    first = InProcessQueue(job_context(settings, factory))
    try:
        await first.enqueue(synthesize, run_id, job_id=run_job_id(run_id))
        await eventually(lambda: asyncio.sleep(0, entered.is_set()))
        fixed = ids_of_ranges((await read_run(factory, run_id)).input_ids or [])
        await add_contributions(factory, 3)
        # Taken for dead: resumed by another worker, which completes the run.
        assert await sweep(factory, settings, seconds=120) == 1
        resumed = await read_run(factory, run_id)
        assert (resumed.status, resumed.attempts) == (RunStatus.SUCCEEDED, 2)
        finished_at = resumed.finished_at
        release.set()
        await first.drain()
    finally:
        release.set()
        await first.close()
    after = await read_run(factory, run_id)
    assert (after.status, after.attempts, after.finished_at) == (
        RunStatus.SUCCEEDED,
        2,
        finished_at,
    )
    assert after.stage is RunStage.DONE
    assert await synthesised(factory, run_id) == fixed
    async with factory() as session:
        rows = list(
            await session.scalars(
                select(SynthesisMembership.contribution_id).where(
                    SynthesisMembership.run_id == run_id, SynthesisMembership.scope == ""
                )
            )
        )
    assert len(rows) == len(fixed)  # nothing saved twice
