"""Reports: what a synthesis run says about the consultation or one article, read back from the
database with the answers given since.

The same :class:`ScopeReport` feeds the HTML page, the JSON document (:func:`report_json`,
schema in docs/synthesis.md) and the PDF, so the three always agree. Quotes are the stored
text of the contributions themselves, verbatim. Every count is read from the run's stored rows,
except the fate of each amendment (its standing answer, and the version of the bill it entered),
which is read as it is now: a report published before the answers shows them once they exist.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.answers.models import Answer, AnswerScope, AnswerState
from consult.answers.services import outcomes_of
from consult.contributions.models import Contribution
from consult.contributions.votes import Tally
from consult.revisions.services import changes_by_contribution
from consult.synthesis.edits import history
from consult.synthesis.models import (
    ClusterEdit,
    CopyKind,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.synthesis.opinions import ConsultationOpinions, Target, run_opinions
from consult.synthesis.pipeline import CONSULTATION_SCOPE

SCHEMA_VERSION = 2
# Points drawn on a map: enough to see the shape, few enough for a light SVG.
MAP_POINTS = 1500
# Campaigns listed in full on a report, and repost groups likewise (the counts cover them all).
LISTED_CAMPAIGNS = 20
# Contributions of an article's "other" group listed on its report (every one is on the article).
LISTED_OTHER = 200
# Answer states that accept an amendment, wholly or in part.
ACCEPTING = (AnswerState.ACCEPTED, AnswerState.PARTIALLY_ACCEPTED)


@dataclass(frozen=True)
class Quote:
    """A contribution quoted in a report: its own stored text, unchanged."""

    contribution_id: int
    kind: str
    stance: str | None
    article_key: str
    author: str
    created_at: datetime
    text: str
    tally: Tally
    parent_id: int | None = None
    """The contribution it argues about (None: the article itself)."""


@dataclass(frozen=True)
class TargetView:
    """A group's arguments about one target, by stance (never added across targets)."""

    target: Quote | None
    """The contribution argued about; None: the article itself."""
    stances: dict[str, int]

    @property
    def total(self) -> int:
        """Arguments about this target in the group."""
        return sum(self.stances.values())


@dataclass(frozen=True)
class AmendmentFate:
    """An amendment of a group, with what became of it so far."""

    quote: Quote
    answer: AnswerState | None
    """Its standing published answer (None: none yet)."""
    entered_version: int | None
    """The first version of the bill its words entered, if they did."""

    @property
    def accepted(self) -> bool:
        """Accepted, wholly or in part."""
        return self.answer in ACCEPTING


@dataclass(frozen=True)
class GroupRef:
    """An article group as a theme lists it."""

    id: int
    scope: str
    position: int
    title: str
    contributions: int


@dataclass
class GroupView:
    """A group (an article group or a theme) as a report shows it."""

    id: int
    scope: str
    position: int
    title: str
    keywords: list[str]
    items: int
    contributions: int
    share: float
    """Percentage of the scope's contributions."""
    kinds: dict[str, int]
    quotes: list[Quote]
    targets: list[TargetView]
    amendments: list[AmendmentFate]
    x: float
    y: float
    summary: str = ""
    """The ministry's summary of the group."""
    renamed_from: str = ""
    """The computed title, when the ministry renamed the group."""
    discussion: Quote | None = None
    """For a discussion: the contribution discussed."""
    groups: list[GroupRef] = field(default_factory=list)
    """For a theme: the article groups it gathers, largest first."""
    answer: Answer | None = None
    """The answer given to the whole group (article groups), draft or published."""
    generic: bool = False
    """A group of brief reactions ("d'accord", "doublon"...) rather than a topic."""

    @property
    def is_other(self) -> bool:
        """The "other" group of the scope."""
        return self.position < 0

    @property
    def accepted(self) -> int:
        """Amendments of the group accepted, wholly or in part."""
        return sum(1 for a in self.amendments if a.accepted)


@dataclass(frozen=True)
class CampaignView:
    """A group of copies as a report shows it: a copy-paste campaign (many authors, one text)
    or a repost group (one author posting a text again), by ``kind``."""

    id: int
    position: int
    """The group's place among the run's groups of copies (campaigns first)."""
    number: int
    """Its number among the groups of its kind in the scope, from 1."""
    kind: CopyKind
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
    """One contribution on the map."""

    x: float
    y: float
    position: int


@dataclass(frozen=True)
class ArticleSummary:
    """One article's line in the consultation's report."""

    scope: str
    contributions: int
    groups: int
    other: int
    amendments: int
    accepted: int


@dataclass
class ScopeReport:
    """Everything a report page, JSON document or PDF shows about one scope of a run."""

    run: SynthesisRun
    scope: str
    total: int
    clusters: list[GroupView]
    other: GroupView | None
    campaigns: list[CampaignView]
    campaign_count: int
    points: list[MapPoint]
    reposts: list[CampaignView] = field(default_factory=list)
    """Texts posted again by their author, listed apart from the campaigns."""
    repost_count: int = 0
    articles: list[ArticleSummary] = field(default_factory=list)
    edits: list[ClusterEdit] = field(default_factory=list)
    """The ministry's hand edits of the scope's groups, oldest first."""
    listed_other: list[Quote] = field(default_factory=list)
    """An article's contributions in no group, listed as they are (the first ones)."""
    opinions: ConsultationOpinions | None = None
    """The consultation's opinion groups, stored with the run (whole consultation only; None:
    too few participants); only the targets the report lists."""
    opinion_quotes: dict[int, Quote] = field(default_factory=dict)
    """The contributions the opinion groups' section names."""

    @property
    def outliers(self) -> int:
        """Contributions in no group."""
        return self.other.contributions if self.other else 0

    @property
    def too_small(self) -> bool:
        """True when the scope had too few contributions to be grouped."""
        return not self.clusters and self.total > 0

    @property
    def amendments(self) -> int:
        """Amendments in the scope's groups (at most the ones each group lists)."""
        if self.articles:
            return sum(a.amendments for a in self.articles)
        return sum(
            len(c.amendments) for c in [*self.clusters, *([self.other] if self.other else [])]
        )

    @property
    def accepted(self) -> int:
        """Amendments of the scope accepted, wholly or in part."""
        if self.articles:
            return sum(a.accepted for a in self.articles)
        groups = [*self.clusters, *([self.other] if self.other else [])]
        return sum(c.accepted for c in groups)


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
                text="\n\n".join(part for part in parts if part),
                tally=Tally(c.votes_for, c.votes_mixed, c.votes_against),
                parent_id=c.parent_id,
            )
    return quotes


Fate = tuple[AnswerState | None, int | None]
"""An amendment's standing answer and the first version it entered."""


async def _fates(db: AsyncSession, ids: Sequence[int]) -> dict[int, Fate]:
    """Each amendment's standing published answer and the first version it entered."""
    answers = await outcomes_of(db, list(ids))
    changes = await changes_by_contribution(db, list(ids))
    return {
        i: (
            answers[i].state if i in answers else None,
            min((version.number for _change, version in changes[i]), default=None)
            if i in changes
            else None,
        )
        for i in ids
    }


async def _group_answers(db: AsyncSession, cluster_ids: Sequence[int]) -> dict[int, Answer]:
    if not cluster_ids:
        return {}
    rows = await db.scalars(
        select(Answer).where(
            Answer.scope == AnswerScope.CLUSTER, Answer.cluster_id.in_(list(cluster_ids))
        )
    )
    return {a.cluster_id: a for a in rows if a.cluster_id is not None}


async def load_report(
    db: AsyncSession, run: SynthesisRun, scope: str = CONSULTATION_SCOPE
) -> ScopeReport | None:
    """The report of one scope of a run (the themes for the whole consultation, or one
    article's groups); None when the run has no such scope."""
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
    gathered = await _gathered(db, run, rows) if scope == CONSULTATION_SCOPE else {}
    target_ids = [t["target"] for row in rows for t in row.targets if t.get("target")]
    quote_ids = [
        i
        for row in rows
        for i in (*row.quotes, *row.amendments, *([row.discussion_id] if row.discussion_id else []))
    ]
    copy_rows, in_scope = await _campaigns(db, run, scope)
    by_kind = {
        kind: [row for row in copy_rows if row.kind is kind][:LISTED_CAMPAIGNS] for kind in CopyKind
    }
    quote_ids += [row.representative_id for rows_ in by_kind.values() for row in rows_]
    quotes = await _quotes(db, [*quote_ids, *target_ids])
    fates = await _fates(db, [i for row in rows for i in row.amendments])
    answers = await _group_answers(db, [row.id for row in rows]) if scope else {}

    views = [_group_view(row, total, quotes, fates, gathered, answers) for row in rows]
    clusters = sorted((v for v in views if not v.is_other), key=lambda v: v.position)
    other = next((v for v in views if v.is_other), None)
    listed = {
        kind: [
            CampaignView(
                id=row.id,
                position=row.position,
                number=number,
                kind=kind,
                representative=quotes[row.representative_id],
                copies=row.copies,
                copies_in_scope=in_scope.get(row.id, row.copies),
                exact_copies=row.exact_copies,
                distinct_authors=row.distinct_authors,
                first_at=row.first_at,
                last_at=row.last_at,
                article_keys=list(row.article_keys),
            )
            for number, row in enumerate(rows_, start=1)
            if row.representative_id in quotes
        ]
        for kind, rows_ in by_kind.items()
    }
    report = ScopeReport(
        run=run,
        scope=scope,
        total=total,
        clusters=clusters,
        other=other,
        campaigns=listed[CopyKind.CAMPAIGN],
        campaign_count=sum(1 for row in copy_rows if row.kind is CopyKind.CAMPAIGN),
        reposts=listed[CopyKind.REPOST],
        repost_count=sum(1 for row in copy_rows if row.kind is CopyKind.REPOST),
        points=await _points(db, run, scope, total, {row.id: row.position for row in rows}),
        edits=await history(db, run.id, scope),
    )
    if scope == CONSULTATION_SCOPE:
        report.articles = await _article_summaries(db, run)
        report.opinions = await run_opinions(db, run.id, run.consultation_id, listed_only=True)
        if report.opinions is not None:
            report.opinion_quotes = await _quotes(db, _named(report.opinions))
    elif other is not None:
        report.listed_other = await _listed(db, other.id)
    return report


def _named(opinions: ConsultationOpinions) -> list[int]:
    """The contributions the opinion groups' section lists."""
    targets = [
        *(t.target for t in opinions.bridging()),
        *(t.target for t in opinions.dividing()),
        *(t for g in opinions.groups for t in (*g.supports, *g.rejects)),
    ]
    return [t.contribution_id for t in targets if t.contribution_id is not None]


async def _listed(db: AsyncSession, group_id: int) -> list[Quote]:
    """The first contributions of a group, oldest first."""
    ids = (
        await db.scalars(
            select(SynthesisMembership.contribution_id)
            .where(SynthesisMembership.cluster_id == group_id)
            .order_by(SynthesisMembership.contribution_id)
            .limit(LISTED_OTHER)
        )
    ).all()
    quotes = await _quotes(db, list(ids))
    return [quotes[i] for i in ids if i in quotes]


async def _gathered(
    db: AsyncSession, run: SynthesisRun, themes: Sequence[SynthesisCluster]
) -> dict[int, list[GroupRef]]:
    """Theme id -> the article groups it gathers, largest first."""
    rows = await db.scalars(
        select(SynthesisCluster).where(
            SynthesisCluster.run_id == run.id,
            SynthesisCluster.theme_id.in_([t.id for t in themes]),
            SynthesisCluster.merged_into_id.is_(None),
        )
    )
    found: dict[int, list[GroupRef]] = defaultdict(list)
    for row in rows:
        assert row.theme_id is not None
        found[row.theme_id].append(
            GroupRef(row.id, row.scope, row.position, row.title, row.contributions)
        )
    for refs in found.values():
        refs.sort(key=lambda ref: (-ref.contributions, ref.scope, ref.position))
    return found


def _group_view(
    row: SynthesisCluster,
    total: int,
    quotes: Mapping[int, Quote],
    fates: Mapping[int, Fate],
    gathered: Mapping[int, list[GroupRef]],
    answers: Mapping[int, Answer],
) -> GroupView:
    return GroupView(
        id=row.id,
        scope=row.scope,
        position=row.position,
        title=row.title,
        keywords=list(row.keywords),
        items=row.items,
        contributions=row.contributions,
        share=100.0 * row.contributions / total if total else 0.0,
        kinds=dict(row.kinds),
        quotes=[quotes[i] for i in row.quotes if i in quotes],
        targets=[
            TargetView(quotes.get(t["target"]) if t.get("target") else None, dict(t["stances"]))
            for t in row.targets
        ],
        amendments=[
            AmendmentFate(quotes[i], *fates.get(i, (None, None)))
            for i in row.amendments
            if i in quotes
        ],
        x=row.x,
        y=row.y,
        summary=row.summary,
        renamed_from=row.original_title,
        discussion=quotes.get(row.discussion_id) if row.discussion_id else None,
        groups=gathered.get(row.id, []),
        answer=answers.get(row.id),
        generic=row.generic,
    )


async def _campaigns(
    db: AsyncSession, run: SynthesisRun, scope: str
) -> tuple[list[SynthesisCampaign], dict[int, int]]:
    """The run's groups of copies (campaigns, then repost groups) that have copies in the
    scope, and how many copies each has there."""
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


async def _article_summaries(db: AsyncSession, run: SynthesisRun) -> list[ArticleSummary]:
    """Per article: contributions, groups, "other", amendments and how many were accepted."""
    rows = (
        await db.execute(
            select(
                SynthesisCluster.scope,
                SynthesisCluster.position,
                SynthesisCluster.contributions,
                SynthesisCluster.amendments,
            ).where(
                SynthesisCluster.run_id == run.id,
                SynthesisCluster.scope != CONSULTATION_SCOPE,
                SynthesisCluster.merged_into_id.is_(None),
            )
        )
    ).all()
    fates = await _fates(db, [i for *_rest, amendments in rows for i in amendments])
    summaries: dict[str, list[int]] = {}
    for scope, position, contributions, amendments in rows:
        summary = summaries.setdefault(scope, [0, 0, 0, 0, 0])
        summary[0] += contributions
        if position < 0:
            summary[2] += contributions
        else:
            summary[1] += 1
        summary[3] += len(amendments)
        summary[4] += sum(1 for i in amendments if fates[i][0] in ACCEPTING)
    return [ArticleSummary(scope, *values) for scope, values in summaries.items()]


# --------------------------------------------------------------------------- JSON


def _quote_json(quote: Quote) -> dict[str, Any]:
    return {
        "contribution_id": quote.contribution_id,
        "kind": quote.kind,
        "stance": quote.stance,
        "about": quote.parent_id,
        "article": quote.article_key,
        "author": quote.author,
        "created_at": quote.created_at.isoformat(),
        "text": quote.text,
        "votes": _votes_json(quote.tally),
    }


def _votes_json(tally: Tally) -> dict[str, int]:
    return {"pour": tally.votes_for, "mitige": tally.votes_mixed, "contre": tally.votes_against}


def _group_json(view: GroupView) -> dict[str, Any]:
    return {
        "id": view.id,
        "position": view.position,
        "title": view.title,
        "computed_title": view.renamed_from or view.title,
        "brief_reactions": view.generic,
        "summary": view.summary,
        "keywords": view.keywords,
        "items": view.items,
        "contributions": view.contributions,
        "share": round(view.share, 2),
        "kinds": view.kinds,
        "discussion": _quote_json(view.discussion) if view.discussion else None,
        "arguments": [
            {
                "about": t.target.contribution_id if t.target else None,
                "stances": t.stances,
            }
            for t in view.targets
        ],
        "quotes": [_quote_json(q) for q in view.quotes],
        "amendments": [
            {
                **_quote_json(a.quote),
                "answer": a.answer.value if a.answer else None,
                "entered_version": a.entered_version,
            }
            for a in view.amendments
        ],
        "accepted_amendments": view.accepted,
        "groups": [
            {"id": g.id, "article": g.scope, "title": g.title, "contributions": g.contributions}
            for g in view.groups
        ],
        "map": {"x": round(view.x, 4), "y": round(view.y, 4)},
    }


def _copies_json(view: CampaignView) -> dict[str, Any]:
    return {
        "id": view.id,
        "position": view.position,
        "number": view.number,
        "copies": view.copies,
        "copies_in_scope": view.copies_in_scope,
        "exact_copies": view.exact_copies,
        "distinct_authors": view.distinct_authors,
        "first_at": view.first_at.isoformat(),
        "last_at": view.last_at.isoformat(),
        "articles": view.article_keys,
        "representative": _quote_json(view.representative),
    }


def _target_json(target: Target) -> dict[str, Any]:
    return {
        "kind": target.kind,
        "article": target.key if target.kind == "article" else None,
        "contribution_id": target.contribution_id,
    }


def _opinions_json(opinions: ConsultationOpinions | None) -> dict[str, Any] | None:
    """Counts only: the size of each group and how each voted, never who is in which."""
    if opinions is None:
        return None
    return {
        "participants": opinions.participants,
        "voters": opinions.voters,
        "min_votes_per_participant": opinions.min_participant_votes,
        "min_votes_per_target": opinions.min_target_votes,
        "seed": opinions.seed,
        "silhouette": round(opinions.silhouette, 4),
        "votes_read_at": opinions.computed_at.isoformat() if opinions.computed_at else None,
        "groups": [
            {
                "number": g.number,
                "participants": g.participants,
                "supports": [_target_json(t) for t in g.supports],
                "rejects": [_target_json(t) for t in g.rejects],
            }
            for g in opinions.groups
        ],
        **{
            name: [
                {
                    **_target_json(t.target),
                    "votes": t.votes,
                    "consensus": round(t.consensus, 4),
                    "rejection": round(t.rejection, 4),
                    "division": round(t.division, 4),
                    "agreement_by_group": [round(r, 4) for r in t.agreement],
                    "votes_by_group": list(t.group_votes),
                }
                for t in targets
            ]
            for name, targets in (
                ("bridging", opinions.bridging()),
                ("dividing", opinions.dividing()),
            )
        },
    }


def report_json(report: ScopeReport, consultation_slug: str) -> dict[str, Any]:
    """The report as a JSON document (see docs/synthesis.md for the schema)."""
    run = report.run
    return {
        "schema": SCHEMA_VERSION,
        "consultation": consultation_slug,
        "scope": report.scope or None,
        "level": "themes" if report.scope == CONSULTATION_SCOPE else "article",
        "summary": run.summary if report.scope == CONSULTATION_SCOPE else None,
        "run": {
            "id": run.id,
            "model": run.model_id,
            "params": run.params,
            "stages": run.stages,
            "seed": run.seed,
            "input_hash": run.input_hash,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "published_at": run.published_at.isoformat() if run.published_at else None,
            "contributions": run.contribution_count,
        },
        "contributions": report.total,
        "too_small": report.too_small,
        "groups": [_group_json(view) for view in report.clusters],
        "other": _group_json(report.other) if report.other else None,
        "outliers": report.outliers,
        "amendments": {"listed": report.amendments, "accepted": report.accepted},
        "campaigns": {
            "count": report.campaign_count,
            "listed": [_copies_json(c) for c in report.campaigns],
        },
        "reposts": {
            "count": report.repost_count,
            "listed": [_copies_json(c) for c in report.reposts],
        },
        "edits": [
            {
                "action": e.action,
                "group": e.cluster_id,
                "details": e.details,
                "at": e.created_at.isoformat(),
            }
            for e in report.edits
        ],
        "articles": [
            {
                "article": s.scope,
                "contributions": s.contributions,
                "groups": s.groups,
                "other": s.other,
                "amendments": s.amendments,
                "accepted_amendments": s.accepted,
            }
            for s in report.articles
        ],
        "opinions": _opinions_json(report.opinions),
    }
