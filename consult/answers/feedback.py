"""What the public sees of the answers: per article, the decisions and their reasons, the
counts a parliament can cite, and each citizen's own contributions with their fate."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.answers.inbox import StateCounts, counts_by_article, total_of
from consult.answers.models import Answer, AnswerScope, ContributionOutcome
from consult.answers.services import ANSWERABLE_KINDS
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, Visibility
from consult.synthesis.models import SynthesisCluster
from consult.synthesis.runs import latest_report_run

# Answers to single contributions listed per article on the feedback page; every one of them
# is in the open-data export and on the contribution's own page.
LISTED_OWN_ANSWERS = 20
MY_CONTRIBUTIONS_PER_PAGE = 50


@dataclass
class ArticleFeedback:
    """One article's part of the feedback page."""

    key: str
    counts: StateCounts
    clusters: list[tuple[SynthesisCluster, Answer | None]] = field(default_factory=list)
    """The article's groups in the latest synthesis, each with its answer if published."""
    group_answers: list[Answer] = field(default_factory=list)
    own_answers: list[tuple[Contribution, Answer]] = field(default_factory=list)
    own_answer_count: int = 0


@dataclass
class ConsultationFeedback:
    """The whole feedback page: totals, answers to the whole consultation, then by article."""

    total: StateCounts
    general_answers: list[Answer]
    articles: dict[str, ArticleFeedback]


async def consultation_feedback(
    db: AsyncSession, consultation: Consultation, article_keys: list[str]
) -> ConsultationFeedback:
    """The published answers of a consultation, arranged by article in bill order."""
    counts = await counts_by_article(db, consultation)
    articles = {key: ArticleFeedback(key, counts.get(key, StateCounts())) for key in article_keys}
    for key, line in counts.items():
        articles.setdefault(key, ArticleFeedback(key, line))
    published = Answer.consultation_id == consultation.id, Answer.published_at.is_not(None)
    run = await latest_report_run(db, consultation.id)
    if run is not None:
        groups = await db.execute(
            select(SynthesisCluster, Answer)
            .outerjoin(
                Answer,
                (Answer.cluster_id == SynthesisCluster.id) & Answer.published_at.is_not(None),
            )
            .where(
                SynthesisCluster.run_id == run.id,
                SynthesisCluster.scope != "",
                SynthesisCluster.position >= 0,
                SynthesisCluster.merged_into_id.is_(None),
            )
            .order_by(SynthesisCluster.scope, SynthesisCluster.position)
        )
        for cluster, group_answer in groups:
            if cluster.scope in articles:
                articles[cluster.scope].clusters.append((cluster, group_answer))
    general: list[Answer] = []
    for answer in (
        await db.scalars(
            select(Answer)
            .where(*published, Answer.scope != AnswerScope.CONTRIBUTION)
            .order_by(Answer.published_at, Answer.id)
        )
    ).all():
        if answer.article_key in articles:
            articles[answer.article_key].group_answers.append(answer)
        else:
            general.append(answer)
    own_counts = await db.execute(
        select(Answer.article_key, func.count())
        .where(*published, Answer.scope == AnswerScope.CONTRIBUTION)
        .group_by(Answer.article_key)
    )
    for key, count in own_counts:
        if key in articles:
            articles[key].own_answer_count = int(count)
    ranked = (
        select(
            Answer.id,
            func.row_number()
            .over(partition_by=Answer.article_key, order_by=(Answer.published_at, Answer.id))
            .label("rank"),
        )
        .where(*published, Answer.scope == AnswerScope.CONTRIBUTION)
        .subquery()
    )
    rows = await db.execute(
        select(Contribution, Answer)
        .join(Answer, Answer.contribution_id == Contribution.id)
        .join(ranked, ranked.c.id == Answer.id)
        .where(ranked.c.rank <= LISTED_OWN_ANSWERS)
        .order_by(Answer.published_at, Answer.id)
    )
    for contribution, answer in rows:
        if contribution.article_key in articles:
            articles[contribution.article_key].own_answers.append((contribution, answer))
    return ConsultationFeedback(total_of(counts), general, articles)


@dataclass(frozen=True)
class MyContribution:
    """One of a citizen's contributions, with the answer that stands for it."""

    contribution: Contribution
    consultation: Consultation
    outcome: Answer | None


@dataclass
class MyContributions:
    """A page of someone's contributions, newest first."""

    items: list[MyContribution]
    total: int
    answered: int
    page: int
    per_page: int = MY_CONTRIBUTIONS_PER_PAGE

    @property
    def pages(self) -> int:
        """How many pages there are."""
        return max(1, -(-self.total // self.per_page))


async def my_contributions(db: AsyncSession, user_id: int, page: int = 1) -> MyContributions:
    """What a citizen wrote that gets answered, each with its fate (published answers only)."""
    mine = (
        Contribution.author_id == user_id,
        Contribution.kind.in_(ANSWERABLE_KINDS),
        Contribution.visibility == Visibility.VISIBLE,
    )
    total = int(await db.scalar(select(func.count()).where(*mine)) or 0)
    answered = int(
        await db.scalar(
            select(func.count())
            .select_from(Contribution)
            .join(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
            .where(*mine)
        )
        or 0
    )
    page = max(1, page)
    rows = await db.execute(
        select(Contribution, Consultation, Answer)
        .join(Consultation, Consultation.id == Contribution.consultation_id)
        .outerjoin(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
        .outerjoin(Answer, Answer.id == ContributionOutcome.answer_id)
        .where(*mine)
        .order_by(Contribution.created_at.desc(), Contribution.id.desc())
        .limit(MY_CONTRIBUTIONS_PER_PAGE)
        .offset((page - 1) * MY_CONTRIBUTIONS_PER_PAGE)
    )
    items = [MyContribution(c, consultation, answer) for c, consultation, answer in rows]
    return MyContributions(items, total, answered, page)
