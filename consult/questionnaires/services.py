"""Publishing a questionnaire, reading it, and saving a participant's response.

The answer to an open question is a contribution of kind ``response`` on the question's key
in the questionnaire's version (decision 0030); closed answers are rows of their own. A
response is one per account (the database's unique constraint): a second first submission
sent at the same moment is refused with :class:`ResponseConflict`, and so is a form sent from
an older revision of the response, so that nothing saved in between is overwritten unseen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.answers.models import AnswerCoverage
from consult.audit.services import record_event
from consult.bills.models import BillVersion
from consult.bills.services import latest_version, publish_version
from consult.consultations.models import Consultation
from consult.contributions.article_context import require_open
from consult.contributions.models import Contribution, ContributionKind
from consult.contributions.writing import MAX_BODY
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.questionnaires.format import ParsedQuestionnaire
from consult.questionnaires.models import (
    Question,
    QuestionAnswer,
    QuestionKind,
    QuestionnaireResponse,
)
from consult.text import normalise_user_text


class ResponseConflict(FormError):
    """The response changed since the form was shown (another tab, a double submission)."""

    def __init__(self) -> None:
        super().__init__(
            {
                "form": _(
                    "Your answers were saved from another page in the meantime. The form now"
                    " shows what you sent: check it and send it again to replace them."
                )
            }
        )


@dataclass(frozen=True)
class Section:
    """A heading and its questions."""

    heading: str
    questions: list[Question]


@dataclass(frozen=True)
class Questionnaire:
    """A consultation's questions as published, and the version they are published in."""

    consultation: Consultation
    version: BillVersion
    questions: list[Question]

    @property
    def introduction(self) -> str:
        """The text before the first question."""
        return self.version.explanatory_memorandum

    def sections(self) -> list[Section]:
        """The questions grouped by section, in order."""
        found: list[Section] = []
        for question in self.questions:
            if not found or found[-1].heading != question.section:
                found.append(Section(question.section, []))
            found[-1].questions.append(question)
        return found


@dataclass(frozen=True)
class Given:
    """What a response says to one question: choices, a point on a scale or a text."""

    choices: tuple[int, ...] = ()
    value: int | None = None
    text: str = ""

    @property
    def empty(self) -> bool:
        """Nothing answered."""
        return not self.choices and self.value is None and not self.text


@dataclass
class SavedResponse:
    """A participant's response as the form shows it."""

    response: QuestionnaireResponse | None
    given: dict[str, Given] = field(default_factory=dict)

    @property
    def revision(self) -> int:
        """The revision a form built from it carries (0: nothing saved yet)."""
        return self.response.revision if self.response else 0


def field_name(question: Question) -> str:
    """The form field of a question."""
    return f"q-{question.key}"


async def publish_questionnaire(
    db: AsyncSession,
    consultation: Consultation,
    parsed: ParsedQuestionnaire,
    *,
    source_text: str,
    source_format: str,
    published_by: User | None,
) -> BillVersion:
    """Publish the questionnaire as the consultation's next version and store its questions;
    refused (FormError) once anyone has answered, since answers are kept per question."""
    if not consultation.is_questionnaire:
        raise NotFound(consultation.slug)
    answered = await db.scalar(
        select(func.count())
        .select_from(QuestionnaireResponse)
        .where(QuestionnaireResponse.consultation_id == consultation.id)
    )
    if answered:
        raise FormError(
            {
                "source": _(
                    "People have already answered this questionnaire: its questions can no"
                    " longer be replaced."
                )
            }
        )
    await db.execute(delete(Question).where(Question.consultation_id == consultation.id))
    version = await publish_version(
        db,
        consultation,
        parsed.as_bill(),
        source_text=source_text,
        source_format=source_format,
        published_by=published_by,
    )
    for position, q in enumerate(parsed.questions):
        db.add(
            Question(
                consultation_id=consultation.id,
                key=q.key,
                position=position,
                section=q.section,
                kind=q.kind,
                prompt=q.prompt,
                help=q.help,
                options=list(q.options),
                scale_min=q.scale_min,
                scale_max=q.scale_max,
                min_label=q.min_label,
                max_label=q.max_label,
                max_length=q.max_length,
            )
        )
    await db.flush()
    await record_event(
        db,
        published_by.id if published_by else None,
        "questionnaire.published",
        target=f"consultation:{consultation.slug}",
        details={"version": version.number, "questions": len(parsed.questions)},
    )
    return version


async def load_questionnaire(db: AsyncSession, consultation: Consultation) -> Questionnaire | None:
    """The published questionnaire, or None while none is (NotFound for a bill)."""
    if not consultation.is_questionnaire:
        raise NotFound(consultation.slug)
    version = await latest_version(db, consultation)
    if version is None:
        return None
    questions = (
        await db.scalars(
            select(Question)
            .where(Question.consultation_id == consultation.id)
            .order_by(Question.position)
        )
    ).all()
    return Questionnaire(consultation, version, list(questions))


async def saved_response(
    db: AsyncSession, questionnaire: Questionnaire, respondent: User | None
) -> SavedResponse:
    """What `respondent` has answered so far (nothing for a visitor)."""
    if respondent is None:
        return SavedResponse(None)
    response = await db.scalar(
        select(QuestionnaireResponse).where(
            QuestionnaireResponse.consultation_id == questionnaire.consultation.id,
            QuestionnaireResponse.respondent_id == respondent.id,
        )
    )
    if response is None:
        return SavedResponse(None)
    return SavedResponse(response, await _given(db, questionnaire, response))


async def _given(
    db: AsyncSession, questionnaire: Questionnaire, response: QuestionnaireResponse
) -> dict[str, Given]:
    keys = {q.id: q.key for q in questionnaire.questions}
    texts: dict[int, str] = {}
    ids = [a.contribution_id for a in response.answers if a.contribution_id is not None]
    if ids:
        rows = await db.execute(
            select(Contribution.id, Contribution.body).where(Contribution.id.in_(ids))
        )
        texts = {row.id: row.body for row in rows}
    return {
        keys[a.question_id]: Given(
            tuple(a.choices or ()), a.value, texts.get(a.contribution_id or 0, "")
        )
        for a in response.answers
        if a.question_id in keys
    }


_NUMBER = re.compile(r"-?[0-9]{1,6}")


def small_number(raw: str) -> int | None:
    """A whole number of up to 6 ASCII digits, maybe negative, as typed in a form or a file;
    None for anything else (« ² » and other digits `int` or `str.isdigit` would take)."""
    raw = raw.strip()
    return int(raw) if _NUMBER.fullmatch(raw) else None


def read_given(
    questionnaire: Questionnaire, values: Mapping[str, Sequence[str]]
) -> dict[str, Given]:
    """Check what the form sent for every question (``values``: field -> every value sent);
    FormError names each question at fault. At least one question must be answered."""
    given: dict[str, Given] = {}
    errors: dict[str, str] = {}
    for q in questionnaire.questions:
        name = field_name(q)
        sent = [v for v in values.get(name, ()) if v.strip()]
        if q.kind is QuestionKind.OPEN:
            text = normalise_user_text(sent[0] if sent else "")
            limit = min(q.max_length or MAX_BODY, MAX_BODY)
            if len(sent) > 1:
                errors[name] = _("Send one text for this question.")
            elif len(text) > limit:
                errors[name] = _("This text has {length} characters; the limit is {limit}.").format(
                    length=len(text), limit=limit
                )
            else:
                given[q.key] = Given(text=text)
        elif q.kind is QuestionKind.SCALE:
            value = small_number(sent[0]) if len(sent) == 1 else None
            low, high = q.scale_min or 0, q.scale_max or 0
            if sent and (value is None or not low <= value <= high):
                errors[name] = _("Choose a point between {low} and {high}.").format(
                    low=low, high=high
                )
            else:
                given[q.key] = Given(value=value)
        else:
            numbers = [small_number(v) for v in sent]
            chosen = sorted({n for n in numbers if n is not None})
            if any(n is None or not 1 <= n <= len(q.options) for n in numbers):
                errors[name] = _("Choose among the options shown.")
            elif q.kind is QuestionKind.SINGLE and len(chosen) > 1:
                errors[name] = _("Choose one option only.")
            else:
                given[q.key] = Given(choices=tuple(chosen))
    if errors:
        raise FormError(errors)
    if all(g.empty for g in given.values()):
        raise FormError({"form": _("Answer at least one question before sending.")})
    return given


async def save_response(
    db: AsyncSession,
    questionnaire: Questionnaire,
    respondent: User,
    given: Mapping[str, Given],
    *,
    revision: int,
    now: datetime,
) -> tuple[QuestionnaireResponse, list[int]]:
    """Save `respondent`'s answers (a first response, or an edit of the revision the form was
    built from); returns the response and the contributions whose text is new or changed,
    to embed. Refused when the consultation is closed or the response changed meanwhile."""
    consultation = questionnaire.consultation
    require_open(consultation, now, respondent)
    response = await db.scalar(
        select(QuestionnaireResponse)
        .where(
            QuestionnaireResponse.consultation_id == consultation.id,
            QuestionnaireResponse.respondent_id == respondent.id,
        )
        .with_for_update()
    )
    if response is None:
        if revision != 0:
            raise ResponseConflict()
        response = QuestionnaireResponse(
            consultation_id=consultation.id,
            respondent_id=respondent.id,
            revision=1,
            created_at=now,
            updated_at=now,
            answers=[],
        )
        try:
            async with db.begin_nested():
                db.add(response)
                await db.flush()
        except IntegrityError:
            raise ResponseConflict() from None
    else:
        if response.revision != revision:
            raise ResponseConflict()
        response.revision += 1
        response.updated_at = now
    changed = await apply_given(db, questionnaire, response, given, author=respondent, now=now)
    await db.flush()
    return response, [c.id for c in changed]


async def apply_given(
    db: AsyncSession,
    questionnaire: Questionnaire,
    response: QuestionnaireResponse,
    given: Mapping[str, Given],
    *,
    author: User | None,
    now: datetime,
    pseudonym: str = "",
) -> list[Contribution]:
    """Make the response's answers those of `given`; the contributions of the open answers
    written or rewritten (new ones get their id when the session is next flushed)."""
    existing = {a.question_id: a for a in response.answers}
    changed: list[Contribution] = []
    for q in questionnaire.questions:
        answer = existing.get(q.id)
        new = given.get(q.key, Given())
        if new.empty:
            if answer is not None:
                await _drop(db, response, answer)
            continue
        if answer is None:
            answer = QuestionAnswer(question_id=q.id, choices=[])
            response.answers.append(answer)
        if q.kind is QuestionKind.OPEN:
            written = await _write_text(
                db, questionnaire, q, answer, new.text, author, now, pseudonym, response
            )
            if written is not None:
                changed.append(written)
        else:
            answer.choices, answer.value = list(new.choices), new.value
    return changed


async def _drop(db: AsyncSession, response: QuestionnaireResponse, answer: QuestionAnswer) -> None:
    """Withdraw one answer; an open answer's text goes with it, unless an official has
    answered it or it is in a report (then it stays, as any contribution that was answered)."""
    response.answers.remove(answer)
    if answer.contribution_id is None:
        return
    covered = await db.scalar(
        select(func.count())
        .select_from(AnswerCoverage)
        .where(AnswerCoverage.contribution_id == answer.contribution_id)
    )
    if not covered:
        await db.execute(delete(Contribution).where(Contribution.id == answer.contribution_id))


async def _write_text(
    db: AsyncSession,
    questionnaire: Questionnaire,
    question: Question,
    answer: QuestionAnswer,
    text: str,
    author: User | None,
    now: datetime,
    pseudonym: str,
    response: QuestionnaireResponse,
) -> Contribution | None:
    """Store an open answer's text as its contribution; the contribution when written or
    changed. A new one is saved with the answer that points at it, at the next flush."""
    contribution = (
        await db.get(Contribution, answer.contribution_id) if answer.contribution_id else None
    )
    if contribution is not None:
        if contribution.body == text:
            return None
        contribution.body = text
        return contribution
    contribution = Contribution(
        consultation_id=questionnaire.consultation.id,
        version_id=questionnaire.version.id,
        article_key=question.key,
        kind=ContributionKind.RESPONSE,
        author_id=author.id if author else None,
        author_pseudonym=author.display_name if author else pseudonym,
        body=text,
        created_at=now,
        external_ref=(f"{response.external_ref}:{question.key}" if response.external_ref else None),
    )
    db.add(contribution)
    answer.contribution = contribution
    return contribution
