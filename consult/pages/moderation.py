"""The moderators' queue of a consultation, the public moderation log, the report form."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.consultations.models import Consultation
from consult.contributions.listing import get_contribution
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.moderation.models import ModerationEvent, Report, ReportReason, Suspension
from consult.moderation.services import copy_groups, current_suspension, my_report

QUEUE_SIZE = 100
LOG_SIZE = 500
HISTORY_SIZE = 10


@dataclass(frozen=True)
class AuthorHistory:
    """What a moderator needs to know of an author in this consultation."""

    author_id: int
    pseudonym: str
    contributions: int
    hidden: int
    others: list[Contribution]
    """Their other contributions here, newest first (a few)."""
    events: list[ModerationEvent]
    """Past moderation of their contributions here and of their account, newest first."""
    suspension: Suspension | None


@dataclass(frozen=True)
class QueueItem:
    """A contribution in the queue, with its reports (counts and reasons, never who)."""

    contribution: Contribution
    open_reports: int
    total_reports: int
    reasons: list[tuple[str, int]]
    details: list[str]
    copies: list[int]
    author: AuthorHistory | None


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, read from the query string (unknown values are ignored)."""

    reason: str = ""
    kind: str = ""
    article: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> QueueFilters:
        """Filters from the query string."""
        reason = query.get("reason", "")
        kind = query.get("kind", "")
        return cls(
            reason=reason if reason in {r.value for r in ReportReason} else "",
            kind=kind if kind in {k.value for k in ContributionKind} else "",
            article=query.get("article", "")[:120],
        )


@dataclass(frozen=True)
class QueuePage:
    """The moderation queue of a consultation."""

    consultation: Consultation
    items: list[QueueItem]
    filters: QueueFilters
    reasons: tuple[str, ...]
    kinds: tuple[str, ...]
    articles: list[str]
    pending: int
    reported: int
    hidden: int
    reviews: list[tuple[Suspension, str]]
    """Suspensions decided here whose owner asks for a review, with their pseudonym."""
    suspended: list[tuple[Suspension, str]]
    errors: Mapping[str, str] = field(default_factory=dict)


async def queue_page(
    db: AsyncSession,
    consultation: Consultation,
    filters: QueueFilters,
    errors: Mapping[str, str] | None = None,
) -> QueuePage:
    """Reported and hidden contributions, those hidden pending review first, then the most
    reported; each with its reports' reasons and its author's history here."""
    reported = select(Report.contribution_id).where(Report.consultation_id == consultation.id)
    if filters.reason:
        reported = reported.where(Report.reason == filters.reason)
    open_count = (
        select(func.count())
        .where(Report.contribution_id == Contribution.id, Report.reviewed_at.is_(None))
        .correlate(Contribution)
        .scalar_subquery()
    )
    in_queue: ColumnElement[bool] = Contribution.id.in_(reported)
    if not filters.reason:
        in_queue = or_(in_queue, Contribution.visibility == Visibility.HIDDEN)
    query = select(Contribution).where(Contribution.consultation_id == consultation.id, in_queue)
    if filters.kind:
        query = query.where(Contribution.kind == ContributionKind(filters.kind))
    if filters.article:
        query = query.where(Contribution.article_key == filters.article)
    contributions = list(
        await db.scalars(
            query.order_by(
                Contribution.pending_review.desc(),
                open_count.desc(),
                case((Contribution.visibility == Visibility.HIDDEN, 0), else_=1),
                Contribution.id.desc(),
            ).limit(QUEUE_SIZE)
        )
    )
    ids = [c.id for c in contributions]
    reports = (
        list(await db.scalars(select(Report).where(Report.contribution_id.in_(ids)))) if ids else []
    )
    by_contribution: dict[int, list[Report]] = defaultdict(list)
    for report in reports:
        by_contribution[report.contribution_id].append(report)
    histories = await _histories(db, consultation, {c.author_id for c in contributions})
    groups = await copy_groups(db, consultation, ids)
    items = []
    for c in contributions:
        mine = by_contribution.get(c.id, [])
        waiting = [r for r in mine if r.reviewed_at is None]
        reasons = Counter(r.reason for r in waiting)
        items.append(
            QueueItem(
                contribution=c,
                open_reports=len(waiting),
                total_reports=len(mine),
                reasons=sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0])),
                details=[r.details for r in waiting if r.details],
                copies=groups.get(c.id, [c.id]),
                author=histories.get(c.author_id) if c.author_id is not None else None,
            )
        )
    pending, open_reported, hidden = await _counts(db, consultation)
    return QueuePage(
        consultation=consultation,
        items=items,
        filters=filters,
        reasons=tuple(r.value for r in ReportReason),
        kinds=tuple(k.value for k in ContributionKind),
        articles=await _reported_articles(db, consultation),
        pending=pending,
        reported=open_reported,
        hidden=hidden,
        reviews=await _suspensions(db, consultation, reviews=True),
        suspended=await _suspensions(db, consultation, reviews=False),
        errors=errors or {},
    )


async def _counts(db: AsyncSession, consultation: Consultation) -> tuple[int, int, int]:
    pending = await db.scalar(
        select(func.count()).where(
            Contribution.consultation_id == consultation.id, Contribution.pending_review
        )
    )
    reported = await db.scalar(
        select(func.count(func.distinct(Report.contribution_id))).where(
            Report.consultation_id == consultation.id, Report.reviewed_at.is_(None)
        )
    )
    hidden = await db.scalar(
        select(func.count()).where(
            Contribution.consultation_id == consultation.id,
            Contribution.visibility == Visibility.HIDDEN,
        )
    )
    return int(pending or 0), int(reported or 0), int(hidden or 0)


async def _reported_articles(db: AsyncSession, consultation: Consultation) -> list[str]:
    rows = await db.scalars(
        select(Contribution.article_key)
        .where(
            Contribution.consultation_id == consultation.id,
            or_(
                Contribution.id.in_(select(Report.contribution_id)),
                Contribution.visibility == Visibility.HIDDEN,
            ),
        )
        .distinct()
        .order_by(Contribution.article_key)
    )
    return list(rows)


async def _histories(
    db: AsyncSession, consultation: Consultation, author_ids: set[int | None]
) -> dict[int, AuthorHistory]:
    found: dict[int, AuthorHistory] = {}
    for author_id in sorted(a for a in author_ids if a is not None):
        mine = Contribution.author_id == author_id
        here = Contribution.consultation_id == consultation.id
        total = await db.scalar(select(func.count()).where(mine, here))
        hidden = await db.scalar(
            select(func.count()).where(mine, here, Contribution.visibility == Visibility.HIDDEN)
        )
        others = list(
            await db.scalars(
                select(Contribution)
                .where(mine, here)
                .order_by(Contribution.created_at.desc(), Contribution.id.desc())
                .limit(HISTORY_SIZE)
            )
        )
        events = list(
            await db.scalars(
                select(ModerationEvent)
                .outerjoin(Contribution, Contribution.id == ModerationEvent.contribution_id)
                .where(
                    ModerationEvent.consultation_id == consultation.id,
                    or_(
                        Contribution.author_id == author_id, ModerationEvent.account_id == author_id
                    ),
                )
                .order_by(ModerationEvent.created_at.desc(), ModerationEvent.id.desc())
                .limit(HISTORY_SIZE)
            )
        )
        pseudonym = others[0].author_pseudonym if others else ""
        found[author_id] = AuthorHistory(
            author_id,
            pseudonym,
            int(total or 0),
            int(hidden or 0),
            others,
            events,
            await current_suspension(db, author_id),
        )
    return found


async def _suspensions(
    db: AsyncSession, consultation: Consultation, *, reviews: bool
) -> list[tuple[Suspension, str]]:
    query = select(Suspension, User.display_name).join(User, User.id == Suspension.user_id)
    query = query.where(
        Suspension.consultation_id == consultation.id, Suspension.lifted_at.is_(None)
    )
    if reviews:
        query = query.where(Suspension.review_requested_at.is_not(None))
    rows = await db.execute(query.order_by(Suspension.created_at))
    return [(suspension, name) for suspension, name in rows]


@dataclass(frozen=True)
class LogEntry:
    """One line of the public moderation log."""

    event: ModerationEvent
    contribution: Contribution | None


@dataclass(frozen=True)
class LogPage:
    """What moderators decided in a consultation: what, why, when."""

    consultation: Consultation
    entries: list[LogEntry]


async def log_page(db: AsyncSession, consultation: Consultation) -> LogPage:
    """The public moderation log, newest first (never who reported, never which moderator)."""
    rows = await db.execute(
        select(ModerationEvent, Contribution)
        .outerjoin(Contribution, Contribution.id == ModerationEvent.contribution_id)
        .where(ModerationEvent.consultation_id == consultation.id)
        .order_by(ModerationEvent.created_at.desc(), ModerationEvent.id.desc())
        .limit(LOG_SIZE)
    )
    return LogPage(consultation, [LogEntry(event, c) for event, c in rows])


@dataclass(frozen=True)
class ReportPage:
    """The report form of one contribution, or what became of this person's report."""

    consultation: Consultation
    contribution: Contribution
    reasons: tuple[str, ...]
    own: bool
    report: Report | None
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    message: str = ""


async def report_page(
    db: AsyncSession,
    consultation: Consultation,
    contribution_id: int,
    viewer: User,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str = "",
) -> ReportPage:
    """The report form of a contribution for `viewer`."""
    contribution = await get_contribution(db, consultation, contribution_id)
    return ReportPage(
        consultation=consultation,
        contribution=contribution,
        reasons=tuple(r.value for r in ReportReason),
        own=contribution.author_id == viewer.id,
        report=await my_report(db, contribution.id, viewer),
        values=values or {},
        errors=errors or {},
        message=message,
    )
