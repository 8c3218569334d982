"""A contribution's counts move with every vote row written, through the site or by hand."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.contributions.models import Contribution, Vote, VoteValue

pytestmark = [pytest.mark.anyio, pytest.mark.each_database]


async def counts(session: AsyncSession, contribution_id: int) -> tuple[int, int, int]:
    row = (
        await session.execute(
            select(Contribution.votes_for, Contribution.votes_mixed, Contribution.votes_against)
            .where(Contribution.id == contribution_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    return (int(row[0]), int(row[1]), int(row[2]))


async def test_the_demo_s_counts_are_its_votes(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with fresh_demo_sessions() as session:
        rows = (
            await session.execute(
                select(Vote.contribution_id, Vote.value, func.count())
                .where(Vote.contribution_id.is_not(None))
                .group_by(Vote.contribution_id, Vote.value)
            )
        ).all()
        cast: dict[int, Counter[VoteValue]] = {}
        for contribution_id, value, count in rows:
            cast.setdefault(contribution_id, Counter())[VoteValue(value)] = count
        assert sum(sum(c.values()) for c in cast.values()) > 500
        for contribution_id, tally in cast.items():
            assert await counts(session, contribution_id) == (
                tally[VoteValue.FOR],
                tally[VoteValue.MIXED],
                tally[VoteValue.AGAINST],
            )


async def test_votes_written_by_hand_move_the_counts_on_top_of_imported_ones(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with fresh_demo_sessions() as session:
        unvoted = (
            select(Contribution.id, Contribution.consultation_id)
            .where(
                ~Contribution.id.in_(
                    select(Vote.contribution_id).where(Vote.contribution_id.is_not(None))
                )
            )
            .order_by(Contribution.id)
            .limit(1)
        )
        target, consultation_id = (await session.execute(unvoted)).one()
        voters = list(await session.scalars(select(Vote.voter_id).distinct().limit(3)))
        # Counts brought from another platform, whose voters have no rows here.
        await session.execute(
            text(
                "UPDATE contributions SET votes_for = 40, votes_mixed = 5, votes_against = 12"
                " WHERE id = :id"
            ),
            {"id": target},
        )
        vote = text(
            "INSERT INTO votes"
            " (voter_id, consultation_id, contribution_id, value, created_at, updated_at)"
            " VALUES (:voter, :consultation, :target, :value, :now, :now)"
        )
        now = datetime(2026, 12, 6, 22, tzinfo=UTC)
        for voter, value in zip(voters, ("pour", "contre", "pour"), strict=True):
            await session.execute(
                vote,
                {
                    "voter": voter,
                    "consultation": consultation_id,
                    "target": target,
                    "value": value,
                    "now": now,
                },
            )
        assert await counts(session, target) == (42, 5, 13)
        change = text(
            "UPDATE votes SET value = :value WHERE voter_id = :voter AND contribution_id = :target"
        )
        await session.execute(change, {"value": "mitige", "voter": voters[0], "target": target})
        assert await counts(session, target) == (41, 6, 13)
        # Written again with its own value: nothing moves.
        await session.execute(change, {"value": "mitige", "voter": voters[0], "target": target})
        assert await counts(session, target) == (41, 6, 13)
        await session.execute(
            text("DELETE FROM votes WHERE voter_id = :voter AND contribution_id = :target"),
            {"voter": voters[1], "target": target},
        )
        assert await counts(session, target) == (41, 6, 12)
        # A vote on an article counts in the article's tally, not in any contribution's.
        before = await counts(session, target)
        await session.execute(
            text(
                "INSERT INTO votes"
                " (voter_id, consultation_id, article_key, value, created_at, updated_at)"
                " VALUES (:voter, :consultation, 'art-zz', 'pour', :now, :now)"
            ),
            {"voter": voters[2], "consultation": consultation_id, "now": now},
        )
        assert await counts(session, target) == before
        await session.rollback()
