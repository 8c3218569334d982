"""The outbox of emails: answers to authors' contributions, and notices about an account."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base, UTCDateTime, utcnow


class NotificationStatus(enum.StrEnum):
    """Where an email stands."""

    PENDING = "pending"  # to send (again, after a failure)
    SENT = "sent"
    FAILED = "failed"  # given up after too many attempts
    SKIPPED = "skipped"  # nothing left to say: opted out, or answered on its own since


class Notification(Base):
    """One email to one person about one published answer (whatever the number of their
    contributions it reaches). Written in the same transaction as the publication, sent by a
    job afterwards, so a lost job or a mail server that is down loses nothing."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "answer_id"),
        Index("ix_notifications_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    status: Mapped[NotificationStatus] = mapped_column(
        Enum(
            NotificationStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=NotificationStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When a sender took it (two senders running at once never send one email twice)."""


# The kinds of account notices that carry no link (links are named by their purpose).
LOGINS_PAUSED = "logins_paused"
ALREADY_REGISTERED = "already_registered"
INACTIVE_ACCOUNT = "inactive_account"
ACCOUNT_SUSPENDED = "account_suspended"
ACCOUNT_REINSTATED = "account_reinstated"


class AccountNotice(Base):
    """One email to a person about their account itself: logins paused after wrong passwords
    were given for it. Written with the event, sent by the same job as the answers."""

    __tablename__ = "account_notices"
    __table_args__ = (Index("ix_account_notices_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[NotificationStatus] = mapped_column(
        Enum(
            NotificationStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=NotificationStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When a sender took it (two senders running at once never send one email twice)."""
