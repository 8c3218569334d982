"""The home page, a consultation's overview and exposé des motifs, and the form that creates
a consultation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.bills.models import BillVersion
from consult.bills.services import (
    TocEntry,
    count_articles,
    latest_version,
    list_versions,
    table_of_contents,
)
from consult.consultations.models import PHASE_ORDER, Consultation, Phase
from consult.consultations.services import (
    SCHEDULED_PHASES,
    accepts_contributions,
    list_consultations,
)
from consult.organisations.models import Organisation


@dataclass(frozen=True)
class HomePage:
    """The consultations this person may see, newest first."""

    consultations: list[Consultation]


@dataclass(frozen=True)
class ConsultationPage:
    """A consultation's summary, timeline and table of contents."""

    consultation: Consultation
    phase: Phase
    phases: tuple[Phase, ...]
    is_open: bool
    version: BillVersion | None
    versions: list[BillVersion]
    toc: list[TocEntry]
    article_count: int
    published: int | None
    """The number of the version an official has just published (a confirmation to show)."""
    is_official: bool = False
    """The reader is an official of the consultation's organisation: their links are shown."""


@dataclass(frozen=True)
class MemorandumPage:
    """The exposé des motifs of the latest version."""

    consultation: Consultation
    version: BillVersion | None


@dataclass(frozen=True)
class ConsultationForm:
    """The form that creates a consultation, empty or shown again with its errors."""

    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    phases: tuple[Phase, ...] = SCHEDULED_PHASES
    organisations: Sequence[Organisation] = ()
    """The organisations the person may create it for (a choice is offered when several)."""


async def home_page(db: AsyncSession, viewer: User | None, now: datetime) -> HomePage:
    """The home page."""
    return HomePage(await list_consultations(db, viewer, now))


async def consultation_page(
    db: AsyncSession,
    consultation: Consultation,
    now: datetime,
    published: int | None = None,
    *,
    is_official: bool = False,
) -> ConsultationPage:
    """A consultation's overview."""
    version = await latest_version(db, consultation)
    return ConsultationPage(
        consultation=consultation,
        phase=consultation.phase_at(now),
        phases=PHASE_ORDER,
        is_open=accepts_contributions(consultation, now),
        version=version,
        versions=await list_versions(db, consultation) if version else [],
        toc=await table_of_contents(db, version) if version else [],
        article_count=await count_articles(db, version) if version else 0,
        published=published,
        is_official=is_official,
    )


async def memorandum_page(db: AsyncSession, consultation: Consultation) -> MemorandumPage:
    """The exposé des motifs page."""
    return MemorandumPage(consultation, await latest_version(db, consultation))
