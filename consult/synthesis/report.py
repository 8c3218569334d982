"""Reports: what a successful synthesis run says about one scope, read back from the database.

The same :class:`ScopeReport` feeds the HTML page, the JSON document (:func:`report_json`,
schema in docs/synthesis.md) and the PDF, so the three always agree. Quotes are the stored
text of the contributions themselves, and every count is read from the run's stored rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.contributions.models import Contribution
from consult.contributions.votes import Tally
from consult.synthesis.edits import history
from consult.synthesis.models import (
    ClusterEdit,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.synthesis.pipeline import CONSULTATION_SCOPE
from consult.text import plain_text

SCHEMA_VERSION = 1
# Points drawn on a cluster map: enough to see the shape, few enough for a light SVG.
MAP_POINTS = 1500
# Campaigns listed in full on a report (the count covers them all).
LISTED_CAMPAIGNS = 20


@dataclass(frozen=True)
class Quote:
    """A contribution quoted in a report: its own text, unchanged."""

    contribution_id: int
    kind: str
    stance: str | None
    article_key: str
    author: str
    created_at: datetime
    text: str
    tally: Tally


@dataclass
class ClusterView:
    """A cluster as a report shows it."""

    id: int
    position: int
    title: str
    keywords: list[str]
    items: int
    contributions: int
    share: float
    """Percentage of the scope's contributions."""
    tally: Tally
    stances: dict[str, int]
    kinds: dict[str, int]
    quotes: list[Quote]
    amendments: list[Quote]
    x: float
    y: float
    renamed_from: str = ""
    """The computed title, when the ministry renamed the cluster."""

    @property
    def is_other(self) -> bool:
        """The "other" group of the scope."""
        return self.position < 0


@dataclass(frozen=True)
class CampaignView:
    """A copy-paste campaign as a report shows it."""

    position: int
    representative: Quote
    copies: int
    copies_in_scope: int
    exact_copies: int
    distinct_authors: int
    first_at: datetime
    last_at: datetime
    article_keys: list[str]


@dataclass(frozen=True)
class MapPoint:
    """One contribution on the cluster map."""

    x: float
    y: float
    position: int


@dataclass(frozen=True)
class ScopeSummary:
    """One article's line in the consultation report."""

    scope: str
    contributions: int
    clusters: int
    other: int


@dataclass
class ScopeReport:
    """Everything a report page, JSON document or PDF shows about one scope of a run."""

    run: SynthesisRun
    scope: str
    total: int
    clusters: list[ClusterView]
    other: ClusterView | None
    campaigns: list[CampaignView]
    campaign_count: int
    points: list[MapPoint]
    articles: list[ScopeSummary] = field(default_factory=list)
    edits: list[ClusterEdit] = field(default_factory=list)
    """The ministry's hand edits of the scope's clusters, oldest first."""

    @property
    def outliers(self) -> int:
        """Contributions in no cluster."""
        return self.other.contributions if self.other else 0

    @property
    def too_small(self) -> bool:
        """True when the scope had too few contributions to be grouped."""
        return not self.clusters and self.total > 0


async def _quotes(db: AsyncSession, ids: Sequence[int]) -> dict[int, Quote]:
    wanted = sorted(set(ids))
    quotes: dict[int, Quote] = {}
    for start in range(0, len(wanted), 900):
        rows = await db.scalars(
            select(Contribution).where(Contribution.id.in_(wanted[start : start + 900]))
        )
        for c in rows:
            parts = [c.body, c.new_text] if c.new_text else [c.body]
            quotes[c.id] = Quote(
                contribution_id=c.id,
                kind=c.kind.value,
                stance=c.stance.value if c.stance else None,
                article_key=c.article_key,
                author=c.author_pseudonym,
                created_at=c.created_at,
                text="\n\n".join(plain_text(part) for part in parts if part),
                tally=Tally(c.votes_for, c.votes_mixed, c.votes_against),
            )
    return quotes


async def load_report(
    db: AsyncSession, run: SynthesisRun, scope: str = CONSULTATION_SCOPE
) -> ScopeReport | None:
    """The report of one scope of a run; None when the run has no such scope."""
    rows = list(
        (
            await db.scalars(
                select(SynthesisCluster)
                .where(
                    SynthesisCluster.run_id == run.id,
                    SynthesisCluster.scope == scope,
                    SynthesisCluster.merged_into_id.is_(None),
                )
                .order_by(SynthesisCluster.position)
            )
        ).all()
    )
    if not rows:
        return None
    total = sum(row.contributions for row in rows)
    quote_ids = [i for row in rows for i in (*row.quotes, *row.amendments)]
    campaign_rows, in_scope = await _campaigns(db, run, scope)
    quote_ids += [row.representative_id for row in campaign_rows[:LISTED_CAMPAIGNS]]
    quotes = await _quotes(db, quote_ids)

    views = [_cluster_view(row, total, quotes) for row in rows]
    clusters = sorted((v for v in views if not v.is_other), key=lambda v: v.position)
    other = next((v for v in views if v.is_other), None)
    campaigns = [
        CampaignView(
            position=row.position,
            representative=quotes[row.representative_id],
            copies=row.copies,
            copies_in_scope=in_scope.get(row.id, row.copies),
            exact_copies=row.exact_copies,
            distinct_authors=row.distinct_authors,
            first_at=row.first_at,
            last_at=row.last_at,
            article_keys=list(row.article_keys),
        )
        for row in campaign_rows[:LISTED_CAMPAIGNS]
        if row.representative_id in quotes
    ]
    report = ScopeReport(
        run=run,
        scope=scope,
        total=total,
        clusters=clusters,
        other=other,
        campaigns=campaigns,
        campaign_count=len(campaign_rows),
        points=await _points(db, run, scope, total, {row.id: row.position for row in rows}),
        edits=await history(db, run.id, scope),
    )
    if scope == CONSULTATION_SCOPE:
        report.articles = await _article_summaries(db, run)
    return report


def _cluster_view(row: SynthesisCluster, total: int, quotes: Mapping[int, Quote]) -> ClusterView:
    return ClusterView(
        id=row.id,
        position=row.position,
        title=row.title,
        keywords=list(row.keywords),
        items=row.items,
        contributions=row.contributions,
        share=100.0 * row.contributions / total if total else 0.0,
        tally=Tally(row.votes_for, row.votes_mixed, row.votes_against),
        stances=dict(row.stances),
        kinds=dict(row.kinds),
        quotes=[quotes[i] for i in row.quotes if i in quotes],
        amendments=[quotes[i] for i in row.amendments if i in quotes],
        x=row.x,
        y=row.y,
        renamed_from=row.original_title,
    )


async def _campaigns(
    db: AsyncSession, run: SynthesisRun, scope: str
) -> tuple[list[SynthesisCampaign], dict[int, int]]:
    """The run's campaigns that have copies in the scope, and how many copies each has there."""
    campaigns = list(
        (
            await db.scalars(
                select(SynthesisCampaign)
                .where(SynthesisCampaign.run_id == run.id)
                .order_by(SynthesisCampaign.position)
            )
        ).all()
    )
    if scope == CONSULTATION_SCOPE:
        return campaigns, {c.id: c.copies for c in campaigns}
    counts = dict(
        (
            await db.execute(
                select(SynthesisCampaignMember.campaign_id, func.count())
                .join(Contribution, Contribution.id == SynthesisCampaignMember.contribution_id)
                .join(
                    SynthesisCampaign, SynthesisCampaign.id == SynthesisCampaignMember.campaign_id
                )
                .where(SynthesisCampaign.run_id == run.id, Contribution.article_key == scope)
                .group_by(SynthesisCampaignMember.campaign_id)
            )
        ).all()
    )
    return [c for c in campaigns if c.id in counts], counts


async def _points(
    db: AsyncSession, run: SynthesisRun, scope: str, total: int, position_of: Mapping[int, int]
) -> list[MapPoint]:
    """A deterministic sample of the scope's contributions on the map (every n-th by id)."""
    stride = max(1, math.ceil(total / MAP_POINTS))
    query = select(
        SynthesisMembership.x, SynthesisMembership.y, SynthesisMembership.cluster_id
    ).where(SynthesisMembership.run_id == run.id, SynthesisMembership.scope == scope)
    if stride > 1:
        query = query.where(SynthesisMembership.contribution_id % stride == 0)
    rows = await db.execute(query.order_by(SynthesisMembership.contribution_id))
    return [MapPoint(x, y, position_of.get(cluster_id, -1)) for x, y, cluster_id in rows.all()]


async def _article_summaries(db: AsyncSession, run: SynthesisRun) -> list[ScopeSummary]:
    rows = await db.execute(
        select(
            SynthesisCluster.scope, SynthesisCluster.position, SynthesisCluster.contributions
        ).where(SynthesisCluster.run_id == run.id, SynthesisCluster.scope != CONSULTATION_SCOPE)
    )
    summaries: dict[str, list[int]] = {}
    for scope, position, contributions in rows.all():
        summary = summaries.setdefault(scope, [0, 0, 0])
        summary[0] += contributions
        if position < 0:
            summary[2] += contributions
        else:
            summary[1] += 1
    return [ScopeSummary(scope, *values) for scope, values in summaries.items()]


# --------------------------------------------------------------------------- JSON


def _quote_json(quote: Quote) -> dict[str, Any]:
    return {
        "contribution_id": quote.contribution_id,
        "kind": quote.kind,
        "stance": quote.stance,
        "article": quote.article_key,
        "author": quote.author,
        "created_at": quote.created_at.isoformat(),
        "text": quote.text,
        "votes": _votes_json(quote.tally),
    }


def _votes_json(tally: Tally) -> dict[str, int]:
    return {"pour": tally.votes_for, "mitige": tally.votes_mixed, "contre": tally.votes_against}


def _cluster_json(view: ClusterView) -> dict[str, Any]:
    return {
        "position": view.position,
        "title": view.title,
        "computed_title": view.renamed_from or view.title,
        "keywords": view.keywords,
        "items": view.items,
        "contributions": view.contributions,
        "share": round(view.share, 2),
        "votes": _votes_json(view.tally),
        "stances": view.stances,
        "kinds": view.kinds,
        "quotes": [_quote_json(q) for q in view.quotes],
        "amendments": [_quote_json(q) for q in view.amendments],
        "map": {"x": round(view.x, 4), "y": round(view.y, 4)},
    }


def report_json(report: ScopeReport, consultation_slug: str) -> dict[str, Any]:
    """The report as a JSON document (see docs/synthesis.md for the schema)."""
    run = report.run
    return {
        "schema": SCHEMA_VERSION,
        "consultation": consultation_slug,
        "scope": report.scope or None,
        "run": {
            "id": run.id,
            "model": run.model_id,
            "params": run.params,
            "seed": run.seed,
            "input_hash": run.input_hash,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "contributions": run.contribution_count,
        },
        "contributions": report.total,
        "too_small": report.too_small,
        "clusters": [_cluster_json(view) for view in report.clusters],
        "other": _cluster_json(report.other) if report.other else None,
        "outliers": report.outliers,
        "campaigns": {
            "count": report.campaign_count,
            "listed": [
                {
                    "position": c.position,
                    "copies": c.copies,
                    "copies_in_scope": c.copies_in_scope,
                    "exact_copies": c.exact_copies,
                    "distinct_authors": c.distinct_authors,
                    "first_at": c.first_at.isoformat(),
                    "last_at": c.last_at.isoformat(),
                    "articles": c.article_keys,
                    "representative": _quote_json(c.representative),
                }
                for c in report.campaigns
            ],
        },
        "edits": [
            {
                "action": e.action,
                "cluster": e.cluster_id,
                "details": e.details,
                "at": e.created_at.isoformat(),
            }
            for e in report.edits
        ],
        "articles": [
            {
                "article": s.scope,
                "contributions": s.contributions,
                "clusters": s.clusters,
                "other": s.other,
            }
            for s in report.articles
        ],
    }
