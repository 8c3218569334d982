"""The next version of the bill (officials), and what changed between versions (everyone)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.accounts.models import User
from consult.bills.models import BillVersion
from consult.bills.services import article_alineas, get_version, list_versions
from consult.bills.wording import formal_wording
from consult.consultations.models import Consultation
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
    return ChangesPage(
        consultation=consultation,
        version=version,
        previous=previous,
        comparisons=[c for c in comparisons if c.status != "unchanged"],
        redlines=redlines,
        origins=origins,
        already_published=already_published,
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
