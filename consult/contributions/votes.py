"""Votes: pour, mitigé or contre on an article or a contribution, one per person and target."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Executable, Table, bindparam, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from consult.accounts.models import User
from consult.bills.models import BillVersion
from consult.consultations.models import Consultation
from consult.contributions.article_context import require_open
from consult.contributions.models import (
    Contribution,
    ImportedArticleVotes,
    Vote,
    VoteValue,
)
from consult.db import insert_for
from consult.errors import FormError
from consult.i18n import gettext as _


@dataclass(frozen=True)
class Tally:
    """Vote counts on one target."""

    votes_for: int = 0
    votes_mixed: int = 0
    votes_against: int = 0
    earlier: tuple[tuple[int, int], ...] = ()
    """(version number, votes) for the votes counted here that were cast while an earlier
    version of the text was in force: a reader is told what they voted on."""

    @property
    def total(self) -> int:
        """All votes."""
        return self.votes_for + self.votes_mixed + self.votes_against

    def share(self, value: str) -> int:
        """Percentage (0–100) of votes with `value`, for the bar."""
        if not self.total:
            return 0
        count = {"pour": self.votes_for, "mitige": self.votes_mixed, "contre": self.votes_against}
        return round(100 * count[value] / self.total)


async def cast_vote(
    session: AsyncSession,
    voter: User,
    consultation: Consultation,
    *,
    now: datetime,
    value: str | None,
    article_key: str | None = None,
    contribution: Contribution | None = None,
) -> VoteValue | None:
    """Vote on an article or a contribution, change the vote, or withdraw it (None).

    Safe under concurrent submissions: the unique constraint decides between two first votes
    (the losing insert becomes an update of the winner's row), and the database moves a
    contribution's counters with each of its vote rows written, so they always follow them.
    """
    require_open(consultation, now, voter)
    if value and value not in {v.value for v in VoteValue}:
        raise FormError({"value": _("Choose for, mixed or against.")})
    new = VoteValue(value) if value else None
    if contribution is not None:
        await _write_contribution_vote(session, voter, consultation, contribution, new, now)
        return new
    target = (Vote.consultation_id == consultation.id) & (Vote.article_key == article_key)
    existing = await session.scalar(select(Vote).where(Vote.voter_id == voter.id, target))
    if existing is None and new is not None:
        try:
            async with session.begin_nested():
                session.add(
                    Vote(
                        voter_id=voter.id,
                        consultation_id=consultation.id,
                        article_key=article_key,
                        value=new,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            existing = await session.scalar(select(Vote).where(Vote.voter_id == voter.id, target))
        else:
            return new
    if existing is None or existing.value == new:
        return new
    if new is None:
        await session.delete(existing)
    else:
        existing.value = new
        existing.updated_at = now
    await session.flush()
    return new


async def _write_contribution_vote(
    session: AsyncSession,
    voter: User,
    consultation: Consultation,
    contribution: Contribution,
    new: VoteValue | None,
    now: datetime,
) -> None:
    """The vote on a contribution in one statement; the database moves its counters
    (`consult.contributions.vote_counters`).

    A first vote inserts the row; a vote where the person already voted becomes an update of
    their row (two first votes sent at once too: the second waits for the first's row), and
    only when the value changes; withdrawing deletes it.
    """
    cast, withdraw = _contribution_vote_statements(session.get_bind().dialect.name)
    mine = {"voter_id": voter.id, "contribution_id": contribution.id}
    if new is None:
        await session.execute(withdraw, mine)
        return
    values = {"consultation_id": consultation.id, "value": new, "now": now}
    await session.execute(cast, mine | values)


@functools.cache
def _contribution_vote_statements(dialect: str) -> tuple[Executable, Executable]:
    """The vote on a contribution and its withdrawal, built once per process and kind of
    database, their values bound at each vote: building the conflict clause cost about a
    tenth of a vote's time. They write the table directly, as no vote row is ever loaded."""
    votes = Vote.__table__
    assert isinstance(votes, Table)
    now = bindparam("now", type_=votes.c.created_at.type)
    cast = insert_for(dialect, votes).values(
        voter_id=bindparam("voter_id"),
        consultation_id=bindparam("consultation_id"),
        contribution_id=bindparam("contribution_id"),
        value=bindparam("value", type_=votes.c.value.type),
        created_at=now,
        updated_at=now,
    )
    cast = cast.on_conflict_do_update(
        index_elements=[votes.c.voter_id, votes.c.contribution_id],
        set_={"value": cast.excluded.value, "updated_at": cast.excluded.updated_at},
        where=votes.c.value != cast.excluded.value,
    )
    withdraw = delete(votes).where(
        votes.c.voter_id == bindparam("voter_id"),
        votes.c.contribution_id == bindparam("contribution_id"),
    )
    return cast, withdraw


async def article_tally(
    session: AsyncSession, consultation: Consultation, article_key: str
) -> Tally:
    """Vote counts on an article: the votes cast here, and those imported from elsewhere (one
    query for both)."""
    imported_key = (ImportedArticleVotes.consultation_id == consultation.id) & (
        ImportedArticleVotes.article_key == article_key
    )

    def counted(value: VoteValue, imported: InstrumentedAttribute[int]) -> ColumnElement[int]:
        here = func.coalesce(func.sum(case((Vote.value == value, 1), else_=0)), 0)
        elsewhere = select(imported).where(imported_key).scalar_subquery()
        return here + func.coalesce(elsewhere, 0)

    row = (
        await session.execute(
            select(
                counted(VoteValue.FOR, ImportedArticleVotes.votes_for),
                counted(VoteValue.MIXED, ImportedArticleVotes.votes_mixed),
                counted(VoteValue.AGAINST, ImportedArticleVotes.votes_against),
            ).where(Vote.consultation_id == consultation.id, Vote.article_key == article_key)
        )
    ).one()
    return Tally(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        await _votes_on_earlier_versions(session, consultation, article_key),
    )


async def _votes_on_earlier_versions(
    session: AsyncSession, consultation: Consultation, article_key: str
) -> tuple[tuple[int, int], ...]:
    """(version number, votes) of the article's votes last cast before the current version
    was published, each counted on the version in force when it was cast."""
    versions = (
        await session.execute(
            select(BillVersion.number, BillVersion.published_at)
            .where(BillVersion.consultation_id == consultation.id)
            .order_by(BillVersion.number)
        )
    ).all()
    earlier: list[tuple[int, int]] = []
    for (number, starts), (_next, ends) in itertools.pairwise(versions):
        conditions = [
            Vote.consultation_id == consultation.id,
            Vote.article_key == article_key,
            Vote.updated_at < ends,
        ]
        if number > versions[0][0]:
            conditions.append(Vote.updated_at >= starts)
        count = int(await session.scalar(select(func.count()).where(*conditions)) or 0)
        if count:
            earlier.append((number, count))
    return tuple(earlier)


def tally_of(contribution: Contribution) -> Tally:
    """Vote counts on a contribution (kept in its row)."""
    return Tally(contribution.votes_for, contribution.votes_mixed, contribution.votes_against)


async def votes_of(
    session: AsyncSession,
    voter: User | None,
    consultation: Consultation,
    contribution_ids: list[int],
    article_key: str | None = None,
) -> dict[int | str, VoteValue]:
    """The viewer's current votes on these contributions (and on the article), in one query."""
    if voter is None or not (contribution_ids or article_key):
        return {}
    targets: list[ColumnElement[bool]] = []
    if contribution_ids:
        targets.append(Vote.contribution_id.in_(contribution_ids))
    if article_key is not None:
        targets.append(
            (Vote.consultation_id == consultation.id) & (Vote.article_key == article_key)
        )
    rows = await session.execute(
        select(Vote.contribution_id, Vote.article_key, Vote.value).where(
            Vote.voter_id == voter.id, or_(*targets)
        )
    )
    found: dict[int | str, VoteValue] = {}
    for contribution_id, key, value in rows:
        target = contribution_id if contribution_id is not None else key
        if target is not None:
            found[target] = value
    return found
