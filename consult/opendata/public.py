"""What of a consultation the public may read: the rules the read API and the export share.

- A contribution is published with the number of the version it was written on and the
  published answer that stands for it (:class:`ContributionOutcome`, then :class:`Answer`).
- A contribution hidden by moderation keeps its place, its votes and its fate, but its texts
  (quote, old_text, new_text, body, url) are withheld.
- Authors are pseudonymised (:class:`Pseudonyms`); no name or address is ever published.
- Only published answers are public.

The queries select columns, not mapped objects: the export streams a million contributions
through them in keyset batches, and nothing read here is ever changed.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.answers.inbox import StateCounts, counts_by_article, total_of
from consult.answers.models import Answer, AnswerScope, AnswerState, ContributionOutcome
from consult.bills.models import BillVersion
from consult.bills.services import article_alineas, bill_of_version, get_version, list_versions
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, ContributionKind, Stance, Visibility
from consult.errors import NotFound
from consult.revisions.models import VersionChange

Item = TypeVar("Item", covariant=True)
# A query of columns, whatever their number and types.
Columns = Select[*tuple[Any, ...]]

# Pseudonyms kept for reuse: a bound, so a million distinct authors do not pile up in memory.
_KNOWN_AUTHORS = 50_000


class Pseudonyms:
    """Stable, one-way pseudonyms for authors (an account, or the name of an imported one).

    The same person gets the same pseudonym in every table, every export and every answer of
    the API made with the same secret key, and the pseudonym cannot be traced back to them.
    """

    def __init__(self, secret_key: str) -> None:
        self._key = secret_key.encode()
        self._known: dict[str, str] = {}

    def of(self, author_id: int | None, name: str) -> str:
        """``p-`` and 16 hexadecimal characters; "" for a contribution without an author."""
        if author_id is None and not name:
            return ""
        who = f"account:{author_id}" if author_id is not None else f"name:{name}"
        known = self._known.get(who)
        if known is None:
            if len(self._known) >= _KNOWN_AUTHORS:
                self._known.clear()
            digest = hmac.new(self._key, who.encode(), hashlib.sha256).hexdigest()[:16]
            known = self._known[who] = f"p-{digest}"
        return known


class PublicContribution(NamedTuple):
    """A contribution as the public may read it; its fields are the export's columns.

    A tuple rather than an object: the export builds a million of them.
    """

    id: int
    article_key: str
    version: int
    kind: ContributionKind
    stance: Stance | None
    parent_id: int | None
    alinea: int | None
    quote: str | None
    operation: str | None
    old_text: str
    new_text: str
    body: str
    url: str | None
    author: str
    created_at: datetime
    votes_for: int
    votes_mixed: int
    votes_against: int
    visibility: Visibility
    answer_id: int | None
    answer_state: AnswerState | None


class PublicAnswer(NamedTuple):
    """A published answer."""

    id: int
    scope: AnswerScope
    contribution_id: int | None
    cluster_id: int | None
    campaign_id: int | None
    article_key: str
    subject: str
    state: AnswerState
    reason: str
    reach: int
    published_at: datetime


class ChangeOrigin(enum.StrEnum):
    """Who made a change to the text: a citizen's amendment, or the ministry itself."""

    AMENDMENT = "amendment"
    MINISTRY = "ministry"


class PublicChange(NamedTuple):
    """One run of words a version inserted or deleted, and where it came from."""

    id: int
    version: int
    article_key: str
    alinea: int
    kind: str
    text: str
    contribution_id: int | None
    answer_id: int | None

    @property
    def origin(self) -> ChangeOrigin:
        """An amendment when one wrote the change, else the ministry."""
        return ChangeOrigin.AMENDMENT if self.contribution_id else ChangeOrigin.MINISTRY


# In the order of PublicContribution's fields, the author's two columns standing for the
# pseudonym.
_CONTRIBUTION_COLUMNS = (
    Contribution.id,
    Contribution.article_key,
    BillVersion.number,
    Contribution.kind,
    Contribution.stance,
    Contribution.parent_id,
    Contribution.alinea,
    Contribution.quote_exact,
    Contribution.operation,
    Contribution.old_text,
    Contribution.new_text,
    Contribution.body,
    Contribution.url,
    Contribution.author_id,
    Contribution.author_pseudonym,
    Contribution.created_at,
    Contribution.votes_for,
    Contribution.votes_mixed,
    Contribution.votes_against,
    Contribution.visibility,
    Answer.id,
    Answer.state,
)
# Where the author's account and imported name stand among those columns.
_AUTHOR_ID = _CONTRIBUTION_COLUMNS.index(Contribution.author_id)
_ANSWER_COLUMNS = (
    Answer.id,
    Answer.scope,
    Answer.contribution_id,
    Answer.cluster_id,
    Answer.campaign_id,
    Answer.article_key,
    Answer.subject,
    Answer.state,
    Answer.reason,
    Answer.reach,
    Answer.published_at,
)
_CHANGE_COLUMNS = (
    VersionChange.id,
    BillVersion.number,
    VersionChange.article_key,
    VersionChange.alinea,
    VersionChange.kind,
    VersionChange.text,
    VersionChange.contribution_id,
    VersionChange.answer_id,
)
_IS_PUBLISHED = Answer.published_at.is_not(None)


def contributions_with_fate(consultation_id: int) -> Columns:
    """The consultation's contributions, oldest first, each with its version's number and the
    published answer that stands for it (null when none): rows for :func:`public_contribution`.
    """
    return (
        select(*_CONTRIBUTION_COLUMNS)
        .join(BillVersion, BillVersion.id == Contribution.version_id)
        .outerjoin(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
        .outerjoin(Answer, and_(Answer.id == ContributionOutcome.answer_id, _IS_PUBLISHED))
        .where(Contribution.consultation_id == consultation_id)
        .order_by(Contribution.id)
    )


def public_contribution(row: Sequence[Any], pseudonyms: Pseudonyms) -> PublicContribution:
    """A row of :func:`contributions_with_fate` as the public may read it."""
    values = row[: len(_CONTRIBUTION_COLUMNS)]
    author = pseudonyms.of(values[_AUTHOR_ID], values[_AUTHOR_ID + 1])
    public = PublicContribution._make((*values[:_AUTHOR_ID], author, *values[_AUTHOR_ID + 2 :]))
    if public.visibility is Visibility.VISIBLE:
        return public
    # Moderation hid these texts from readers: they leave the site by no other door. The row
    # stays, so that counts, votes and answers still add up.
    return public._replace(quote=None, old_text="", new_text="", body="", url=None)


def published_answers(consultation_id: int) -> Columns:
    """The consultation's published answers, unordered: rows of :class:`PublicAnswer`."""
    return select(*_ANSWER_COLUMNS).where(Answer.consultation_id == consultation_id, _IS_PUBLISHED)


def changes_with_version(consultation_id: int) -> Columns:
    """Every change of every version of the consultation, in the order they were recorded:
    rows of :class:`PublicChange`."""
    return (
        select(*_CHANGE_COLUMNS)
        .join(BillVersion, BillVersion.id == VersionChange.version_id)
        .where(BillVersion.consultation_id == consultation_id)
        .order_by(VersionChange.id)
    )


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page of a longer list, with the length of the whole list."""

    number: int
    per_page: int
    total: int
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ContributionWithAnswer:
    """A public contribution and, whole, the published answer that stands for it."""

    contribution: PublicContribution
    answer: PublicAnswer | None


@dataclass(frozen=True)
class ContributionFilters:
    """What a list of contributions is narrowed to (nothing: every contribution)."""

    kind: ContributionKind | None = None
    article_key: str | None = None


@dataclass(frozen=True)
class ConsultationRecord:
    """A consultation's versions and how many of its contributions were answered."""

    consultation: Consultation
    versions: tuple[BillVersion, ...]
    counts: StateCounts


@dataclass(frozen=True)
class PublicArticle:
    """An article of a version, with the text of its alinéas."""

    key: str
    number: str
    heading: str
    alineas: tuple[str, ...]


@dataclass(frozen=True)
class PublicVersion:
    """The text of a version, article by article."""

    number: int
    published_at: datetime | None
    articles: tuple[PublicArticle, ...]


@dataclass(frozen=True)
class VersionChanges:
    """What one version changed."""

    version: int
    changes: tuple[PublicChange, ...]


def _with_answer_details(query: Columns) -> Columns:
    """``query`` of :func:`contributions_with_fate` with every column of the answer after its
    id (which is there already): for pages of the API, not for the million rows of the export,
    where a group's answer would be repeated for each of its contributions."""
    return query.add_columns(*_ANSWER_COLUMNS[1:])


def _with_answer(row: Sequence[Any], pseudonyms: Pseudonyms) -> ContributionWithAnswer:
    """A row of :func:`_with_answer_details` as a contribution and its whole answer."""
    contribution = public_contribution(row, pseudonyms)
    details = row[len(_CONTRIBUTION_COLUMNS) :]
    answer_id = contribution.answer_id
    return ContributionWithAnswer(
        contribution, PublicAnswer(answer_id, *details) if answer_id is not None else None
    )


async def contribution_page(
    db: AsyncSession,
    consultation: Consultation,
    pseudonyms: Pseudonyms,
    filters: ContributionFilters,
    number: int,
    per_page: int,
) -> Page[ContributionWithAnswer]:
    """Page ``number`` of the consultation's contributions, oldest first, with their answers."""
    conditions = [Contribution.consultation_id == consultation.id]
    if filters.kind is not None:
        conditions.append(Contribution.kind == filters.kind)
    if filters.article_key is not None:
        conditions.append(Contribution.article_key == filters.article_key)
    total = await db.scalar(select(func.count()).select_from(Contribution).where(*conditions))
    rows = await db.execute(
        _with_answer_details(contributions_with_fate(consultation.id))
        .where(*conditions)
        .limit(per_page)
        .offset((number - 1) * per_page)
    )
    items = tuple(_with_answer(row, pseudonyms) for row in rows)
    return Page(number, per_page, int(total or 0), items)


async def one_contribution(
    db: AsyncSession, consultation: Consultation, contribution_id: int, pseudonyms: Pseudonyms
) -> ContributionWithAnswer:
    """One contribution of the consultation with its answer; NotFound if it has none such."""
    row = (
        await db.execute(
            _with_answer_details(contributions_with_fate(consultation.id)).where(
                Contribution.id == contribution_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"{consultation.slug} contribution {contribution_id}")
    return _with_answer(row, pseudonyms)


async def published_answer_page(
    db: AsyncSession, consultation: Consultation, number: int, per_page: int
) -> Page[PublicAnswer]:
    """Page ``number`` of the consultation's published answers, oldest first."""
    total = await db.scalar(
        select(func.count())
        .select_from(Answer)
        .where(Answer.consultation_id == consultation.id, _IS_PUBLISHED)
    )
    rows = await db.execute(
        published_answers(consultation.id)
        .order_by(Answer.published_at, Answer.id)
        .limit(per_page)
        .offset((number - 1) * per_page)
    )
    return Page(number, per_page, int(total or 0), tuple(PublicAnswer(*row) for row in rows))


async def consultation_record(db: AsyncSession, consultation: Consultation) -> ConsultationRecord:
    """The consultation with its versions, oldest first, and its answered contributions."""
    versions = await list_versions(db, consultation)
    counts = total_of(await counts_by_article(db, consultation))
    return ConsultationRecord(consultation, tuple(versions), counts)


async def version_text(db: AsyncSession, consultation: Consultation, number: int) -> PublicVersion:
    """The text of version ``number``, article by article; NotFound if there is none."""
    version = await get_version(db, consultation, number)
    bill = await bill_of_version(db, version)
    alineas = article_alineas(bill)
    articles = tuple(
        PublicArticle(a.key, a.number, a.heading, tuple(alineas[a.key])) for a in bill.articles()
    )
    return PublicVersion(version.number, version.published_at, articles)


async def version_changes(
    db: AsyncSession, consultation: Consultation, number: int
) -> VersionChanges:
    """The words version ``number`` inserted and deleted; NotFound if there is no such version."""
    version = await get_version(db, consultation, number)
    rows = await db.execute(
        changes_with_version(consultation.id).where(VersionChange.version_id == version.id)
    )
    return VersionChanges(version.number, tuple(PublicChange(*row) for row in rows))
