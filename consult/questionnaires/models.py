"""Questions of a questionnaire, and each participant's response to them.

A questionnaire's open questions are also the "articles" of the version it is published as
(decision 0030): the answer to an open question is a contribution of kind ``response`` scoped
to the question's key, so the synthesis, moderation, answers and feedback treat it as they
treat a contribution on an article. Closed answers (choices, a point on a scale) are stored
here, one response per participant and questionnaire.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.contributions.models import Contribution
from consult.db import Base, UTCDateTime, utcnow


class QuestionKind(enum.StrEnum):
    """How a question is answered."""

    OPEN = "open"
    """Free text."""
    SINGLE = "single"
    """One option among several."""
    MULTIPLE = "multiple"
    """Any number of options."""
    SCALE = "scale"
    """A whole number between two bounds, with a label at each end."""


CLOSED_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.SCALE})


class Question(Base):
    """One question, in the order the questionnaire asks it."""

    __tablename__ = "questionnaire_questions"
    __table_args__ = (UniqueConstraint("consultation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(120))
    """Stable name (``q1``...); an open question's answers are scoped to it."""
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(300), default="")
    """The heading of the section that holds it ("" before the first section)."""
    kind: Mapped[QuestionKind] = mapped_column(
        Enum(
            QuestionKind,
            name="question_kind",
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    prompt: Mapped[str] = mapped_column(Text)
    help: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The labels of a choice question's options, numbered from 1 in this order."""
    scale_min: Mapped[int | None] = mapped_column(Integer)
    scale_max: Mapped[int | None] = mapped_column(Integer)
    min_label: Mapped[str] = mapped_column(String(200), default="")
    max_label: Mapped[str] = mapped_column(String(200), default="")
    max_length: Mapped[int | None] = mapped_column(Integer)
    """Characters an open answer may have (None: the limit of every contribution)."""


class QuestionnaireResponse(Base):
    """One participant's answers to one questionnaire (edited while it is open).

    The database, not code, keeps it to one per account: two first submissions sent at once
    cannot both be saved. Answers imported from elsewhere have no account but a reference.
    """

    __tablename__ = "questionnaire_responses"
    __table_args__ = (
        UniqueConstraint("consultation_id", "respondent_id", name="uq_responses_respondent"),
        UniqueConstraint("consultation_id", "external_ref", name="uq_responses_external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    external_ref: Mapped[str | None] = mapped_column(String(120))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    """Raised by every save: a form sent from an older revision is refused, not applied."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    answers: Mapped[list[QuestionAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", lazy="selectin"
    )


class QuestionAnswer(Base):
    """The answer of one response to one question: its choices, its point on the scale, or
    (open questions) the contribution that holds its text."""

    __tablename__ = "questionnaire_answers"
    __table_args__ = (
        UniqueConstraint("response_id", "question_id"),
        Index("ix_questionnaire_answers_question", "question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_responses.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_questions.id", ondelete="CASCADE")
    )
    choices: Mapped[list[int]] = mapped_column(JSON, default=list)
    """Option numbers (from 1) of a choice question."""
    value: Mapped[int | None] = mapped_column(Integer)
    """The point chosen on a scale."""
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="SET NULL"), index=True
    )

    response: Mapped[QuestionnaireResponse] = relationship(back_populates="answers")
    contribution: Mapped[Contribution | None] = relationship(lazy="raise")
    """Set with a new open answer, so that both are saved by one flush."""
