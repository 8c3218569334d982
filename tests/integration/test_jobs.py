"""Jobs run in-process without Redis, and on a real arq worker with Redis."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.accounts.models import UserSession
from consult.accounts.services import SessionPolicy, create_user, start_session
from consult.db import create_engine, create_session_factory, utcnow
from consult.jobs import InProcessQueue, job_context, purge_sessions
from tests.conftest import PASSWORD, REDIS_URL, make_settings, service_missing


async def seed_sessions(session_factory, settings) -> None:  # type: ignore[no-untyped-def]
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(days=settings.session_absolute_days),
    )
    async with session_factory() as db:
        user = await create_user(db, f"{uuid.uuid4().hex[:6]}@example.org", "Jobs", PASSWORD)
        await start_session(db, user, policy)  # fresh: kept
        await start_session(db, user, policy, now=utcnow() - timedelta(days=365))  # purged
        await db.commit()


async def count_sessions(session_factory) -> int:  # type: ignore[no-untyped-def]
    async with session_factory() as db:
        return int(await db.scalar(select(func.count()).select_from(UserSession)) or 0)


def test_in_process_queue_runs_the_job_functions(database_url: str) -> None:
    settings = make_settings(database_url)

    async def scenario() -> int:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        try:
            await seed_sessions(factory, settings)
            queue = InProcessQueue(job_context(settings, factory))
            await queue.enqueue(purge_sessions, job_id="purge")
            await queue.enqueue(purge_sessions, job_id="purge")  # same id: not run twice
            await queue.close()
            return await count_sessions(factory)
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 1


@pytest.mark.redis
def test_arq_worker_runs_jobs_from_redis(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not REDIS_URL:
        service_missing("Redis", "CONSULT_TEST_REDIS_URL")
    from arq.worker import Worker

    from consult.jobs import ArqQueue
    from worker.settings import WorkerSettings, shutdown, startup

    queue_name = f"consult-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CONSULT_DATABASE_URL", database_url)
    monkeypatch.setenv("CONSULT_REDIS_URL", REDIS_URL or "")
    settings = make_settings(database_url, redis_url=REDIS_URL)

    async def scenario() -> int:
        from arq.connections import RedisSettings

        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        queue = await ArqQueue.connect(REDIS_URL or "")
        try:
            await seed_sessions(factory, settings)
            job = await queue.pool.enqueue_job(
                "purge_sessions", _job_id=f"purge-{queue_name}", _queue_name=queue_name
            )
            assert job is not None
            worker = Worker(
                functions=WorkerSettings.functions,
                on_startup=startup,
                on_shutdown=shutdown,
                redis_settings=RedisSettings.from_dsn(REDIS_URL or ""),
                queue_name=queue_name,
                burst=True,
                poll_delay=0.05,
                handle_signals=False,
            )
            await worker.main()
            assert worker.jobs_complete == 1 and worker.jobs_failed == 0
            await worker.close()
            return await count_sessions(factory)
        finally:
            await queue.pool.delete(queue_name)
            await queue.close()
            await engine.dispose()

    assert asyncio.run(scenario()) == 1
