"""Listing contributions: an article's page of contributions, threads, lookups by id."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from consult.bills.footprints import Footprint
from consult.bills.models import BillVersion
from consult.consultations.models import Consultation
from consult.contributions.article_context import in_latest_version
from consult.contributions.models import (
    Contribution,
    ContributionKind,
    Visibility,
)
from consult.errors import NotFound

PER_PAGE = 20
THREAD_SHOWN = 10
"""Replies shown under each contribution of a page (the oldest first); the rest of a thread is
one link away, so that a page's work stays bounded however long a debate grows."""
SORTS = ("supported", "contested", "newest")


def controversy_score() -> ColumnElement[int]:
    """Many votes on both sides: twice the smaller side, plus the mixed votes."""
    smaller = case(
        (Contribution.votes_for < Contribution.votes_against, Contribution.votes_for),
        else_=Contribution.votes_against,
    )
    return smaller * 2 + Contribution.votes_mixed


@dataclass
class ContributionPage:
    """One page of an article's top-level contributions, with their threads."""

    items: list[Contribution]
    children: dict[int, list[Contribution]] = field(default_factory=dict)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE
    thread_sizes: dict[int, int] = field(default_factory=dict)
    """Top-level contribution id -> replies and arguments in its whole thread, where only the
    first `THREAD_SHOWN` of them are listed."""

    def more_in_thread(self, contribution_id: int) -> int:
        """How many of the thread's contributions the page leaves out."""
        size = self.thread_sizes.get(contribution_id, 0)
        return max(0, size - THREAD_SHOWN)

    @property
    def pages(self) -> int:
        """How many pages there are."""
        return max(1, -(-self.total // self.per_page))


async def list_contributions(
    session: AsyncSession,
    consultation: Consultation,
    article_key: str,
    *,
    sort: str = "supported",
    kind: str | None = None,
    alinea: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    where: ColumnElement[bool] | None = None,
    whole_threads: bool = False,
) -> ContributionPage:
    """Top-level contributions on an article, sorted, filtered and paginated (``where``: a
    further condition, such as leaving out the copies of a letter shown once), each with the
    first `THREAD_SHOWN` contributions of its thread (all of them with `whole_threads`).

    Two queries whatever the page size: the page with the count of every match, and the
    replies or arguments shown in the page's threads (through `root_id`), with the size of
    each thread (a third counts the matches when the page asked for is past the last one).
    """
    query = select(Contribution).where(
        Contribution.consultation_id == consultation.id,
        Contribution.article_key == article_key,
        Contribution.parent_id.is_(None),
    )
    if where is not None:
        query = query.where(where)
    if kind in {k.value for k in ContributionKind}:
        query = query.where(Contribution.kind == ContributionKind(kind))
    if alinea is not None:
        query = query.where(Contribution.alinea == alinea)
    order: list[ColumnElement[Any]]
    if sort == "newest":
        order = [Contribution.created_at.desc(), Contribution.id.desc()]
    elif sort == "contested":
        order = [controversy_score().desc(), Contribution.id.desc()]
    else:
        order = [
            (Contribution.votes_for - Contribution.votes_against).desc(),
            Contribution.votes_for.desc(),
            Contribution.id.desc(),
        ]
    page = max(1, page)
    # The count of every match comes with each row of the page (one query, not two).
    rows = (
        await session.execute(
            query.add_columns(func.count().over().label("matches"))
            .order_by(*order)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ).all()
    items = [row[0] for row in rows]
    total = int(rows[0][1]) if rows else 0
    if not rows and page > 1:  # past the last page: how many there are, to link back
        total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    children: dict[int, list[Contribution]] = {}
    sizes: dict[int, int] = {}
    if items:
        for child, size in await _threads([item.id for item in items], session, whole_threads):
            children.setdefault(child.parent_id or 0, []).append(child)
            if not whole_threads:
                sizes[child.root_id or 0] = size
    return ContributionPage(items, children, total, page, per_page, sizes)


async def _threads(
    root_ids: list[int], session: AsyncSession, whole: bool
) -> list[tuple[Contribution, int]]:
    """The first contributions of each thread, oldest first (a reply always comes after what
    it answers, so what is shown is a whole branch), each with the size of its thread."""
    ranked = (
        select(
            Contribution,
            func.row_number()
            .over(
                partition_by=Contribution.root_id,
                order_by=(Contribution.created_at, Contribution.id),
            )
            .label("place"),
            func.count().over(partition_by=Contribution.root_id).label("size"),
        )
        .where(Contribution.root_id.in_(root_ids))
        .subquery()
    )
    shown = aliased(Contribution, ranked)
    query = select(shown, ranked.c.size).order_by(ranked.c.created_at, ranked.c.id)
    if not whole:
        query = query.where(ranked.c.place <= THREAD_SHOWN)
    return [(child, int(size)) for child, size in (await session.execute(query)).all()]


async def get_contribution(
    session: AsyncSession, consultation: Consultation, contribution_id: int
) -> Contribution:
    """A contribution of this consultation, or NotFound."""
    contribution = await session.get(Contribution, contribution_id)
    if contribution is None or contribution.consultation_id != consultation.id:
        raise NotFound(str(contribution_id))
    return contribution


@functools.cache
def _contribution_on_article_query() -> Select[Contribution]:
    """Built once per process, its values bound at each call: a vote asks it every time, and
    building it (its subqueries above all) cost more than running it."""
    return select(Contribution).where(
        Contribution.id == bindparam("contribution_id", type_=Integer),
        Contribution.consultation_id == bindparam("consultation_id", type_=Integer),
        Contribution.article_key == bindparam("article_key", type_=String),
        in_latest_version(),
    )


async def contribution_on_article(
    session: AsyncSession, consultation: Consultation, contribution_id: int, article_key: str
) -> Contribution:
    """A contribution of this consultation on this article, an article of the latest version
    of the bill (one query: all a vote needs to know of them), or NotFound."""
    contribution = await session.scalar(
        _contribution_on_article_query(),
        {
            "contribution_id": contribution_id,
            "consultation_id": consultation.id,
            "article_key": article_key,
        },
    )
    if contribution is None:
        raise NotFound(str(contribution_id))
    return contribution


async def anchored_on_version(
    session: AsyncSession, version: BillVersion, article_key: str
) -> list[Contribution]:
    """Visible contributions anchored to a passage of this article version (for highlights)."""
    return list(
        (
            await session.scalars(
                select(Contribution).where(
                    Contribution.version_id == version.id,
                    Contribution.article_key == article_key,
                    Contribution.quote_start.is_not(None),
                    Contribution.visibility == Visibility.VISIBLE,
                )
            )
        ).all()
    )


async def amendment_footprints(
    session: AsyncSession, consultation: Consultation, article_key: str
) -> list[tuple[int, Footprint]]:
    """Where each visible amendment on the article acts, oldest first (a light query)."""
    rows = await session.execute(
        select(
            Contribution.id,
            Contribution.span_scope,
            Contribution.alinea,
            Contribution.span_start,
            Contribution.span_end,
        )
        .where(
            Contribution.consultation_id == consultation.id,
            Contribution.article_key == article_key,
            Contribution.kind == ContributionKind.AMENDMENT,
            Contribution.visibility == Visibility.VISIBLE,
        )
        .order_by(Contribution.created_at, Contribution.id)
    )
    return [
        (row_id, Footprint(scope or "article", number or 0, start or 0, end or 0))  # type: ignore[arg-type]
        for row_id, scope, number, start, end in rows
    ]


async def contributions_by_id(session: AsyncSession, ids: list[int]) -> list[Contribution]:
    """These contributions, oldest first."""
    if not ids:
        return []
    return list(
        (
            await session.scalars(
                select(Contribution)
                .where(Contribution.id.in_(ids))
                .order_by(Contribution.created_at, Contribution.id)
            )
        ).all()
    )
