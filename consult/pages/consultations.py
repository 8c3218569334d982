"""The home page, a consultation's overview and exposé des motifs, and the form that creates
a consultation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.answers.models import Answer
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
from consult.contributions.figures import ParticipationFigures, participation_figures
from consult.i18n import DISPLAY_TIMEZONE
from consult.organisations.models import Organisation
from consult.synthesis.runs import latest_draft_run, latest_report_run


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
    figures: ParticipationFigures = field(default_factory=ParticipationFigures)
    days_left: int | None = None
    """Whole days until contributions close, while they are open and a closing is scheduled."""
    first_article_key: str | None = None
    """Where "Take part" leads: the bill's first article."""
    has_synthesis: bool = False
    """A synthesis this viewer may read: a published one, or a finished draft for officials."""
    has_feedback: bool = False
    """Officials have published at least one answer."""
    is_official: bool = False
    """The reader is an official of the consultation's organisation: their links are shown."""
    is_moderator: bool = False
    """The reader moderates the consultation (a moderator or official of its organisation)."""


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


@dataclass(frozen=True)
class ConsultationEditForm:
    """The form that edits a consultation's title, summary, ministry label and schedule,
    filled with what it holds or shown again with its errors."""

    consultation: Consultation
    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    phases: tuple[Phase, ...] = SCHEDULED_PHASES


def edit_form(
    consultation: Consultation,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> ConsultationEditForm:
    """The edit form: as typed when shown again, else the consultation's values (dates in
    Paris time, as the creation form takes them)."""
    if form is None:
        form = {
            "title": consultation.title,
            "summary": consultation.summary,
            "ministry": consultation.ministry,
            "participation_requires": str(consultation.participation_requires),
        }
        for phase in SCHEDULED_PHASES:
            starts = consultation.start_of(phase)
            if starts is not None:
                form[phase.value] = starts.astimezone(DISPLAY_TIMEZONE).strftime("%Y-%m-%dT%H:%M")
    return ConsultationEditForm(consultation, dict(form), dict(errors or {}))


async def home_page(db: AsyncSession, viewer: User | None, now: datetime) -> HomePage:
    """The home page."""
    return HomePage(await list_consultations(db, viewer, now))


def days_until(closes: datetime | None, now: datetime) -> int | None:
    """Whole days left before `closes` (a part of a day counts as one), None when unknown."""
    if closes is None or closes <= now:
        return None
    return math.ceil((closes - now).total_seconds() / 86400)


async def consultation_page(
    db: AsyncSession,
    consultation: Consultation,
    now: datetime,
    published: int | None = None,
    *,
    is_official: bool = False,
    is_moderator: bool = False,
) -> ConsultationPage:
    """A consultation's overview, with its participation figures and links to only what
    exists (a synthesis, answers)."""
    version = await latest_version(db, consultation)
    is_open = accepts_contributions(consultation, now)
    toc = await table_of_contents(db, version) if version else []
    synthesis = await latest_report_run(db, consultation.id)
    official = is_official
    if synthesis is None and official:
        synthesis = await latest_draft_run(db, consultation.id)
    answered = await db.scalar(
        select(
            exists().where(
                Answer.consultation_id == consultation.id, Answer.published_at.is_not(None)
            )
        )
    )
    return ConsultationPage(
        consultation=consultation,
        phase=consultation.phase_at(now),
        phases=PHASE_ORDER,
        is_open=is_open,
        version=version,
        versions=await list_versions(db, consultation) if version else [],
        toc=toc,
        article_count=await count_articles(db, version) if version else 0,
        published=published,
        figures=await participation_figures(db, consultation.id),
        days_left=days_until(consultation.start_of(Phase.CLOSED), now) if is_open else None,
        first_article_key=next(
            (e.provision.key for e in toc if e.provision.kind.value == "article"), None
        ),
        has_synthesis=synthesis is not None,
        has_feedback=bool(answered),
        is_official=is_official,
        is_moderator=is_moderator or is_official,
    )


async def memorandum_page(db: AsyncSession, consultation: Consultation) -> MemorandumPage:
    """The exposé des motifs page."""
    return MemorandumPage(consultation, await latest_version(db, consultation))
