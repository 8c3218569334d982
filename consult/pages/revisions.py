"""The next version of the bill (officials), and what changed between versions (everyone)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.accounts.models import User
from consult.bills.models import BillVersion
from consult.bills.parser import BillParseError, ParsedBill, parse_bill
from consult.bills.services import article_alineas, bill_of_version, get_version, list_versions
from consult.bills.wording import formal_wording
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.contributions.models import Contribution, Visibility
from consult.contributions.writing import operation_of
from consult.errors import NotFound
from consult.revisions.builder import Built
from consult.revisions.models import VersionDraft
from consult.revisions.redline import as_rows
from consult.revisions.services import (
    ArticleComparison,
    Candidate,
    build_draft,
    compare_versions,
    draft_text,
    find_draft,
    lost_conflicts,
    publication_of,
    redlines_of,
)


@dataclass(frozen=True)
class DraftPage:
    """The accepted amendments to pick, the conflicts to settle, and the text they give
    (or, for the hand edit, that text in the import format)."""

    consultation: Consultation
    version: BillVersion
    draft: VersionDraft
    built: Built
    candidates: list[Candidate]
    by_id: dict[int, Candidate]
    wordings: dict[int, str]
    numbers: dict[str, str]
    redlines: dict[str, Any]
    source: str
    errors: Mapping[str, str] = field(default_factory=dict)
    lost: dict[int, int] = field(default_factory=dict)
    """Amendments answered accepted that a choice left out -> the one kept (0: none)."""


@dataclass(frozen=True)
class ConfirmPage:
    """What publishing the next version will change, and whom it concerns, before the final
    click."""

    draft: DraftPage
    is_open: bool
    """Contributions are still open: publishing needs a reason."""
    changed_articles: list[str]
    """Keys of the articles the version changes, in the bill's order."""
    taken_in: list[int]
    """Amendments the version takes in."""
    authors_taken_in: int
    """People whose amendments the version takes in."""
    authors_affected: int
    """Other people who wrote on the articles it changes."""
    reason: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangesPage:
    """What changed in a version, word by word, and which amendment or edit changed it."""

    consultation: Consultation
    version: BillVersion
    previous: BillVersion
    comparisons: list[ArticleComparison]
    redlines: dict[str, list[Any]]
    origins: list[int]
    already_published: bool = False
    """Reached by publishing a version someone had just published: say nothing was doubled."""
    reason: str = ""
    """Why it was published while contributions were open."""
    lost: dict[int, int] = field(default_factory=dict)
    """Amendments answered accepted that a choice left out -> the one kept (0: none)."""


@dataclass(frozen=True)
class ComparePage:
    """Any two versions compared, by article and by word."""

    consultation: Consultation
    versions: list[BillVersion]
    older: BillVersion
    newer: BillVersion
    comparisons: list[ArticleComparison]
    unchanged: int


async def draft_page(
    db: AsyncSession,
    consultation: Consultation,
    official: User,
    now: datetime,
    *,
    errors: Mapping[str, str] | None = None,
    source: str | None = None,
) -> DraftPage:
    """The next version as the official's picks make it (FormError before a bill exists);
    `source`: a hand edit shown again as typed."""
    draft, version = await find_draft(db, consultation, official, now)
    base, built, candidates = await build_draft(db, consultation, draft, version)
    alineas = article_alineas(base)
    language = i18n.get_language()
    numbers = {article.key: article.number for article in base.articles()}
    wordings = {
        c.contribution.id: formal_wording(
            operation_of(c.contribution),
            numbers.get(c.contribution.article_key, ""),
            alineas.get(c.contribution.article_key, []),
            language,
        )
        for c in candidates
    }
    return DraftPage(
        consultation=consultation,
        version=version,
        draft=draft,
        built=built,
        candidates=candidates,
        by_id={c.contribution.id: c for c in candidates},
        wordings=wordings,
        numbers=numbers,
        redlines={
            key: as_rows(redline.lines())
            for key, redline in built.redlines.items()
            if redline.changed
        },
        source=source if source is not None else draft_text(draft, built),
        errors=errors or {},
        lost=lost_conflicts(built, candidates),
    )


def _changed_articles(page: DraftPage, base: ParsedBill) -> list[str]:
    before = article_alineas(base)
    try:
        after = article_alineas(parse_bill(page.source, format="markdown"))
    except BillParseError:
        after = article_alineas(page.built.bill)
    return [
        key
        for key in [*after, *(k for k in before if k not in after)]
        if before.get(key) != after.get(key)
    ]


async def _authors(db: AsyncSession, *where: Any) -> set[int]:
    rows = await db.scalars(
        select(Contribution.author_id)
        .where(
            Contribution.author_id.is_not(None),
            Contribution.visibility == Visibility.VISIBLE,
            *where,
        )
        .distinct()
    )
    return {int(i) for i in rows if i is not None}


async def confirm_page(
    db: AsyncSession,
    consultation: Consultation,
    official: User,
    now: datetime,
    *,
    reason: str = "",
    errors: Mapping[str, str] | None = None,
) -> ConfirmPage:
    """The confirmation of publishing the next version (FormError before a bill exists)."""
    draft = await draft_page(db, consultation, official, now)
    base = await bill_of_version(db, draft.version)
    changed = _changed_articles(draft, base)
    taken_in = list(draft.built.applied)
    authors = await _authors(db, Contribution.id.in_(taken_in or [0]))
    around = await _authors(
        db,
        Contribution.consultation_id == consultation.id,
        Contribution.article_key.in_(changed or [""]),
    )
    return ConfirmPage(
        draft=draft,
        is_open=accepts_contributions(consultation, now),
        changed_articles=changed,
        taken_in=taken_in,
        authors_taken_in=len(authors),
        authors_affected=len(around - authors),
        reason=reason,
        errors=errors or {},
    )


async def changes_page(
    db: AsyncSession, consultation: Consultation, number: int, already_published: bool = False
) -> ChangesPage:
    """The changes of version `number` (NotFound for the first version, which changed none)."""
    version = await get_version(db, consultation, number)
    if version.number < 2:
        raise NotFound(str(version.number))
    previous = await get_version(db, consultation, version.number - 1)
    comparisons = await compare_versions(db, previous, version)
    redlines = await redlines_of(db, version)
    origins = sorted(
        {
            piece[2]
            for lines in redlines.values()
            for line in lines
            for piece in line
            if isinstance(piece[2], int) and piece[2] > 0
        }
    )
    kept = await publication_of(db, consultation, version.number)
    return ChangesPage(
        consultation=consultation,
        version=version,
        previous=previous,
        comparisons=[c for c in comparisons if c.status != "unchanged"],
        redlines=redlines,
        origins=origins,
        already_published=already_published,
        reason=str(kept.get("reason_while_open") or ""),
        lost={int(k): int(v) for k, v in (kept.get("lost_conflicts") or {}).items()},
    )


async def compare_page(
    db: AsyncSession, consultation: Consultation, older: int | None, newer: int | None
) -> ComparePage:
    """Two versions compared (the first and the latest unless numbers are given; NotFound for
    a number that is no version)."""
    versions = await list_versions(db, consultation)
    if not versions:
        raise NotFound(consultation.slug)
    by_number = {v.number: v for v in versions}
    older_number = older or versions[0].number
    newer_number = newer or versions[-1].number
    if older_number not in by_number or newer_number not in by_number:
        raise NotFound(f"{older_number}-{newer_number}")
    comparisons = await compare_versions(db, by_number[older_number], by_number[newer_number])
    return ComparePage(
        consultation=consultation,
        versions=versions,
        older=by_number[older_number],
        newer=by_number[newer_number],
        comparisons=[c for c in comparisons if c.status != "unchanged"],
        unchanged=sum(1 for c in comparisons if c.status == "unchanged"),
    )
