"""What became of the contributions: the public feedback page and each citizen's own list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.answers.feedback import (
    ConsultationFeedback,
    MyContributions,
    consultation_feedback,
    my_contributions,
)
from consult.bills.models import BillVersion, Provision
from consult.bills.services import article_provisions, get_article_in_bill, latest_version
from consult.consultations.models import Consultation, Phase
from consult.contributions.models import ContributionKind, Vote, VoteValue
from consult.contributions.views import AmendmentView, describe_amendment
from consult.errors import NotFound
from consult.revisions.services import redlines_of


@dataclass(frozen=True)
class FeedbackPage:
    """Per article, the answers with their reasons and the counts a parliament can cite."""

    consultation: Consultation
    version: BillVersion | None
    articles: dict[str, Provision]
    feedback: ConsultationFeedback
    redlines: dict[str, list[Any]]
    phase: Phase


# The votes "My contributions" lists, newest first.
MY_VOTES_SHOWN = 100


@dataclass(frozen=True)
class MyVote:
    """One of a citizen's votes: on an article, or on a contribution."""

    value: VoteValue
    consultation: Consultation
    article: Provision | None
    contribution_id: int | None
    at: datetime


@dataclass(frozen=True)
class MyContributionsPage:
    """A page of the contributions of the person logged in, each with its fate, the article it
    is on and an amendment's formal wording; and the person's votes."""

    listing: MyContributions
    articles: dict[int, Provision]
    """Contribution id -> the article it was written on (as that version has it)."""
    amendments: dict[int, AmendmentView]
    votes: list[MyVote]
    votes_total: int


async def feedback_page(
    db: AsyncSession, consultation: Consultation, now: datetime
) -> FeedbackPage:
    """The public feedback page, with what the latest version changed."""
    version = await latest_version(db, consultation)
    articles = await article_provisions(db, version) if version else {}
    return FeedbackPage(
        consultation=consultation,
        version=version,
        articles=articles,
        feedback=await consultation_feedback(db, consultation, list(articles)),
        redlines=await redlines_of(db, version) if version and version.number > 1 else {},
        phase=consultation.phase_at(now),
    )


async def my_contributions_page(db: AsyncSession, user_id: int, page: int) -> MyContributionsPage:
    """One page of someone's contributions, and their latest votes."""
    listing = await my_contributions(db, user_id, page)
    language = i18n.get_language()
    articles: dict[int, Provision] = {}
    amendments: dict[int, AmendmentView] = {}
    texts: dict[tuple[int, str], tuple[Provision, list[str]] | None] = {}
    for item in listing.items:
        c = item.contribution
        key = (c.version_id, c.article_key)
        if key not in texts:
            texts[key] = await _article_text(db, c.version_id, c.article_key)
        found = texts[key]
        if found is None:
            continue
        provision, alineas = found
        articles[c.id] = provision
        if c.kind is ContributionKind.AMENDMENT:
            amendments[c.id] = describe_amendment(c, alineas, provision.number, language)
    votes, total = await _my_votes(db, user_id)
    return MyContributionsPage(listing, articles, amendments, votes, total)


async def _article_text(
    db: AsyncSession, version_id: int, key: str
) -> tuple[Provision, list[str]] | None:
    """An article and its alinéas as one version has them (None if gone)."""
    version = await db.get(BillVersion, version_id)
    if version is None:
        return None
    try:
        found = await get_article_in_bill(db, version, key)
    except NotFound:
        return None
    return found.article, [a.text for a in found.alineas]


async def _my_votes(db: AsyncSession, user_id: int) -> tuple[list[MyVote], int]:
    """The latest votes of a person, the article of each article vote named."""
    total = int(await db.scalar(select(func.count()).where(Vote.voter_id == user_id)) or 0)
    rows = (
        await db.execute(
            select(Vote, Consultation)
            .join(Consultation, Consultation.id == Vote.consultation_id)
            .where(Vote.voter_id == user_id)
            .order_by(Vote.updated_at.desc(), Vote.id.desc())
            .limit(MY_VOTES_SHOWN)
        )
    ).all()
    provisions: dict[int, dict[str, Provision]] = {}
    votes = []
    for vote, consultation in rows:
        article = None
        if vote.article_key:
            if consultation.id not in provisions:
                version = await latest_version(db, consultation)
                provisions[consultation.id] = (
                    await article_provisions(db, version) if version else {}
                )
            article = provisions[consultation.id].get(vote.article_key)
        votes.append(
            MyVote(vote.value, consultation, article, vote.contribution_id, vote.updated_at)
        )
    return votes, total
