"""Contribution and vote tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import User
from consult.db import Base, UTCDateTime, utcnow


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


class ContributionKind(enum.StrEnum):
    """Everything a citizen writes is one of these."""

    ANNOTATION = "annotation"  # a comment anchored to a passage
    AMENDMENT = "amendment"  # a typed change to the text, with its exposé
    ARGUMENT = "argument"  # for, against or neutral, on an article or an amendment
    REPLY = "reply"  # an answer in a thread
    SOURCE = "source"  # a link with a note
    RESPONSE = "response"  # the answer to an open question of a questionnaire


class Stance(enum.StrEnum):
    """The position an argument takes."""

    FOR = "pour"
    AGAINST = "contre"
    NEUTRAL = "neutre"


class Visibility(enum.StrEnum):
    """Moderation state; hidden contributions keep their place and their link."""

    VISIBLE = "visible"
    HIDDEN = "hidden"


class VoteValue(enum.StrEnum):
    """Three-way vote, as on the République numérique consultation."""

    FOR = "pour"
    MIXED = "mitige"
    AGAINST = "contre"


MAX_THREAD_DEPTH = 3


class Contribution(Base):
    """One table for everything citizens write, with a kind.

    Anchors follow the W3C Web Annotation model: a TextQuoteSelector (exact,
    prefix, suffix) to re-attach the passage on another version, plus a
    TextPositionSelector (start, end) within the alinéa of the version it was
    made on.
    """

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("consultation_id", "external_ref"),
        Index("ix_contributions_article", "consultation_id", "article_key", "created_at"),
        CheckConstraint("depth >= 0 AND depth <= 3", name="thread_depth"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("bill_versions.id", ondelete="CASCADE"))
    article_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[ContributionKind] = mapped_column(
        Enum(ContributionKind, name="contribution_kind", values_callable=_values)
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    # The top of the thread, so a page of contributions loads all its threads in one query.
    root_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    depth: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text, default="")
    stance: Mapped[Stance | None] = mapped_column(
        Enum(Stance, name="argument_stance", values_callable=_values)
    )
    url: Mapped[str | None] = mapped_column(String(2000))

    alinea: Mapped[int | None] = mapped_column(Integer)
    quote_exact: Mapped[str | None] = mapped_column(Text)
    quote_prefix: Mapped[str] = mapped_column(String(64), default="")
    quote_suffix: Mapped[str] = mapped_column(String(64), default="")
    quote_start: Mapped[int | None] = mapped_column(Integer)
    quote_end: Mapped[int | None] = mapped_column(Integer)

    operation: Mapped[str | None] = mapped_column(String(32))
    old_text: Mapped[str] = mapped_column(Text, default="")
    occurrence: Mapped[int] = mapped_column(Integer, default=1)
    new_text: Mapped[str] = mapped_column(Text, default="")
    # Where an amendment acts (amendments.Footprint), stored so that grouping competing
    # amendments compares numbers instead of searching the text of each one.
    span_scope: Mapped[str | None] = mapped_column(String(16))
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)

    visibility: Mapped[Visibility] = mapped_column(
        Enum(Visibility, name="contribution_visibility", values_callable=_values),
        default=Visibility.VISIBLE,
    )
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    """The moderators' public reason, shown in place of the text while it is hidden."""
    pending_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Hidden after enough reports, until a moderator hides or restores it."""

    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_mixed: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)

    external_ref: Mapped[str | None] = mapped_column(String(120))
    author_pseudonym: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship(lazy="raise")

    @property
    def votes_total(self) -> int:
        """All votes cast on this contribution."""
        return self.votes_for + self.votes_mixed + self.votes_against

    @property
    def is_visible(self) -> bool:
        """Not hidden by moderation."""
        return self.visibility is Visibility.VISIBLE


class Vote(Base):
    """One person's vote on an article or a contribution.

    The unique constraints, not code, guarantee one vote per person per target,
    so two concurrent submissions cannot both count.
    """

    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("voter_id", "contribution_id", name="uq_votes_voter_contribution"),
        UniqueConstraint(
            "voter_id", "consultation_id", "article_key", name="uq_votes_voter_article"
        ),
        CheckConstraint(
            "(article_key IS NULL AND contribution_id IS NOT NULL)"
            " OR (article_key IS NOT NULL AND contribution_id IS NULL)",
            name="one_target",
        ),
        Index("ix_votes_article", "consultation_id", "article_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    article_key: Mapped[str | None] = mapped_column(String(120))
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[VoteValue] = mapped_column(
        Enum(VoteValue, name="vote_value", values_callable=_values)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportedArticleVotes(Base):
    """Votes on an article counted on another platform, whose voters have no account here.

    An import sets them (importing the same counts twice changes nothing); an article's tally
    adds them to the votes cast here.
    """

    __tablename__ = "imported_article_votes"

    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True
    )
    article_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_mixed: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)
