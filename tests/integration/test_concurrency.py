"""One person, one vote: concurrent double submissions against a real database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from consult.contributions.models import Contribution, Vote
from consult.contributions.votes import cast_vote
from consult.contributions.writing import create_argument
from consult.db import create_engine, create_session_factory, utcnow
from tests.integration.seeding import open_article


async def _setup(factory):  # type: ignore[no-untyped-def]
    async with factory() as session:
        voter, context = await open_article(session, "c")
        argument = await create_argument(
            session, context, voter, stance="pour", body="Oui.", now=utcnow()
        )
        await session.commit()
        return voter.id, context.consultation.id, argument.id


@pytest.mark.parametrize("values", [("pour", "pour"), ("pour", "contre")])
def test_concurrent_double_vote_counts_once(database_url: str, values: tuple[str, str]) -> None:
    async def scenario() -> tuple[int, int]:
        engine = create_engine(database_url, pool_size=4)
        factory = create_session_factory(engine)
        try:
            voter_id, consultation_id, argument_id = await _setup(factory)

            async def vote(value: str) -> None:
                from consult.accounts.models import User
                from consult.consultations.models import Consultation

                async with factory() as session:
                    voter = await session.get(User, voter_id)
                    consultation = await session.get(Consultation, consultation_id)
                    argument = await session.get(Contribution, argument_id)
                    await cast_vote(
                        session,
                        voter,
                        consultation,
                        now=utcnow(),
                        value=value,
                        contribution=argument,
                    )
                    await session.commit()

            for _ in range(5):
                await asyncio.gather(*(vote(v) for v in values))
            async with factory() as session:
                rows = await session.scalar(select(func.count()).select_from(Vote))
                argument = await session.get(Contribution, argument_id)
                return int(rows or 0), argument.votes_total if argument else -1
        finally:
            await engine.dispose()

    rows, counted = asyncio.run(scenario())
    assert rows == 1
    assert counted == 1
