"""What protection against abuse remembers between requests, in every process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base, UTCDateTime


class LoginFailure(Base):
    """Wrong passwords given for one email address, and until when its logins pause.

    Kept by a digest of the address, known account or not, so that a pause says nothing about
    whether an account exists, and no address typed by a stranger is stored.
    """

    __tablename__ = "login_failures"

    email_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SpentFormToken(Base):
    """A form that was accepted once: sending the same form again is refused until the
    token would have expired anyway."""

    __tablename__ = "spent_form_tokens"

    token_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
