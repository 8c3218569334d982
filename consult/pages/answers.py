"""Officials' workspace: a consultation's inbox, an article's inbox, and the answer form."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.answers.inbox import (
    ArticleInbox,
    CampaignLine,
    InboxFilters,
    StateCounts,
    all_campaigns,
    article_inbox,
    counts_by_article,
    total_of,
)
from consult.answers.models import Answer, AnswerScope
from consult.answers.services import (
    AnswerTarget,
    answer_of,
    covering_answers,
    own_answer_count,
)
from consult.bills.models import Provision
from consult.bills.services import article_provisions, latest_version
from consult.consultations.models import Consultation, Phase
from consult.consultations.services import next_phases
from consult.contributions.listing import contributions_by_id
from consult.contributions.models import Contribution
from consult.errors import NotFound

# Members listed on an answer form; the count covers them all.
LISTED_MEMBERS = 20


@dataclass(frozen=True)
class InboxPage:
    """Every article with its answered and unanswered contributions, and the campaigns."""

    consultation: Consultation
    articles: dict[str, Provision]
    counts: dict[str, StateCounts]
    total: StateCounts
    campaigns: list[CampaignLine]
    phase: Phase
    next_phases: tuple[Phase, ...]
    answered: str | None = None
    """"published" or "draft" when an answer was just saved (a confirmation to show)."""


@dataclass(frozen=True)
class InboxArticlePage:
    """An article's clusters, campaigns and contributions, filtered, with their answers."""

    consultation: Consultation
    article: Provision
    inbox: ArticleInbox
    filters: InboxFilters
    answered: str | None = None
    """"published" or "draft" when an answer was just saved (a confirmation to show)."""


@dataclass(frozen=True)
class AnswerFormPage:
    """The answer to a contribution, cluster or campaign: who it reaches, draft or publish."""

    consultation: Consultation
    target: AnswerTarget
    article: Provision | None
    answer: Answer | None
    members: list[Contribution]
    reach: int
    own_answers: int
    """Members that have an answer of their own, which this one will not replace."""
    covering: list[Answer]
    """For a contribution: the group or campaign answers that already reach it."""
    values: Mapping[str, str]
    errors: Mapping[str, str]
    next_url: str
    reached: list[ReachedArticle] = field(default_factory=list)
    """Where the answer goes: per article, the contributions it reaches by kind."""


@dataclass(frozen=True)
class ReachedArticle:
    """The contributions an answer reaches on one article, by kind."""

    article: Provision | None
    key: str
    kinds: dict[str, int]

    @property
    def total(self) -> int:
        """Contributions reached on the article."""
        return sum(self.kinds.values())


@dataclass(frozen=True)
class AnswerInput:
    """What the official typed in the answer form, shown again with the errors."""

    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


async def _articles(db: AsyncSession, consultation: Consultation) -> dict[str, Provision]:
    version = await latest_version(db, consultation)
    return await article_provisions(db, version) if version else {}


async def inbox_page(
    db: AsyncSession, consultation: Consultation, now: datetime, answered: str | None = None
) -> InboxPage:
    """A consultation's inbox."""
    counts = await counts_by_article(db, consultation)
    return InboxPage(
        consultation=consultation,
        articles=await _articles(db, consultation),
        counts=counts,
        total=total_of(counts),
        campaigns=await all_campaigns(db, consultation),
        phase=consultation.phase_at(now),
        next_phases=next_phases(consultation, now),
        answered=answered,
    )


async def inbox_article_page(
    db: AsyncSession,
    consultation: Consultation,
    key: str,
    filters: InboxFilters,
    answered: str | None = None,
) -> InboxArticlePage:
    """One article's inbox (NotFound for an article the latest version does not have)."""
    articles = await _articles(db, consultation)
    if key not in articles:
        raise NotFound(key)
    inbox = await article_inbox(db, consultation, key, filters)
    return InboxArticlePage(consultation, articles[key], inbox, filters, answered)


async def _reached(
    db: AsyncSession, members: Sequence[int], articles: Mapping[str, Provision]
) -> list[ReachedArticle]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for start in range(0, len(members), 900):
        rows = await db.execute(
            select(Contribution.article_key, Contribution.kind).where(
                Contribution.id.in_(list(members[start : start + 900]))
            )
        )
        for key, kind in rows:
            counts[key][kind.value] += 1
    order = {key: index for index, key in enumerate(articles)}
    return [
        ReachedArticle(articles.get(key), key, dict(sorted(kinds.items())))
        for key, kinds in sorted(counts.items(), key=lambda pair: order.get(pair[0], len(order)))
    ]


async def answer_form_page(
    db: AsyncSession,
    consultation: Consultation,
    target: AnswerTarget,
    *,
    next_url: str,
    sent: AnswerInput | None = None,
) -> AnswerFormPage:
    """The answer form, filled with the answer saved so far, or with what was sent."""
    answer = await answer_of(db, target)
    articles = await _articles(db, consultation)
    grouped = target.scope is not AnswerScope.CONTRIBUTION
    covering = [] if grouped else await covering_answers(db, target.id)
    saved = {"state": answer.state.value, "reason": answer.reason} if answer else {}
    return AnswerFormPage(
        consultation=consultation,
        target=target,
        article=articles.get(target.article_key),
        answer=answer,
        members=await contributions_by_id(db, list(target.members[:LISTED_MEMBERS])),
        reach=len(target.members),
        own_answers=await own_answer_count(db, list(target.members)) if grouped else 0,
        covering=[a for a in covering if a.scope is not AnswerScope.CONTRIBUTION],
        values=sent.values if sent and sent.values else saved,
        errors=sent.errors if sent else {},
        next_url=next_url,
        reached=await _reached(db, target.members, articles),
    )
