"""The embedding backlog that /metrics shows: contributions whose text has no vector yet."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.contributions.models import Contribution
from consult.nlp.embed import embedder_from_setting
from consult.synthesis.backlog import EmbeddingBacklog
from consult.synthesis.embeddings import embed_contribution_batch, embed_contributions

pytestmark = [pytest.mark.anyio, pytest.mark.each_database]


@pytest.fixture
def factory(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """The demo consultation with no contribution embedded yet."""
    return fresh_demo_sessions


async def test_the_backlog_falls_to_zero_as_contributions_are_embedded(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    embedder = embedder_from_setting("hashing")
    backlog = EmbeddingBacklog(embedder.model_id)
    async with factory() as session:
        total = int(await session.scalar(select(func.count()).select_from(Contribution)) or 0)
        first_ids = list(await session.scalars(select(Contribution.id).order_by(Contribution.id)))
        # No time to read them all: the ones not read yet count as missing, never as done.
        assert await backlog.count(session, batch=50, budget_seconds=0) == total
        assert backlog.seen_up_to == first_ids[49]
        assert await backlog.count(session) == total  # every text read now, none embedded
        await embed_contributions(session, embedder, contribution_ids=first_ids[:30])
        await session.commit()
        assert await backlog.count(session) == total - 30
    async with factory() as session:
        await embed_contribution_batch(session, embedder, 0, size=total)
        await session.commit()
        assert await backlog.count(session) == 0
    # Another model has embedded nothing.
    async with factory() as session:
        assert await EmbeddingBacklog("another:model").count(session) == total
