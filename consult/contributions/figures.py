"""How many people took part in a consultation, and how: the figures its page shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from consult.contributions.models import Contribution, ImportedArticleVotes, Visibility, Vote


@dataclass(frozen=True)
class ParticipationFigures:
    """Participants, contributions and votes of a consultation, and contributions per article."""

    participants: int = 0
    """People who wrote or voted: accounts counted once, and the distinct names of
    contributions imported from elsewhere without an account."""
    contributions: int = 0
    """Visible contributions of every kind, replies included."""
    votes: int = 0
    """Votes on the articles and on contributions, with the article votes imported."""
    per_article: dict[str, int] = field(default_factory=dict)
    """Article key -> its visible contributions."""


async def participation_figures(db: AsyncSession, consultation_id: int) -> ParticipationFigures:
    """The consultation's figures, counted from the rows (hidden contributions left out)."""
    visible = (
        Contribution.consultation_id == consultation_id,
        Contribution.visibility == Visibility.VISIBLE,
    )
    accounts = union(
        select(Contribution.author_id.label("who")).where(
            *visible, Contribution.author_id.is_not(None)
        ),
        select(Vote.voter_id.label("who")).where(Vote.consultation_id == consultation_id),
    ).subquery()
    with_account = int(await db.scalar(select(func.count()).select_from(accounts)) or 0)
    imported_names = int(
        await db.scalar(
            select(func.count(func.distinct(Contribution.author_pseudonym))).where(
                *visible, Contribution.author_id.is_(None), Contribution.author_pseudonym != ""
            )
        )
        or 0
    )
    per_article = {
        key: int(count)
        for key, count in await db.execute(
            select(Contribution.article_key, func.count())
            .where(*visible)
            .group_by(Contribution.article_key)
        )
    }
    votes = int(
        await db.scalar(select(func.count()).where(Vote.consultation_id == consultation_id)) or 0
    )
    imported_votes = await db.execute(
        select(
            func.coalesce(func.sum(ImportedArticleVotes.votes_for), 0),
            func.coalesce(func.sum(ImportedArticleVotes.votes_mixed), 0),
            func.coalesce(func.sum(ImportedArticleVotes.votes_against), 0),
        ).where(ImportedArticleVotes.consultation_id == consultation_id)
    )
    votes += sum(int(n) for n in imported_votes.one())
    return ParticipationFigures(
        participants=with_account + imported_names,
        contributions=sum(per_article.values()),
        votes=votes,
        per_article=per_article,
    )
