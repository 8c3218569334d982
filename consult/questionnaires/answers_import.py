"""Bulk import of answers collected elsewhere, as CSV: one row per participant, one column per
question (the form in which the Grand Débat national published its answers).

Columns are matched to questions by key (``q3``), by the question's text, or by the text after
an identifier and `` - `` (``UXVlc3Rpb246MTYw - Quelle est…``); a ``reference`` (or ``id``)
column names each participant and makes the import idempotent: a reference already imported
is skipped. A choice is written as the option's text or number, several choices separated by
``|``. A bad row is reported with its line and reason; the good rows are kept.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.audit.services import record_event
from consult.contributions.models import Contribution
from consult.contributions.writing import MAX_BODY
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.questionnaires.models import Question, QuestionKind, QuestionnaireResponse
from consult.questionnaires.services import Given, Questionnaire, apply_given, small_number
from consult.text import normalise_user_text

REFERENCE_COLUMNS = ("reference", "ref", "id", "referenceid")
MAX_ROWS = 500_000
MAX_REF = 100
# Responses written per flush.
BATCH = 500


@dataclass(frozen=True)
class RowError:
    """A rejected row: its line and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    already_present: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    contributions: list[int] = field(default_factory=list)
    """The open answers written (to embed)."""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", " ".join(text.split()).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def match_columns(
    questionnaire: Questionnaire, header: list[str]
) -> tuple[int, dict[int, Question], list[str]]:
    """(reference column, column index -> question, columns ignored); FormError when no
    column names the participants or none is a question."""
    by_name: dict[str, Question] = {}
    for q in questionnaire.questions:
        by_name[_fold(q.key)] = q
        by_name.setdefault(_fold(q.prompt), q)
    reference = -1
    columns: dict[int, Question] = {}
    ignored: list[str] = []
    for index, raw in enumerate(header):
        name = _fold(raw.lstrip("\ufeff"))
        if reference < 0 and name.replace(" ", "").replace("_", "") in REFERENCE_COLUMNS:
            reference = index
            continue
        question = by_name.get(name)
        if question is None and " - " in name:
            question = by_name.get(name.split(" - ", 1)[1].strip())
        if question is not None and question not in columns.values():
            columns[index] = question
        else:
            ignored.append(raw)
    if reference < 0:
        raise FormError({"file": _("The file needs a “reference” column naming each participant.")})
    if not columns:
        raise FormError({"file": _("No column of the file is a question of the questionnaire.")})
    return reference, columns, ignored


def read_cell(question: Question, cell: str) -> Given:
    """One answer as written in a cell (ValueError with the reason)."""
    cell = normalise_user_text(cell)
    if not cell:
        return Given()
    if question.kind is QuestionKind.OPEN:
        limit = min(question.max_length or MAX_BODY, MAX_BODY)
        if len(cell) > limit:
            raise ValueError(
                _("{key}: longer than {limit} characters").format(key=question.key, limit=limit)
            )
        return Given(text=cell)
    if question.kind is QuestionKind.SCALE:
        low, high = question.scale_min or 0, question.scale_max or 0
        value = small_number(cell)
        if value is None or not low <= value <= high:
            raise ValueError(
                _("{key}: “{value}” is not a point between {low} and {high}").format(
                    key=question.key, value=cell[:40], low=low, high=high
                )
            )
        return Given(value=value)
    labels = {_fold(option): number for number, option in enumerate(question.options, start=1)}
    chosen: set[int] = set()
    for part in (p.strip() for p in cell.split("|")):
        if not part:
            continue
        number = labels.get(_fold(part))
        typed = small_number(part)
        if number is None and typed is not None and 1 <= typed <= len(question.options):
            number = typed
        if number is None:
            raise ValueError(
                _("{key}: “{value}” is not one of the options").format(
                    key=question.key, value=part[:60]
                )
            )
        chosen.add(number)
    if question.kind is QuestionKind.SINGLE and len(chosen) > 1:
        raise ValueError(_("{key}: one option only").format(key=question.key))
    return Given(choices=tuple(sorted(chosen)))


async def import_answers(
    db: AsyncSession,
    questionnaire: Questionnaire,
    text: str,
    *,
    now: datetime,
    actor_id: int | None,
) -> ImportReport:
    """Import the rows of a CSV text (see the module's description)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise FormError({"file": _("The file is empty.")}) from None
    reference, columns, ignored = match_columns(questionnaire, header)
    report = ImportReport(ignored_columns=ignored)
    consultation_id = questionnaire.consultation.id
    known = set(
        (
            await db.scalars(
                select(QuestionnaireResponse.external_ref).where(
                    QuestionnaireResponse.consultation_id == consultation_id,
                    QuestionnaireResponse.external_ref.is_not(None),
                )
            )
        ).all()
    )
    pending = 0
    written: list[Contribution] = []
    try:
        for row in reader:
            line = reader.line_num
            if line > MAX_ROWS:
                report.errors.append(RowError(line, _("too many rows: the rest was not read")))
                break
            if not any(cell.strip() for cell in row):
                continue
            ref = row[reference].strip() if reference < len(row) else ""
            if not ref or len(ref) > MAX_REF:
                report.errors.append(RowError(line, _("no reference (or one over 100 characters)")))
                continue
            if ref in known:
                report.already_present += 1
                continue
            try:
                given = {
                    q.key: read_cell(q, row[index] if index < len(row) else "")
                    for index, q in columns.items()
                }
            except ValueError as error:
                report.errors.append(RowError(line, str(error)))
                continue
            if all(g.empty for g in given.values()):
                report.errors.append(RowError(line, _("no answer")))
                continue
            known.add(ref)
            response = QuestionnaireResponse(
                consultation_id=consultation_id,
                external_ref=ref,
                revision=1,
                created_at=now,
                updated_at=now,
                answers=[],
            )
            db.add(response)
            written += await apply_given(
                db,
                questionnaire,
                response,
                given,
                author=None,
                now=now,
                pseudonym=ref,
            )
            report.created += 1
            pending += 1
            if pending >= BATCH:
                await db.flush()
                pending = 0
    except csv.Error as error:
        report.errors.append(
            RowError(reader.line_num, _("unreadable CSV ({detail})").format(detail=error))
        )
    await db.flush()
    report.contributions = [c.id for c in written]
    await record_event(
        db,
        actor_id,
        "questionnaire.answers.imported",
        target=f"consultation:{questionnaire.consultation.slug}",
        details={
            "created": report.created,
            "skipped": report.already_present,
            "errors": len(report.errors),
        },
    )
    return report
