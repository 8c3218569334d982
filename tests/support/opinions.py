"""Votes with planted opinion groups on the demo consultation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.consultations.models import Consultation
from consult.contributions.models import (
    Contribution,
    ContributionKind,
    Visibility,
    Vote,
    VoteValue,
)
from consult.demo.seed import DEMO_SLUG


@dataclass(frozen=True)
class Planted:
    """What :func:`plant_camps` voted: one amendment everyone supports, ten that split the
    voters into two camps, one that nobody but one voter voted on, and the voters."""

    bridge: int
    divisive: list[int]
    lonely: int
    voters: list[User]


async def plant_camps(session: AsyncSession) -> Planted:
    """Replace the demo's votes: 2 camps of 20 demo voters, each pour on the amendments the
    other is contre, all pour the first amendment (the mixed votes of camp B on it aside)."""
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == DEMO_SLUG))
    assert consultation is not None
    await session.execute(delete(Vote).where(Vote.consultation_id == consultation.id))
    voters = list(
        (
            await session.scalars(
                select(User).where(User.email.like("votant%@demo.consult.test")).order_by(User.id)
            )
        ).all()
    )[:40]
    assert len(voters) == 40
    amendments = list(
        (
            await session.scalars(
                select(Contribution.id)
                .where(
                    Contribution.consultation_id == consultation.id,
                    Contribution.kind == ContributionKind.AMENDMENT,
                    Contribution.visibility == Visibility.VISIBLE,
                )
                .order_by(Contribution.id)
                .limit(12)
            )
        ).all()
    )
    bridge, divisive, lonely = amendments[0], amendments[1:11], amendments[11]
    for number, voter in enumerate(voters):
        camp = number % 2
        session.add(
            Vote(
                voter_id=voter.id,
                consultation_id=consultation.id,
                contribution_id=bridge,
                value=VoteValue.FOR,
            )
        )
        for index, amendment in enumerate(divisive):
            session.add(
                Vote(
                    voter_id=voter.id,
                    consultation_id=consultation.id,
                    contribution_id=amendment,
                    value=VoteValue.FOR if index % 2 == camp else VoteValue.AGAINST,
                )
            )
    session.add(
        Vote(
            voter_id=voters[0].id,
            consultation_id=consultation.id,
            contribution_id=lonely,
            value=VoteValue.FOR,
        )
    )
    return Planted(bridge, divisive, lonely, voters)
