"""Votes: pour, mitigé or contre on an article or a contribution, one per person and target."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Executable, Table, bindparam, case, delete, func, or_, select
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

    One statement, whatever the vote was before: a first vote inserts the row; a vote where
    the person already voted becomes an update of their row (two first votes sent at once too:
    the unique constraint makes the second wait for the first's row), and only when the value
    changes; withdrawing deletes it. The database moves a contribution's counters with each of
    its vote rows written (`consult.contributions.vote_counters`), so they always follow them.
    """
    require_open(consultation, now, voter)
    if value and value not in {v.value for v in VoteValue}:
        raise FormError({"value": _("Choose for, mixed or against.")})
    new = VoteValue(value) if value else None
    on_contribution = contribution is not None
    cast, withdraw = _vote_statements(session.get_bind().dialect.name, on_contribution)
    mine = {
        "voter_id": voter.id,
        "consultation_id": consultation.id,
        "contribution_id": contribution.id if contribution is not None else None,
        "article_key": None if on_contribution else article_key,
    }
    if new is None:
        await session.execute(withdraw, mine)
    else:
        await session.execute(cast, mine | {"value": new, "now": now})
    return new


@functools.cache
def _vote_statements(dialect: str, on_contribution: bool) -> tuple[Executable, Executable]:
    """A vote on a contribution (or on an article) and its withdrawal, built once per process
    and kind of database, their values bound at each vote: building the conflict clause cost
    about a tenth of a vote's time. They write the table directly: no vote row is loaded."""
    votes = Vote.__table__
    assert isinstance(votes, Table)
    target = (
        [votes.c.contribution_id]
        if on_contribution
        else [votes.c.consultation_id, votes.c.article_key]
    )
    now = bindparam("now", type_=votes.c.created_at.type)
    cast = insert_for(dialect, votes).values(
        voter_id=bindparam("voter_id"),
        consultation_id=bindparam("consultation_id"),
        contribution_id=bindparam("contribution_id", type_=votes.c.contribution_id.type),
        article_key=bindparam("article_key", type_=votes.c.article_key.type),
        value=bindparam("value", type_=votes.c.value.type),
        created_at=now,
        updated_at=now,
    )
    cast = cast.on_conflict_do_update(
        index_elements=[votes.c.voter_id, *target],
        set_={"value": cast.excluded.value, "updated_at": cast.excluded.updated_at},
        where=votes.c.value != cast.excluded.value,
    )
    withdraw = delete(votes).where(
        votes.c.voter_id == bindparam("voter_id"),
        *(column == bindparam(column.key, type_=column.type) for column in target),
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
