"""Jobs run in-process without Redis, and on a real arq worker with Redis."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.models import UserSession
from consult.accounts.services import SessionPolicy, create_user, start_session
from consult.db import create_engine, create_session_factory, utcnow
from consult.jobs import InProcessQueue, job_context, purge_sessions
from consult.settings import Settings
from tests.support.services import redis_url
from tests.support.site import PASSWORD, make_settings
from tests.support.worker import make_worker, work_until, worker_environment

pytestmark = [pytest.mark.each_database, pytest.mark.anyio]


async def seed_sessions(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(days=settings.session_absolute_days),
    )
    async with session_factory() as db:
        user = await create_user(db, f"{uuid.uuid4().hex[:6]}@example.org", "Jobs", PASSWORD)
        await start_session(db, user, policy)  # fresh: kept
        await start_session(db, user, policy, now=utcnow() - timedelta(days=365))  # purged
        await db.commit()


async def count_sessions(session_factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_factory() as db:
        return int(await db.scalar(select(func.count()).select_from(UserSession)) or 0)


async def test_in_process_queue_runs_the_job_functions(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(database_url)
    # Purging twice leaves the same rows as purging once: count the runs themselves, each of
    # which reports what it purged.
    caplog.set_level(logging.INFO, logger="consult.jobs")
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    try:
        await seed_sessions(factory, settings)
        queue = InProcessQueue(job_context(settings, factory))
        await queue.enqueue(purge_sessions, job_id="purge")
        await queue.enqueue(purge_sessions, job_id="purge")  # same id: not run twice
        await queue.close()
        assert await count_sessions(factory) == 1
    finally:
        await engine.dispose()
    runs = [r for r in caplog.records if r.getMessage().startswith("purged ")]
    assert len(runs) == 1


@pytest.mark.redis
async def test_arq_worker_runs_jobs_from_redis(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consult.jobs import ArqQueue

    redis = redis_url()
    queue_name = f"consult-test-{uuid.uuid4().hex[:8]}"
    worker_environment(monkeypatch, database_url, redis)
    settings = make_settings(database_url, redis_url=redis)
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    queue = await ArqQueue.connect(redis)
    try:
        await seed_sessions(factory, settings)
        job = await queue.pool.enqueue_job(
            "purge_sessions", _job_id=f"purge-{queue_name}", _queue_name=queue_name
        )
        assert job is not None
        worker = make_worker(queue_name, redis)

        async def finished() -> bool:
            return bool(worker.jobs_complete + worker.jobs_failed)

        await work_until(worker, finished)
        assert worker.jobs_complete == 1 and worker.jobs_failed == 0
        assert await count_sessions(factory) == 1
    finally:
        await queue.pool.delete(queue_name)
        await queue.close()
        await engine.dispose()
