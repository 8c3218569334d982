"""Reports, moderation decisions and account suspensions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    SQLColumnExpression,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base, UTCDateTime, utcnow


class ReportReason(enum.StrEnum):
    """Why a participant reports a contribution."""

    SPAM = "spam"
    INSULT = "insult"  # insult or harassment
    OFF_TOPIC = "off_topic"
    PERSONAL_DATA = "personal_data"
    ILLEGAL = "illegal"
    OTHER = "other"


class ModerationAction(enum.StrEnum):
    """What the public moderation log records."""

    AUTO_HIDE = "auto_hide"  # hidden pending review after enough reports
    HIDE = "hide"
    RESTORE = "restore"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


class Report(Base):
    """One person's report on one contribution. The unique constraint, not code, keeps it to
    one per person and contribution, so two reports sent at once count once."""

    __tablename__ = "contribution_reports"
    __table_args__ = (
        UniqueConstraint("contribution_id", "reporter_id", name="uq_reports_contribution_reporter"),
        Index("ix_reports_consultation", "consultation_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    contribution_id: Mapped[int] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(24))
    details: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When a moderator decided on the contribution after this report (hid or restored it)."""


class ModerationEvent(Base):
    """One moderation decision, as the public log shows it: what, why, when. Who decided is
    kept in the audit log, never shown here; who reported is never shown anywhere."""

    __tablename__ = "moderation_events"
    __table_args__ = (Index("ix_moderation_events_consultation", "consultation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    contribution_id: Mapped[int | None] = mapped_column(
        ForeignKey("contributions.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    """The account suspended or reinstated (never shown in the public log)."""
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suspension(Base):
    """An account suspended: it cannot post or vote until it is reinstated (`lifted_at`).
    Its owner may ask once for a review of each suspension."""

    __tablename__ = "account_suspensions"
    __table_args__ = (Index("ix_suspensions_user", "user_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="SET NULL"), index=True
    )
    """The consultation from whose moderation queue it was decided (its review shows there)."""
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    review_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_request: Mapped[str] = mapped_column(Text, default="")
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def in_force_for(cls, user_id: int | SQLColumnExpression[int]) -> ColumnElement[bool]:
        """The condition of a suspension of `user_id` (an id or a column) still in force."""
        return and_(cls.user_id == user_id, cls.lifted_at.is_(None))
