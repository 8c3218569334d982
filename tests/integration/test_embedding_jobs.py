"""Every contribution gets embedded: on write through the queue, or by the periodic sweep."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.models import Role
from consult.contributions.models import Contribution
from consult.db import create_engine, create_session_factory
from consult.jobs import InProcessQueue, embed_missing, job_context
from consult.synthesis.models import Embedding
from tests.support.seeding import open_article
from tests.support.services import redis_url
from tests.support.site import Site, make_settings
from tests.support.worker import make_worker, work_until, worker_environment

pytestmark = pytest.mark.each_database
ARTICLE = "/consultations/bibliotheques/articles/art-1"


def embeddings(site: Site) -> list[tuple[str, str]]:
    return [
        (model_id, content_hash)
        for model_id, content_hash in site.rows(select(Embedding.model_id, Embedding.content_hash))
    ]


async def count_embeddings(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Embedding)) or 0)


@pytest.fixture
def factory(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the demo consultation as imported: no job was queued for its contributions."""
    return fresh_demo_sessions


def test_a_new_contribution_is_embedded_in_process(library: Site) -> None:
    site = library
    site.login(site.user(Role.OFFICIAL))
    site.client.post(ARTICLE + "/arguments", data={"stance": "pour", "body": "Ouvrir le dimanche."})
    site.drain_jobs()
    stored = embeddings(site)
    assert len(stored) == 1 and stored[0][0] == "hashing:v1:256"

    other = site.user()
    site.client.post("/account/logout")
    site.login(other)
    site.client.post(ARTICLE + "/arguments", data={"stance": "pour", "body": "Ouvrir le dimanche."})
    site.drain_jobs()
    assert len(embeddings(site)) == 1  # the same words are embedded once


@pytest.mark.anyio
async def test_the_sweep_embeds_what_no_job_did(
    fresh_demo_url: str, factory: async_sessionmaker[AsyncSession]
) -> None:
    queue = InProcessQueue(job_context(make_settings(fresh_demo_url), factory))
    await queue.enqueue(embed_missing, job_id="sweep")
    await queue.drain()
    count = await count_embeddings(factory)
    await queue.enqueue(embed_missing, job_id="sweep")
    await queue.drain()
    again = await count_embeddings(factory)
    async with factory() as session:
        distinct_bodies = int(
            await session.scalar(
                select(func.count(func.distinct(Contribution.body))).select_from(Contribution)
            )
            or 0
        )
    # The campaign's 60 identical letters share one vector.
    assert 200 < count <= distinct_bodies + 50
    assert again == count  # nothing is ever recomputed


@pytest.mark.anyio
async def test_the_sweep_goes_batch_by_batch_and_commits_each(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    from consult.nlp.embed import embedder_from_setting
    from consult.synthesis.embeddings import embed_contribution_batch

    embedder = embedder_from_setting("hashing")
    sizes: list[int] = []
    after = 0
    while True:
        async with factory() as session:
            report, after = await embed_contribution_batch(session, embedder, after, size=100)
            await session.commit()
        if not report.considered:
            break
        sizes.append(report.considered)
    stored = await count_embeddings(factory)
    assert len(sizes) >= 3 and all(size == 100 for size in sizes[:-1])
    assert stored > 200  # every batch was kept


@pytest.mark.anyio
async def test_embedders_racing_over_the_same_texts_all_succeed(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    """The sweep, the jobs of new contributions and synthesis runs may embed the same texts at
    the same moment, each in its own transaction: none fails, and each text is stored once."""
    import anyio

    from consult.nlp.embed import embedder_from_setting
    from consult.synthesis.embeddings import embed_contribution_batch, embed_contributions

    embedder = embedder_from_setting("hashing")
    async with factory() as session:
        ids = list(await session.scalars(select(Contribution.id).order_by(Contribution.id)))
        consultation_id = await session.scalar(select(Contribution.consultation_id).limit(1))
    finished: list[str] = []

    async def sweep(name: str) -> None:
        async with factory() as session:
            await embed_contribution_batch(session, embedder, 0, size=len(ids))
            await session.commit()
        finished.append(name)

    async def synthesis(name: str) -> None:
        async with factory() as session:
            await embed_contributions(session, embedder, consultation_id=consultation_id)
            await session.commit()
        finished.append(name)

    async def new_contributions(name: str) -> None:
        for contribution_id in ids[::7]:
            async with factory() as session:
                await embed_contributions(session, embedder, contribution_ids=[contribution_id])
                await session.commit()
        finished.append(name)

    async with anyio.create_task_group() as racing:
        for number in range(3):
            racing.start_soon(sweep, f"sweep {number}")
            racing.start_soon(synthesis, f"synthesis {number}")
            racing.start_soon(new_contributions, f"jobs {number}")
    assert len(finished) == 9
    async with factory() as session:
        rows = await session.execute(
            select(Embedding.content_hash, func.count()).group_by(Embedding.content_hash)
        )
        counts = {digest: count for digest, count in rows}
    assert len(counts) > 200 and set(counts.values()) == {1}


@pytest.mark.redis
@pytest.mark.anyio
async def test_arq_worker_embeds_and_the_sweep_recovers_a_lost_queue(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consult.contributions.writing import create_argument
    from consult.db import utcnow
    from consult.jobs import ArqQueue

    redis = redis_url()
    worker_environment(monkeypatch, database_url, redis)
    queue_name = f"consult-test-{uuid.uuid4().hex[:8]}"
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    queue = await ArqQueue.connect(redis)
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
        for contribution in (first, second):
            await queue.pool.enqueue_job(
                "embed_contribution",
                contribution.id,
                _job_id=f"embed:{contribution.id}:{queue_name}",
                _queue_name=queue_name,
            )
        # Redis loses its queue before any worker ran (a flush, a crash without disk).
        await queue.pool.delete(queue_name)
        lost = make_worker(queue_name, redis, burst=True)  # runs what is queued: nothing
        await lost.main()
        await lost.close()
        before = await count_embeddings(factory)
        await queue.pool.enqueue_job("embed_missing", _queue_name=queue_name)
        sweeper = make_worker(queue_name, redis)

        async def swept() -> bool:
            return bool(sweeper.jobs_complete + sweeper.jobs_failed)

        await work_until(sweeper, swept)
        assert sweeper.jobs_failed == 0
        after = await count_embeddings(factory)
    finally:
        await queue.pool.delete(queue_name)
        await queue.close()
        await engine.dispose()
    assert (before, after) == (0, 2)
