"""Bulk import of contributions gathered elsewhere (another platform, email, paper).

Rows are JSON Lines or CSV with the columns documented in `docs/import-format.md`.
The import is idempotent: each row's `ref` is stored as the contribution's
external reference, and a reference already present is skipped. A bad row is
reported with its line and reason; the good rows are kept.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.bills.models import BillVersion, Provision, ProvisionKind
from consult.bills.operations import AmendmentError, Operation, OperationKind, validate_operation
from consult.consultations.models import Consultation
from consult.contributions.anchors import locate
from consult.contributions.models import (
    MAX_THREAD_DEPTH,
    Contribution,
    ContributionKind,
    ImportedArticleVotes,
    Stance,
)
from consult.contributions.writing import MAX_BODY, check_url, store_footprint
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.text import normalise_user_text

Row = dict[str, Any]


@dataclass(frozen=True)
class RowError:
    """A rejected row: where it is and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    already_present: int = 0
    article_votes: int = 0
    """Articles whose vote counts from elsewhere were set."""
    errors: list[RowError] = field(default_factory=list)


# A row of this kind carries the votes on an article itself, counted on another platform.
ARTICLE_VOTES = "article_votes"


class RowRejected(ValueError):
    """This row cannot be imported; the message says why."""


def read_rows(text: str, fmt: str) -> Iterator[tuple[int, Row | str]]:
    """(line, row) for each record; a row that cannot be parsed is given as its error text."""
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for record in reader:
            yield (
                reader.line_num,
                {k.strip(): v for k, v in record.items() if k and v not in (None, "")},
            )
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, _("not valid JSON ({detail})").format(detail=error.msg)
            continue
        if not isinstance(record, dict):
            yield number, _("expected a JSON object")
            continue
        yield number, record


class _Articles:
    """Alinéas of each article of the version contributions are imported on (cached)."""

    def __init__(self, session: AsyncSession, version: BillVersion) -> None:
        self.session = session
        self.version = version
        self.cache: dict[str, list[str] | None] = {}

    async def alineas(self, key: str) -> list[str] | None:
        if key not in self.cache:
            article = await self.session.scalar(
                select(Provision.id).where(
                    Provision.version_id == self.version.id,
                    Provision.key == key,
                    Provision.kind == ProvisionKind.ARTICLE,
                )
            )
            if article is None:
                self.cache[key] = None
            else:
                texts = await self.session.scalars(
                    select(Provision.text)
                    .where(Provision.parent_id == article, Provision.kind == ProvisionKind.ALINEA)
                    .order_by(Provision.position)
                )
                self.cache[key] = list(texts.all())
        return self.cache[key]


def _text(row: Row, name: str, required: bool = False, limit: int = MAX_BODY) -> str:
    value = row.get(name, "")
    if not isinstance(value, str):
        raise RowRejected(_("“{field}” must be text").format(field=name))
    value = normalise_user_text(value)
    if required and not value:
        raise RowRejected(_("“{field}” is empty").format(field=name))
    if len(value) > limit:
        raise RowRejected(
            _("“{field}” is longer than {limit} characters").format(field=name, limit=limit)
        )
    return value


def _count(row: Row, name: str) -> int:
    value = row.get(name, 0)
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise RowRejected(_("“{field}” must be a whole number").format(field=name)) from error
    if number < 0:
        raise RowRejected(_("“{field}” cannot be negative").format(field=name))
    return number


def _when(row: Row, default: datetime) -> datetime:
    raw = row.get("created_at")
    if not raw:
        return default
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError as error:
        raise RowRejected(_("“created_at” is not an ISO 8601 date")) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _build(
    row: Row,
    consultation: Consultation,
    version: BillVersion,
    articles: _Articles,
    known: dict[str, Contribution],
    now: datetime,
) -> Contribution:
    ref = _text(row, "ref", required=True, limit=120)
    kind_raw = _text(row, "kind", required=True, limit=20)
    try:
        kind = ContributionKind(kind_raw)
    except ValueError as error:
        raise RowRejected(_("unknown kind “{kind}”").format(kind=kind_raw)) from error
    article_key = _text(row, "article", required=True, limit=120)
    alineas = await articles.alineas(article_key)
    if alineas is None:
        raise RowRejected(_("no article “{key}” in the bill").format(key=article_key))
    contribution = Contribution(
        consultation_id=consultation.id,
        version_id=version.id,
        article_key=article_key,
        kind=kind,
        author_pseudonym=_text(row, "author", required=True, limit=80),
        body=_text(row, "body", required=True),
        external_ref=ref,
        created_at=_when(row, now),
        votes_for=_count(row, "votes_for"),
        votes_mixed=_count(row, "votes_mixed"),
        votes_against=_count(row, "votes_against"),
    )
    parent_ref = row.get("parent") or (
        row.get("target") if kind is ContributionKind.ARGUMENT else None
    )
    if parent_ref:
        parent = known.get(str(parent_ref))
        if parent is None:
            raise RowRejected(_("parent “{ref}” is not an earlier row").format(ref=parent_ref))
        if parent.article_key != article_key:
            raise RowRejected(_("parent “{ref}” is on another article").format(ref=parent_ref))
        if parent.depth >= MAX_THREAD_DEPTH:
            raise RowRejected(_("the thread would be more than 3 replies deep"))
        contribution.parent_id = parent.id
        contribution.root_id = parent.root_id or parent.id
        contribution.depth = parent.depth + 1
    elif kind is ContributionKind.REPLY:
        raise RowRejected(_("a reply needs a “parent”"))
    if kind is ContributionKind.ARGUMENT:
        stance = row.get("stance", "neutre")
        if stance not in {s.value for s in Stance}:
            raise RowRejected(_("“stance” must be pour, contre or neutre"))
        contribution.stance = Stance(stance)
    if kind is ContributionKind.SOURCE:
        try:
            contribution.url = check_url(_text(row, "url", required=True, limit=2000))
        except FormError as error:
            raise RowRejected(next(iter(error.fields.values()))) from error
    if kind is ContributionKind.ANNOTATION:
        _anchor(contribution, row, alineas)
    if kind is ContributionKind.AMENDMENT:
        _amend(contribution, row, alineas)
    return contribution


def _alinea(row: Row, alineas: list[str], allow_zero: bool = False) -> int:
    number = _count(row, "alinea")
    if not (0 if allow_zero else 1) <= number <= len(alineas):
        raise RowRejected(_("“alinea” must be between 1 and {count}").format(count=len(alineas)))
    return number


def _anchor(contribution: Contribution, row: Row, alineas: list[str]) -> None:
    number = _alinea(row, alineas)
    quote = _text(row, "quote", required=True, limit=1000)
    anchor = locate(alineas[number - 1], quote)
    if anchor is None:
        raise RowRejected(_("the quote is not in alinéa {number}").format(number=number))
    contribution.alinea = number
    contribution.quote_exact = anchor.exact
    contribution.quote_prefix = anchor.prefix
    contribution.quote_suffix = anchor.suffix
    contribution.quote_start = anchor.start
    contribution.quote_end = anchor.end


def _amend(contribution: Contribution, row: Row, alineas: list[str]) -> None:
    try:
        kind = OperationKind(row.get("operation", ""))
    except ValueError as error:
        raise RowRejected(_("unknown “operation”")) from error
    needs_alinea = kind not in (OperationKind.REWRITE_ARTICLE, OperationKind.NEW_ARTICLE)
    operation = Operation(
        kind=kind,
        alinea=_alinea(row, alineas, allow_zero=kind is OperationKind.INSERT_ALINEA)
        if needs_alinea
        else None,
        old_text=_text(row, "old_text", limit=5000),
        occurrence=_count(row, "occurrence") or 1,
        new_text=_text(row, "new_text", limit=20000),
    )
    try:
        validate_operation(operation, alineas)
    except AmendmentError as error:
        raise RowRejected(error.message) from error
    contribution.operation = kind.value
    contribution.alinea = operation.alinea
    store_footprint(contribution, operation, alineas)
    contribution.old_text = operation.old_text
    contribution.occurrence = operation.occurrence
    contribution.new_text = operation.new_text


async def _set_article_votes(
    session: AsyncSession, consultation: Consultation, articles: _Articles, row: Row
) -> None:
    """Set the article's imported vote counts (setting twice to the same counts changes
    nothing, so a second import of the file is harmless)."""
    article_key = _text(row, "article", required=True, limit=120)
    if await articles.alineas(article_key) is None:
        raise RowRejected(_("no article “{key}” in the bill").format(key=article_key))
    counts = {name: _count(row, name) for name in ("votes_for", "votes_mixed", "votes_against")}
    imported = await session.get(ImportedArticleVotes, (consultation.id, article_key))
    if imported is None:
        session.add(
            ImportedArticleVotes(consultation_id=consultation.id, article_key=article_key, **counts)
        )
    else:
        for name, count in counts.items():
            setattr(imported, name, count)


async def import_contributions(
    session: AsyncSession,
    consultation: Consultation,
    version: BillVersion,
    rows: Iterable[tuple[int, Row | str]],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 500,
) -> ImportReport:
    """Import rows onto `version`; returns counts and the rejected rows."""
    report = ImportReport()
    existing = {
        ref: contribution
        for ref, contribution in (
            await session.execute(
                select(Contribution.external_ref, Contribution).where(
                    Contribution.consultation_id == consultation.id,
                    Contribution.external_ref.is_not(None),
                )
            )
        ).all()
        if ref is not None
    }
    known: dict[str, Contribution] = dict(existing)
    pending: list[Contribution] = []
    pending_refs: set[str] = set()
    articles = _Articles(session, version)
    seen_in_file: set[str] = set()

    async def flush() -> None:
        if pending:
            session.add_all(pending)
            await session.flush()
            pending.clear()
            pending_refs.clear()

    for line, row in rows:
        if progress is not None:
            progress(1)
        if isinstance(row, str):
            report.errors.append(RowError(line, row))
            continue
        if row.get("kind") == ARTICLE_VOTES:
            try:
                await _set_article_votes(session, consultation, articles, row)
            except RowRejected as error:
                report.errors.append(RowError(line, str(error)))
            else:
                report.article_votes += 1
            continue
        ref = str(row.get("ref", ""))
        if ref in existing:
            report.already_present += 1
            continue
        if ref in seen_in_file:
            report.errors.append(RowError(line, _("“ref” {ref} appears twice").format(ref=ref)))
            continue
        parent_ref = row.get("parent") or row.get("target")
        if parent_ref and str(parent_ref) in pending_refs:
            await flush()  # the parent needs its id before the child can point at it
        try:
            contribution = await _build(row, consultation, version, articles, known, now)
        except RowRejected as error:
            report.errors.append(RowError(line, str(error)))
            continue
        seen_in_file.add(ref)
        known[ref] = contribution
        pending.append(contribution)
        pending_refs.add(ref)
        report.created += 1
        if len(pending) >= batch_size:
            await flush()
    await flush()
    return report
