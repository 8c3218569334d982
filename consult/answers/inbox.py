"""The officials' inbox: contributions by article, then by cluster of the latest synthesis,
then one by one, with what has been answered; and the counts the public feedback cites."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.answers.models import Answer, ContributionOutcome
from consult.answers.services import ANSWERABLE_KINDS, outcomes_of
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.input import whole_number
from consult.synthesis.models import (
    CopyKind,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.synthesis.runs import latest_report_run

PER_PAGE = 25
VOTE_SPLITS = ("for", "against", "divided", "none")


@dataclass
class StateCounts:
    """Answerable contributions and what became of them."""

    total: int = 0
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        """Contributions with a published answer."""
        return sum(self.by_state.values())

    @property
    def unanswered(self) -> int:
        """Contributions still waiting for a published answer."""
        return self.total - self.answered

    def add(self, state: str | None, count: int) -> None:
        """Count ``count`` contributions in ``state`` (None: not answered yet)."""
        self.total += count
        if state is not None:
            self.by_state[state] = self.by_state.get(state, 0) + count


def _answerable(consultation: Consultation) -> ColumnElement[bool]:
    return and_(
        Contribution.consultation_id == consultation.id,
        Contribution.visibility == Visibility.VISIBLE,
        Contribution.kind.in_(ANSWERABLE_KINDS),
    )


async def counts_by_article(db: AsyncSession, consultation: Consultation) -> dict[str, StateCounts]:
    """Per article key, the answerable contributions by the state of their standing answer."""
    rows = await db.execute(
        select(Contribution.article_key, Answer.state, func.count())
        .select_from(Contribution)
        .outerjoin(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
        .outerjoin(Answer, Answer.id == ContributionOutcome.answer_id)
        .where(_answerable(consultation))
        .group_by(Contribution.article_key, Answer.state)
    )
    counts: dict[str, StateCounts] = defaultdict(StateCounts)
    for key, state, count in rows:
        counts[key].add(state.value if state is not None else None, int(count))
    return dict(counts)


def total_of(counts: dict[str, StateCounts]) -> StateCounts:
    """The counts of every article together."""
    total = StateCounts()
    for line in counts.values():
        total.total += line.total
        for state, count in line.by_state.items():
            total.by_state[state] = total.by_state.get(state, 0) + count
    return total


@dataclass(frozen=True)
class InboxFilters:
    """What the official narrows an article's contributions to."""

    unanswered: bool = False
    kind: str | None = None
    cluster: int | None = None
    campaign: int | None = None
    votes: str | None = None
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> InboxFilters:
        """Filters from a query string; unknown or malformed values are ignored."""
        kind = query.get("kind", "")
        votes = query.get("votes", "")
        return cls(
            unanswered=query.get("unanswered", "") in ("1", "on", "true"),
            kind=kind if kind in {k.value for k in ANSWERABLE_KINDS} else None,
            cluster=whole_number(query.get("cluster")),
            campaign=whole_number(query.get("campaign")),
            votes=votes if votes in VOTE_SPLITS else None,
            page=whole_number(query.get("page")) or 1,
        )

    def query_string(self, **changes: Any) -> str:
        """These filters (with ``changes``) as a query string, for links and pagination."""
        return urlencode(self.query(**changes))

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters as query parameters (with ``changes``), for links and pagination."""
        values = {
            "unanswered": "1" if self.unanswered else "",
            "kind": self.kind or "",
            "cluster": str(self.cluster or ""),
            "campaign": str(self.campaign or ""),
            "votes": self.votes or "",
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({key: str(value) for key, value in changes.items()})
        return {key: value for key, value in values.items() if value}


def _vote_split(split: str) -> ColumnElement[bool]:
    total = Contribution.votes_for + Contribution.votes_mixed + Contribution.votes_against
    if split == "none":
        return total == 0
    if split == "for":
        return Contribution.votes_for * 2 > total
    if split == "against":
        return Contribution.votes_against * 2 > total
    return and_(
        total > 0,
        Contribution.votes_for * 2 <= total,
        Contribution.votes_against * 2 <= total,
    )


@dataclass
class ClusterLine:
    """A cluster of the article in the latest synthesis, and how far it is answered."""

    cluster: SynthesisCluster
    members: int
    answered: int
    answer: Answer | None


@dataclass
class CampaignLine:
    """A campaign with copies on the article, and how far it is answered."""

    campaign: SynthesisCampaign
    members: int
    answered: int
    answer: Answer | None


@dataclass
class InboxRow:
    """One contribution with its standing answer, its own answer and its cluster."""

    contribution: Contribution
    outcome: Answer | None
    own: Answer | None
    cluster: SynthesisCluster | None


@dataclass
class ArticleInbox:
    """An article's clusters, campaigns and filtered contributions."""

    run: SynthesisRun | None
    clusters: list[ClusterLine]
    campaigns: list[CampaignLine]
    rows: list[InboxRow]
    total: int
    filters: InboxFilters
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        """How many pages of contributions there are."""
        return max(1, -(-self.total // self.per_page))


def _filtered(consultation: Consultation, key: str, filters: InboxFilters) -> Select[Contribution]:
    query = select(Contribution).where(_answerable(consultation), Contribution.article_key == key)
    if filters.unanswered:
        query = query.where(
            not_(
                select(ContributionOutcome.contribution_id)
                .where(ContributionOutcome.contribution_id == Contribution.id)
                .exists()
            )
        )
    if filters.kind:
        query = query.where(Contribution.kind == ContributionKind(filters.kind))
    if filters.cluster is not None:
        query = query.where(
            Contribution.id.in_(
                select(SynthesisMembership.contribution_id).where(
                    SynthesisMembership.cluster_id == filters.cluster
                )
            )
        )
    if filters.campaign is not None:
        query = query.where(
            Contribution.id.in_(
                select(SynthesisCampaignMember.contribution_id).where(
                    SynthesisCampaignMember.campaign_id == filters.campaign
                )
            )
        )
    if filters.votes:
        query = query.where(_vote_split(filters.votes))
    return query


async def _cluster_lines(
    db: AsyncSession, consultation: Consultation, run: SynthesisRun, key: str
) -> list[ClusterLine]:
    clusters = list(
        (
            await db.scalars(
                select(SynthesisCluster)
                .where(
                    SynthesisCluster.run_id == run.id,
                    SynthesisCluster.scope == key,
                    SynthesisCluster.merged_into_id.is_(None),
                )
                .order_by(SynthesisCluster.position < 0, SynthesisCluster.position)
            )
        ).all()
    )
    counts = {
        cluster_id: (int(members), int(answered))
        for cluster_id, members, answered in (
            await db.execute(
                select(
                    SynthesisMembership.cluster_id,
                    func.count(),
                    func.count(ContributionOutcome.contribution_id),
                )
                .join(Contribution, Contribution.id == SynthesisMembership.contribution_id)
                .outerjoin(
                    ContributionOutcome,
                    ContributionOutcome.contribution_id == SynthesisMembership.contribution_id,
                )
                .where(
                    SynthesisMembership.run_id == run.id,
                    SynthesisMembership.scope == key,
                    _answerable(consultation),
                )
                .group_by(SynthesisMembership.cluster_id)
            )
        )
    }
    answers = await _answers_by(db, Answer.cluster_id, [c.id for c in clusters])
    return [
        ClusterLine(c, *counts.get(c.id, (0, 0)), answers.get(c.id))
        for c in clusters
        if counts.get(c.id, (0, 0))[0]
    ]


async def _campaign_lines(
    db: AsyncSession, consultation: Consultation, run: SynthesisRun, key: str | None
) -> list[CampaignLine]:
    """Campaigns of the run with copies on article ``key`` (every campaign for None).

    Repost groups (one author posting a text again) are not campaigns and are not listed: each
    of their copies is answered like any contribution."""
    conditions = [
        SynthesisCampaign.run_id == run.id,
        SynthesisCampaign.kind == CopyKind.CAMPAIGN,
        _answerable(consultation),
    ]
    if key is not None:
        conditions.append(Contribution.article_key == key)
    counts = (
        await db.execute(
            select(
                SynthesisCampaignMember.campaign_id,
                func.count(),
                func.count(ContributionOutcome.contribution_id),
            )
            .join(SynthesisCampaign, SynthesisCampaign.id == SynthesisCampaignMember.campaign_id)
            .join(Contribution, Contribution.id == SynthesisCampaignMember.contribution_id)
            .outerjoin(
                ContributionOutcome,
                ContributionOutcome.contribution_id == SynthesisCampaignMember.contribution_id,
            )
            .where(*conditions)
            .group_by(SynthesisCampaignMember.campaign_id)
        )
    ).all()
    by_id = {
        campaign_id: (int(members), int(answered)) for campaign_id, members, answered in counts
    }
    campaigns = list(
        (
            await db.scalars(
                select(SynthesisCampaign)
                .where(SynthesisCampaign.id.in_(list(by_id)))
                .order_by(SynthesisCampaign.position)
            )
        ).all()
    )
    answers = await _answers_by(db, Answer.campaign_id, list(by_id))
    return [CampaignLine(c, *by_id[c.id], answers.get(c.id)) for c in campaigns]


async def _answers_by(db: AsyncSession, column: Any, ids: Sequence[int]) -> dict[int, Answer]:
    if not ids:
        return {}
    answers = (await db.scalars(select(Answer).where(column.in_(list(ids))))).all()
    return {getattr(answer, column.key): answer for answer in answers}


async def all_campaigns(db: AsyncSession, consultation: Consultation) -> list[CampaignLine]:
    """Every campaign of the latest synthesis, with how far it is answered."""
    run = await latest_report_run(db, consultation.id)
    return [] if run is None else await _campaign_lines(db, consultation, run, None)


async def article_inbox(
    db: AsyncSession, consultation: Consultation, key: str, filters: InboxFilters
) -> ArticleInbox:
    """The inbox of one article: its clusters and campaigns, then a page of contributions."""
    run = await latest_report_run(db, consultation.id)
    clusters = await _cluster_lines(db, consultation, run, key) if run else []
    campaigns = await _campaign_lines(db, consultation, run, key) if run else []
    query = _filtered(consultation, key, filters)
    total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    page = list(
        (
            await db.scalars(
                query.order_by(Contribution.created_at, Contribution.id)
                .limit(PER_PAGE)
                .offset((filters.page - 1) * PER_PAGE)
            )
        ).all()
    )
    ids = [c.id for c in page]
    outcomes = await outcomes_of(db, ids)
    own = await _answers_by(db, Answer.contribution_id, ids)
    cluster_of: dict[int, SynthesisCluster] = {}
    if run is not None and ids:
        by_id = {line.cluster.id: line.cluster for line in clusters}
        for contribution_id, cluster_id in await db.execute(
            select(SynthesisMembership.contribution_id, SynthesisMembership.cluster_id).where(
                SynthesisMembership.run_id == run.id,
                SynthesisMembership.scope == key,
                SynthesisMembership.contribution_id.in_(ids),
            )
        ):
            if cluster_id in by_id:
                cluster_of[contribution_id] = by_id[cluster_id]
    rows = [InboxRow(c, outcomes.get(c.id), own.get(c.id), cluster_of.get(c.id)) for c in page]
    return ArticleInbox(run, clusters, campaigns, rows, total, filters)
