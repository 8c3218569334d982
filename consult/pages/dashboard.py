"""An official's dashboard of one consultation: what waits for them, each with its action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.answers.inbox import counts_by_article, total_of
from consult.consultations.models import PHASE_ORDER, Consultation, Phase
from consult.consultations.services import SCHEDULED_PHASES, next_phases
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.errors import FormError
from consult.revisions.services import build_draft, find_draft
from consult.synthesis.models import CopyKind, SynthesisCampaign, SynthesisCluster, SynthesisRun
from consult.synthesis.runs import active_run, is_stalled, latest_draft_run, latest_report_run


@dataclass(frozen=True)
class NextVersionStatus:
    """Where the next version of the bill stands (None figures before a bill exists)."""

    current: int | None = None
    """The number of the version in force."""
    draft_saved: bool = False
    """An official has recorded picks for the next version."""
    candidates: int = 0
    """Amendments answered accepted (in whole or part) one by one."""
    picked: int = 0
    unresolved: int = 0
    """Competing amendments still waiting for a choice."""
    edited: bool = False

    @property
    def number(self) -> int | None:
        """The number the next version will have."""
        return None if self.current is None else self.current + 1


@dataclass(frozen=True)
class DashboardPage:
    """A consultation seen by its officials: counts, phase, synthesis and next version."""

    consultation: Consultation
    phase: Phase
    next_phases: tuple[Phase, ...]
    schedule: Sequence[tuple[Phase, datetime | None]]
    next_step: tuple[Phase, datetime] | None
    """The next phase scheduled to start, and when."""
    by_kind: dict[str, int] = field(default_factory=dict)
    contributions: int = 0
    answerable: int = 0
    waiting: int = 0
    """Answerable contributions without a published answer."""
    groups: int = 0
    """Groups of the latest synthesis."""
    campaigns: int = 0
    active_run: SynthesisRun | None = None
    stalled: bool = False
    draft_run: SynthesisRun | None = None
    """The latest synthesis that succeeded (published or not)."""
    report_run: SynthesisRun | None = None
    """The latest published synthesis."""
    version: NextVersionStatus = field(default_factory=NextVersionStatus)
    saved: bool = False
    """Reached after saving the consultation's edit: say so."""


async def _by_kind(db: AsyncSession, consultation: Consultation) -> dict[str, int]:
    rows = await db.execute(
        select(Contribution.kind, func.count())
        .where(
            Contribution.consultation_id == consultation.id,
            Contribution.visibility == Visibility.VISIBLE,
        )
        .group_by(Contribution.kind)
    )
    counts = dict.fromkeys((kind.value for kind in ContributionKind), 0)
    counts.update({kind.value: int(count) for kind, count in rows})
    return counts


async def _groups(db: AsyncSession, run: SynthesisRun | None) -> tuple[int, int]:
    """The groups and the campaigns of a synthesis run (none without a run)."""
    if run is None:
        return 0, 0
    groups = await db.scalar(
        select(func.count()).where(
            SynthesisCluster.run_id == run.id, SynthesisCluster.merged_into_id.is_(None)
        )
    )
    campaigns = await db.scalar(
        select(func.count()).where(
            SynthesisCampaign.run_id == run.id, SynthesisCampaign.kind == CopyKind.CAMPAIGN
        )
    )
    return int(groups or 0), int(campaigns or 0)


async def next_version_status(
    db: AsyncSession, consultation: Consultation, official: User, now: datetime
) -> NextVersionStatus:
    """The draft of the next version as it stands (read only: nothing is saved)."""
    try:
        draft, version = await find_draft(db, consultation, official, now)
    except FormError:
        return NextVersionStatus()
    _base, built, candidates = await build_draft(db, consultation, draft, version)
    return NextVersionStatus(
        current=version.number,
        draft_saved=draft.id is not None,
        candidates=sum(1 for c in candidates if c.individual),
        picked=len(draft.amendment_ids),
        unresolved=len(built.unresolved),
        edited=draft.edited,
    )


async def dashboard_page(
    db: AsyncSession,
    consultation: Consultation,
    official: User,
    now: datetime,
    *,
    saved: bool = False,
) -> DashboardPage:
    """The dashboard of `consultation` for one of its officials."""
    phase = consultation.phase_at(now)
    schedule = [(p, consultation.start_of(p)) for p in SCHEDULED_PHASES]
    upcoming = [
        (p, starts)
        for p, starts in schedule
        if starts is not None and starts > now and PHASE_ORDER.index(p) > PHASE_ORDER.index(phase)
    ]
    by_kind = await _by_kind(db, consultation)
    answers = total_of(await counts_by_article(db, consultation))
    running = await active_run(db, consultation.id)
    latest = await latest_draft_run(db, consultation.id)
    groups, campaigns = await _groups(db, latest)
    return DashboardPage(
        consultation=consultation,
        phase=phase,
        next_phases=next_phases(consultation, now),
        schedule=schedule,
        next_step=upcoming[0] if upcoming else None,
        by_kind=by_kind,
        contributions=sum(by_kind.values()),
        answerable=answers.total,
        waiting=answers.unanswered,
        groups=groups,
        campaigns=campaigns,
        active_run=running,
        stalled=running is not None and is_stalled(running, now),
        draft_run=latest,
        report_run=await latest_report_run(db, consultation.id),
        version=await next_version_status(db, consultation, official, now),
        saved=saved,
    )
