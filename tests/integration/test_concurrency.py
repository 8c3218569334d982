"""One person, one vote: concurrent double submissions against a real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.bills.parser import parse_bill
from consult.bills.services import publish_version
from consult.consultations.models import Phase
from consult.consultations.services import create_consultation
from consult.contributions.models import Contribution, Vote
from consult.contributions.services import cast_vote, create_argument, load_article_context
from consult.db import create_engine, create_session_factory, utcnow
from tests.conftest import PASSWORD


async def _setup(factory):  # type: ignore[no-untyped-def]
    async with factory() as session:
        official = await create_user(session, "o@example.org", "O", PASSWORD, Role.OFFICIAL)
        voter = await create_user(session, "v@example.org", "V", PASSWORD)
        consultation = await create_consultation(
            session,
            slug="c",
            title="C",
            summary="",
            ministry="",
            owner=official,
            phase_starts={Phase.OPEN: utcnow() - timedelta(days=1)},
        )
        version = await publish_version(
            session,
            consultation,
            parse_bill("Article 1er\n\nTexte."),
            source_text="",
            source_format="markdown",
            published_by=official,
        )
        context = await load_article_context(session, consultation, version, "art-1")
        argument = await create_argument(
            session, context, voter, stance="pour", body="Oui.", now=utcnow()
        )
        await session.commit()
        return voter.id, consultation.id, argument.id


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
