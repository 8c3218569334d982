"""Questionnaire pages: answering, importing the questions, the results, importing answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.bills.models import BillVersion
from consult.bills.services import latest_version
from consult.consultations.models import Consultation, Phase
from consult.errors import NotFound
from consult.questionnaires.answers_import import ImportReport
from consult.questionnaires.format import ParsedQuestionnaire
from consult.questionnaires.models import QuestionKind, QuestionnaireResponse
from consult.questionnaires.results import Results, questionnaire_results, results_are_public
from consult.questionnaires.services import (
    Given,
    Questionnaire,
    load_questionnaire,
    saved_response,
    small_number,
)
from consult.synthesis.runs import latest_draft_run, latest_report_run


@dataclass(frozen=True)
class QuestionnairePage:
    """The questions, with the participant's answers (saved, or as just sent with errors)."""

    consultation: Consultation
    questionnaire: Questionnaire | None
    given: Mapping[str, Given]
    revision: int
    is_open: bool
    answered: bool
    """The participant has a saved response (the form edits it)."""
    is_official: bool
    errors: Mapping[str, str] = field(default_factory=dict)
    saved_now: bool = False
    results_public: bool = False
    form_token: str = ""
    """The anti-automation token of the form (consult.web.antispam)."""


def _lenient(questionnaire: Questionnaire, values: Mapping[str, Sequence[str]]) -> dict[str, Given]:
    """What was sent, as far as it can be shown again in the form (wrong values dropped)."""
    given: dict[str, Given] = {}
    for q in questionnaire.questions:
        sent = list(values.get(f"q-{q.key}", ()))
        numbers = [n for n in (small_number(v) for v in sent) if n is not None]
        if q.kind is QuestionKind.OPEN:
            given[q.key] = Given(text=sent[0] if sent else "")
        elif q.kind is QuestionKind.SCALE:
            given[q.key] = Given(value=numbers[0] if numbers else None)
        else:
            given[q.key] = Given(choices=tuple(numbers))
    return given


async def questionnaire_page(
    db: AsyncSession,
    consultation: Consultation,
    viewer: User | None,
    now_phase: Phase,
    *,
    is_official: bool,
    now_open: bool,
    sent: Mapping[str, Sequence[str]] | None = None,
    revision: int | None = None,
    errors: Mapping[str, str] | None = None,
    saved_now: bool = False,
    form_token: str = "",
) -> QuestionnairePage:
    """The page; with `sent`, the form as sent (to show it again with `errors`)."""
    questionnaire = await load_questionnaire(db, consultation)
    if questionnaire is None:
        return QuestionnairePage(consultation, None, {}, 0, False, False, is_official)
    saved = await saved_response(db, questionnaire, viewer)
    given = saved.given if sent is None else _lenient(questionnaire, sent)
    return QuestionnairePage(
        consultation,
        questionnaire,
        given,
        saved.revision if revision is None else revision,
        now_open,
        saved.response is not None,
        is_official,
        errors or {},
        saved_now,
        results_are_public(now_phase),
        form_token,
    )


@dataclass(frozen=True)
class QuestionnaireImportPage:
    """The import form, empty or with the text read, its questions or the line at fault."""

    consultation: Consultation
    latest: BillVersion | None
    answered: int
    source: str = ""
    format: str = "markdown"
    error: str | None = None
    parsed: ParsedQuestionnaire | None = None


async def _answered(db: AsyncSession, consultation: Consultation) -> int:
    return (
        await db.scalar(
            select(func.count())
            .select_from(QuestionnaireResponse)
            .where(QuestionnaireResponse.consultation_id == consultation.id)
        )
        or 0
    )


async def questionnaire_import_page(
    db: AsyncSession,
    consultation: Consultation,
    *,
    source: str = "",
    source_format: str = "markdown",
    error: str | None = None,
    parsed: ParsedQuestionnaire | None = None,
) -> QuestionnaireImportPage:
    """The import page (NotFound on a consultation about a bill)."""
    if not consultation.is_questionnaire:
        raise NotFound(consultation.slug)
    return QuestionnaireImportPage(
        consultation,
        await latest_version(db, consultation),
        await _answered(db, consultation),
        source,
        source_format,
        error,
        parsed,
    )


@dataclass(frozen=True)
class ResultsPage:
    """Every question's figures, with the crossings of the latest synthesis."""

    consultation: Consultation
    questionnaire: Questionnaire
    results: Results
    is_official: bool
    draft: bool
    """The crossings use a run not yet published (officials only)."""


async def results_page(
    db: AsyncSession, consultation: Consultation, now_phase: Phase, *, is_official: bool
) -> ResultsPage:
    """The results, for officials at any time, for the public once answers are closed."""
    questionnaire = await load_questionnaire(db, consultation)
    if questionnaire is None or not (is_official or results_are_public(now_phase)):
        raise NotFound(consultation.slug)
    run = await latest_report_run(db, consultation.id)
    draft = False
    if is_official:
        latest = await latest_draft_run(db, consultation.id)
        draft = latest is not None and (run is None or latest.id != run.id)
        run = latest or run
    results = await questionnaire_results(db, questionnaire, run)
    return ResultsPage(consultation, questionnaire, results, is_official, draft)


@dataclass(frozen=True)
class AnswersImportPage:
    """The CSV import form, and what the last import did."""

    consultation: Consultation
    questionnaire: Questionnaire | None
    report: ImportReport | None = None
    error: str | None = None


async def answers_import_page(
    db: AsyncSession,
    consultation: Consultation,
    *,
    report: ImportReport | None = None,
    error: str | None = None,
) -> AnswersImportPage:
    """The page that imports answers collected elsewhere."""
    return AnswersImportPage(
        consultation, await load_questionnaire(db, consultation), report, error
    )
