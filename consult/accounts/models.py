"""User and session tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    """What a person may do. Ordered from least to most privileged."""

    CITIZEN = "citizen"
    MODERATOR = "moderator"
    OFFICIAL = "official"
    ADMIN = "admin"


class VerificationLevel(enum.IntEnum):
    """How much we know that an account belongs to a real, distinct person."""

    NONE = 0
    EMAIL = 1
    IDENTITY = 2


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


class User(Base):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", values_callable=_enum_values, validate_strings=True),
        default=Role.CITIZEN,
    )
    verification_level: Mapped[int] = mapped_column(Integer, default=VerificationLevel.NONE)
    language: Mapped[str] = mapped_column(String(8), default="fr")
    notify_answers: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """Email me when an answer to my contributions is published (opt-out)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The last login (None: not since this was recorded; its creation counts instead)."""
    inactivity_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When its owner was told that the account will be closed for inactivity."""
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    """The second factor's secret (base32), waiting for a first code until confirmed."""
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    """The time step of the last code accepted (a code is accepted once)."""
    awaiting_confirmation_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Registered on a site that sends email, its address not confirmed yet: it cannot log in
    until the link sent to it is followed (so nobody takes an address that is not theirs)."""

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:
        """Deleted (anonymised) accounts can no longer log in."""
        return self.deleted_at is None

    def has_role(self, *roles: Role) -> bool:
        """Whether the user holds one of `roles`; admins hold every role."""
        return self.role is Role.ADMIN or self.role in roles


class UserSession(Base):
    """A server-side login session; the cookie holds only a random token.

    Only a SHA-256 digest of the token is stored, so a leaked database does
    not let anyone hijack a session.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship(back_populates="sessions")


class LinkPurpose(enum.StrEnum):
    """What a link sent by email lets its holder do."""

    PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a password)
    EMAIL_CHECK = "email_check"


class AccountLink(Base):
    """A single-use link sent to an account's address: to choose a new password, or to show
    that the address is the person's.

    The link's secret is a signature of its id and random nonce with the site's secret key:
    nothing stored here is enough to forge or use a link.
    """

    __tablename__ = "account_links"
    __table_args__ = (Index("ix_account_links_user_purpose", "user_id", "purpose", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(24))
    email: Mapped[str] = mapped_column(String(254))
    """The address it was sent to (a link checks that address, not a later one)."""
    nonce: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_path: Mapped[str] = mapped_column(String(500), default="")
    """The local page to go on to once the address is confirmed (where the person registered)."""


class RecoveryCode(Base):
    """A single-use code that stands in for the second factor (a lost phone); only its
    SHA-256 digest is kept (the codes are random: a digest is enough)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdentityLink(Base):
    """An identity verified by the OpenID Connect provider that signs in to an account: only
    the provider's identifier for the person is kept."""

    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
