"""Bill services: publish a parsed bill as a version, read its tree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.audit.services import record_event
from consult.bills.models import BillVersion, Provision, ProvisionKind
from consult.bills.parser import ParsedBill, ParsedProvision
from consult.consultations.models import Consultation
from consult.errors import NotFound


@dataclass(frozen=True)
class TocEntry:
    """A line of the table of contents: a division or an article."""

    provision: Provision
    depth: int


@dataclass(frozen=True)
class ArticleInBill:
    """An article with what its page shows around it."""

    version: BillVersion
    article: Provision
    alineas: list[Provision]
    ancestors: list[Provision]
    previous: Provision | None
    next: Provision | None


async def publish_version(
    session: AsyncSession,
    consultation: Consultation,
    bill: ParsedBill,
    *,
    source_text: str,
    source_format: str,
    published_by: User | None,
) -> BillVersion:
    """Store a parsed bill as the consultation's next version."""
    latest = await session.scalar(
        select(func.max(BillVersion.number)).where(BillVersion.consultation_id == consultation.id)
    )
    version = BillVersion(
        consultation_id=consultation.id,
        number=(latest or 0) + 1,
        explanatory_memorandum=bill.explanatory_memorandum,
        source_text=source_text,
        source_format=source_format,
        published_by_id=published_by.id if published_by else None,
    )
    session.add(version)
    position = 0

    def add(node: ParsedProvision, parent: Provision | None, depth: int) -> None:
        nonlocal position
        provision = Provision(
            version=version,
            parent=parent,
            kind=ProvisionKind(node.kind),
            key=node.key,
            number=node.number,
            label=node.label,
            heading=node.heading,
            text=node.text,
            position=position,
            depth=depth,
        )
        position += 1
        session.add(provision)
        for child in node.children:
            add(child, provision, depth + 1)

    for top in bill.provisions:
        add(top, None, 0)
    await session.flush()
    await record_event(
        session,
        published_by.id if published_by else None,
        "bill.version.published",
        target=f"consultation:{consultation.slug}",
        details={"version": version.number, "articles": len(bill.articles())},
    )
    return version


async def latest_version(session: AsyncSession, consultation: Consultation) -> BillVersion | None:
    """The newest version of the consultation's bill, if any."""
    return await session.scalar(
        select(BillVersion)
        .where(BillVersion.consultation_id == consultation.id)
        .order_by(BillVersion.number.desc())
        .limit(1)
    )


async def get_version(
    session: AsyncSession, consultation: Consultation, number: int | None
) -> BillVersion:
    """A given version, or the latest when `number` is None."""
    if number is None:
        version = await latest_version(session, consultation)
    else:
        version = await session.scalar(
            select(BillVersion).where(
                BillVersion.consultation_id == consultation.id, BillVersion.number == number
            )
        )
    if version is None:
        raise NotFound(f"{consultation.slug} v{number}")
    return version


async def list_versions(session: AsyncSession, consultation: Consultation) -> list[BillVersion]:
    """Every version of the bill, oldest first."""
    return list(
        (
            await session.scalars(
                select(BillVersion)
                .where(BillVersion.consultation_id == consultation.id)
                .order_by(BillVersion.number)
            )
        ).all()
    )


async def _structure(session: AsyncSession, version: BillVersion) -> list[Provision]:
    """Divisions and articles of a version, in document order (no alinéas)."""
    return list(
        (
            await session.scalars(
                select(Provision)
                .where(Provision.version_id == version.id, Provision.kind != ProvisionKind.ALINEA)
                .order_by(Provision.position)
            )
        ).all()
    )


async def table_of_contents(session: AsyncSession, version: BillVersion) -> list[TocEntry]:
    """Divisions and articles with their depth, for the consultation page."""
    return [TocEntry(p, p.depth) for p in await _structure(session, version)]


async def article_provisions(session: AsyncSession, version: BillVersion) -> dict[str, Provision]:
    """Article key -> article of the version, in bill order."""
    return {p.key: p for p in await _structure(session, version) if p.kind is ProvisionKind.ARTICLE}


async def count_articles(session: AsyncSession, version: BillVersion) -> int:
    """How many articles the version has."""
    return int(
        await session.scalar(
            select(func.count()).where(
                Provision.version_id == version.id, Provision.kind == ProvisionKind.ARTICLE
            )
        )
        or 0
    )


async def get_article_in_bill(
    session: AsyncSession, version: BillVersion, key: str
) -> ArticleInBill:
    """An article, its alinéas, its place in the tree and its neighbours."""
    structure = await _structure(session, version)
    by_id = {p.id: p for p in structure}
    articles = [p for p in structure if p.kind is ProvisionKind.ARTICLE]
    index = next((i for i, p in enumerate(articles) if p.key == key), None)
    if index is None:
        raise NotFound(key)
    article = articles[index]
    ancestors: list[Provision] = []
    parent_id = article.parent_id
    while parent_id is not None and parent_id in by_id:
        ancestors.insert(0, by_id[parent_id])
        parent_id = by_id[parent_id].parent_id
    alineas = list(
        (
            await session.scalars(
                select(Provision)
                .where(Provision.parent_id == article.id, Provision.kind == ProvisionKind.ALINEA)
                .order_by(Provision.position)
            )
        ).all()
    )
    return ArticleInBill(
        version=version,
        article=article,
        alineas=alineas,
        ancestors=ancestors,
        previous=articles[index - 1] if index > 0 else None,
        next=articles[index + 1] if index + 1 < len(articles) else None,
    )


async def bill_of_version(session: AsyncSession, version: BillVersion) -> ParsedBill:
    """A stored version as the parser's tree, to build on it (the next version, diffs)."""
    rows = list(
        (
            await session.scalars(
                select(Provision)
                .where(Provision.version_id == version.id)
                .order_by(Provision.position)
            )
        ).all()
    )
    children: dict[int | None, list[Provision]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)

    def node(row: Provision) -> ParsedProvision:
        return ParsedProvision(
            kind=row.kind.value,
            key=row.key,
            number=row.number,
            heading=row.heading,
            text=row.text,
            line=0,
            label=row.label,
            children=tuple(node(child) for child in children.get(row.id, [])),
        )

    return ParsedBill(
        version.explanatory_memorandum, tuple(node(row) for row in children.get(None, []))
    )


def article_alineas(bill: ParsedBill) -> dict[str, list[str]]:
    """Article key -> its alinéas, in bill order."""
    return {article.key: [child.text for child in article.children] for article in bill.articles()}
