"""Every contribution gets embedded: on write through the queue, or by the periodic sweep."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.db import create_engine, create_session_factory
from consult.jobs import InProcessQueue, embed_missing, job_context
from consult.synthesis.models import Embedding
from tests.conftest import REDIS_URL, Site, make_settings, service_missing
from tests.integration.seeding import open_article
from tests.web.test_bill_import import SMALL_BILL, make_consultation

ARTICLE = "/consultations/bibliotheques/articles/art-1"


def embeddings(site: Site) -> list[tuple[str, str]]:
    async def read(session):  # type: ignore[no-untyped-def]
        return [
            (e.model_id, e.content_hash) for e in (await session.scalars(select(Embedding))).all()
        ]

    return site.db(read)


def test_a_new_contribution_is_embedded_in_process(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    site.client.post("/consultations/bibliotheques/bill/versions", data={"source": SMALL_BILL})
    site.client.post(ARTICLE + "/arguments", data={"stance": "pour", "body": "Ouvrir le dimanche."})
    site.client.portal.call(site.services.jobs.drain)  # type: ignore[union-attr]
    stored = embeddings(site)
    assert len(stored) == 1 and stored[0][0] == "hashing:v1:256"

    other = site.user()
    site.client.post("/account/logout")
    site.login(other)
    site.client.post(ARTICLE + "/arguments", data={"stance": "pour", "body": "Ouvrir le dimanche."})
    site.client.portal.call(site.services.jobs.drain)  # type: ignore[union-attr]
    assert len(embeddings(site)) == 1  # the same words are embedded once


def test_the_sweep_embeds_what_no_job_did(database_url: str) -> None:
    from consult.demo.seed import seed_demo

    settings = make_settings(database_url)

    async def scenario() -> tuple[int, int, int]:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        try:
            async with factory() as session:
                await seed_demo(session)  # imports contributions: no job was queued for them
                await session.commit()
            queue = InProcessQueue(job_context(settings, factory))
            await queue.enqueue(embed_missing, job_id="sweep")
            await queue.drain()
            async with factory() as session:
                count = await session.scalar(select(func.count()).select_from(Embedding))
            await queue.enqueue(embed_missing, job_id="sweep")
            await queue.drain()
            async with factory() as session:
                again = await session.scalar(select(func.count()).select_from(Embedding))
                from consult.contributions.models import Contribution

                texts = await session.scalar(
                    select(func.count(func.distinct(Contribution.body))).select_from(Contribution)
                )
            return int(count or 0), int(again or 0), int(texts or 0)
        finally:
            await engine.dispose()

    count, again, distinct_bodies = asyncio.run(scenario())
    # The campaign's 60 identical letters share one vector.
    assert 200 < count <= distinct_bodies + 50
    assert again == count  # nothing is ever recomputed


def test_the_sweep_goes_batch_by_batch_and_commits_each(database_url: str) -> None:
    from consult.demo.seed import seed_demo
    from consult.nlp.embed import embedder_from_setting
    from consult.synthesis.embeddings import embed_contribution_batch

    async def scenario() -> tuple[list[int], int]:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        embedder = embedder_from_setting("hashing")
        try:
            async with factory() as session:
                await seed_demo(session)
                await session.commit()
            sizes, after = [], 0
            while True:
                async with factory() as session:
                    report, after = await embed_contribution_batch(
                        session, embedder, after, size=100
                    )
                    await session.commit()
                if not report.considered:
                    break
                sizes.append(report.considered)
            async with factory() as session:
                stored = int(await session.scalar(select(func.count()).select_from(Embedding)) or 0)
            return sizes, stored
        finally:
            await engine.dispose()

    sizes, stored = asyncio.run(scenario())
    assert len(sizes) >= 3 and all(size == 100 for size in sizes[:-1])
    assert stored > 200  # every batch was kept


@pytest.mark.redis
def test_arq_worker_embeds_and_the_sweep_recovers_a_lost_queue(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not REDIS_URL:
        service_missing("Redis", "CONSULT_TEST_REDIS_URL")
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from consult.contributions.writing import create_argument
    from consult.db import utcnow
    from consult.jobs import ArqQueue
    from worker.settings import WorkerSettings, shutdown, startup

    monkeypatch.setenv("CONSULT_DATABASE_URL", database_url)
    monkeypatch.setenv("CONSULT_REDIS_URL", REDIS_URL or "")
    monkeypatch.setenv("CONSULT_EMBEDDING_MODEL", "hashing")
    # No synthesis here: the worker need not start its clustering processes.
    monkeypatch.setenv("CONSULT_SYNTHESIS_PROCESSES", "0")
    queue_name = f"consult-test-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[int, int]:
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        queue = await ArqQueue.connect(REDIS_URL or "")

        def worker() -> Worker:
            return Worker(
                functions=WorkerSettings.functions,
                on_startup=startup,
                on_shutdown=shutdown,
                redis_settings=RedisSettings.from_dsn(REDIS_URL or ""),
                queue_name=queue_name,
                burst=True,
                poll_delay=0.05,
                handle_signals=False,
            )

        try:
            async with factory() as session:
                author, context = await open_article(session, "q")
                first = await create_argument(
                    session, context, author, stance="pour", body="Un.", now=utcnow()
                )
                second = await create_argument(
                    session, context, author, stance="contre", body="Deux.", now=utcnow()
                )
                await session.commit()
            await queue.pool.enqueue_job(
                "embed_contribution",
                first.id,
                _job_id=f"embed:{first.id}:{queue_name}",
                _queue_name=queue_name,
            )
            await queue.pool.enqueue_job(
                "embed_contribution",
                second.id,
                _job_id=f"embed:{second.id}:{queue_name}",
                _queue_name=queue_name,
            )
            # Redis loses its queue before any worker ran (a flush, a crash without disk).
            await queue.pool.delete(queue_name)
            lost = worker()
            await lost.main()
            await lost.close()
            async with factory() as session:
                before = int(await session.scalar(select(func.count()).select_from(Embedding)) or 0)
            await queue.pool.enqueue_job("embed_missing", _queue_name=queue_name)
            sweeper = worker()
            await sweeper.main()
            await sweeper.close()
            assert sweeper.jobs_failed == 0
            async with factory() as session:
                after = int(await session.scalar(select(func.count()).select_from(Embedding)) or 0)
            return before, after
        finally:
            await queue.pool.delete(queue_name)
            await queue.close()
            await engine.dispose()

    before, after = asyncio.run(scenario())
    assert (before, after) == (0, 2)
