"""Officials' answers to contributions, one by one or a whole cluster or campaign at once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base, UTCDateTime, utcnow


def _values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


class AnswerState(enum.StrEnum):
    """What became of a contribution."""

    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    REJECTED = "rejected"
    OUT_OF_SCOPE = "out_of_scope"
    UNDER_REVIEW = "under_review"


def state_name(state: AnswerState | str) -> str:
    """ "Accepted", "Rejected"... in the active language (pages and emails)."""
    from consult.i18n import pgettext

    names = {
        AnswerState.ACCEPTED: pgettext("answer", "Accepted"),
        AnswerState.PARTIALLY_ACCEPTED: pgettext("answer", "Partially accepted"),
        AnswerState.REJECTED: pgettext("answer", "Rejected"),
        AnswerState.OUT_OF_SCOPE: pgettext("answer", "Out of scope"),
        AnswerState.UNDER_REVIEW: pgettext("answer", "Under review"),
    }
    return names[AnswerState(state)]


class AnswerScope(enum.StrEnum):
    """What an answer was given to; a narrower scope overrides a wider one."""

    CONTRIBUTION = "contribution"
    CAMPAIGN = "campaign"
    CLUSTER = "cluster"


# Which answer stands for a contribution covered by several: its own, then its campaign's,
# then its cluster's (the most recently published first within a scope).
SCOPE_PRECEDENCE = {
    AnswerScope.CONTRIBUTION: 0,
    AnswerScope.CAMPAIGN: 1,
    AnswerScope.CLUSTER: 2,
}


class Answer(Base):
    """An official's decision with its reason, draft until published.

    A contribution, a cluster or a campaign has at most one answer (unique columns; NULLs
    do not collide). The contributions an answer reaches are fixed when it is written, in
    :class:`AnswerCoverage`, so a later synthesis run does not move them.
    """

    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_consultation_published", "consultation_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    scope: Mapped[AnswerScope] = mapped_column(
        Enum(AnswerScope, native_enum=False, length=16, values_callable=_values)
    )
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), unique=True
    )
    cluster_id: Mapped[int | None] = mapped_column(
        ForeignKey("synthesis_clusters.id", ondelete="SET NULL"), unique=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("synthesis_campaigns.id", ondelete="SET NULL"), unique=True
    )
    article_key: Mapped[str] = mapped_column(String(120), default="")
    """The article the answered contributions are on ("" for a cluster of the whole
    consultation or a campaign over several articles)."""
    subject: Mapped[str] = mapped_column(String(300), default="")
    """What was answered, as readers see it: the cluster's title or the campaign's opening,
    kept as it was when the answer was written."""
    state: Mapped[AnswerState] = mapped_column(
        Enum(AnswerState, native_enum=False, length=24, values_callable=_values)
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    reach: Mapped[int] = mapped_column(Integer, default=0)
    """Contributions covered (those with an answer of their own included)."""
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_published(self) -> bool:
        """Visible to the public (and to the authors it reaches)."""
        return self.published_at is not None

    @property
    def precedence(self) -> int:
        """Lower wins when several answers cover one contribution."""
        return SCOPE_PRECEDENCE[self.scope]


class AnswerCoverage(Base):
    """One contribution an answer reaches."""

    __tablename__ = "answer_coverage"

    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True
    )
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ContributionOutcome(Base):
    """The published answer that stands for a contribution (its own, else its campaign's,
    else its cluster's), kept up to date when answers are published so that pages, counts
    and exports read one row instead of weighing every answer that covers it.

    A contribution without a row has no published answer yet.
    """

    __tablename__ = "contribution_outcomes"

    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), primary_key=True
    )
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
