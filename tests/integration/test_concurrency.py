"""One person, one vote: concurrent double submissions against a real database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.models import User
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, Vote
from consult.contributions.votes import article_tally, cast_vote
from consult.contributions.writing import create_argument
from consult.db import create_engine, create_session_factory, utcnow
from tests.support.seeding import open_article

pytestmark = pytest.mark.each_database


async def _setup(factory: async_sessionmaker[AsyncSession]) -> tuple[int, int, int, str]:
    async with factory() as session:
        voter, context = await open_article(session, "c")
        argument = await create_argument(
            session, context, voter, stance="pour", body="Oui.", now=utcnow()
        )
        await session.commit()
        return voter.id, context.consultation.id, argument.id, context.article.key


@pytest.mark.anyio
@pytest.mark.parametrize("on", ["contribution", "article"])
@pytest.mark.parametrize("values", [("pour", "pour"), ("pour", "contre")])
async def test_concurrent_double_vote_counts_once(
    database_url: str, values: tuple[str, str], on: str
) -> None:
    engine = create_engine(database_url, pool_size=4)
    factory = create_session_factory(engine)
    try:
        voter_id, consultation_id, argument_id, article_key = await _setup(factory)

        async def vote(value: str) -> None:
            async with factory() as session:
                voter = await session.get(User, voter_id)
                consultation = await session.get(Consultation, consultation_id)
                argument = await session.get(Contribution, argument_id)
                assert voter is not None and consultation is not None
                await cast_vote(
                    session,
                    voter,
                    consultation,
                    now=utcnow(),
                    value=value,
                    article_key=None if on == "contribution" else article_key,
                    contribution=argument if on == "contribution" else None,
                )
                await session.commit()

        for _ in range(5):
            await asyncio.gather(*(vote(v) for v in values))
        async with factory() as session:
            rows = await session.scalar(select(func.count()).select_from(Vote))
            consultation = await session.get(Consultation, consultation_id)
            argument = await session.get(Contribution, argument_id)
            assert consultation is not None and argument is not None
            tally = await article_tally(session, consultation, article_key)
            counted = argument.votes_total if on == "contribution" else tally.total
            last = await session.scalar(select(Vote.value))
    finally:
        await engine.dispose()
    assert rows == 1
    assert counted == 1
    # The value is one of the two sent (which one depends on who committed last).
    assert last is not None and last.value in values
