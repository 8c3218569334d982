"""Account services: registration, authentication, sessions, password changes."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, String, bindparam, delete, exists, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from consult.accounts.models import Role, User, UserSession
from consult.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from consult.db import utcnow
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.moderation.models import Suspension

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAX_DISPLAY_NAME = 80
# Refreshing last_seen_at on every request would write on every page view.
LAST_SEEN_GRANULARITY = timedelta(minutes=5)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives without activity, and at most."""

    idle: timedelta
    absolute: timedelta


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def validate_password(password: str, field: str = "password") -> dict[str, str]:
    """Length rules only (NIST SP 800-63B): no composition rules, no rotation."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return {
            field: _("The password must have at least {count} characters.").format(
                count=MIN_PASSWORD_LENGTH
            )
        }
    if len(password) > MAX_PASSWORD_LENGTH:
        return {
            field: _("The password must have at most {count} characters.").format(
                count=MAX_PASSWORD_LENGTH
            )
        }
    return {}


async def create_user(
    session: AsyncSession,
    email: str,
    display_name: str,
    password: str,
    role: Role = Role.CITIZEN,
) -> User:
    """Create an account, or raise FormError naming each field that is wrong."""
    email = normalise_email(email)
    display_name = " ".join(display_name.split())
    errors = registration_errors(email, display_name, password)
    if "email" not in errors:
        taken = await session.scalar(select(func.count()).where(User.email == email))
        if taken:
            errors["email"] = _("An account already exists with this email address.")
    if errors:
        raise FormError(errors)
    user = User(
        email=email,
        display_name=display_name,
        password_hash=await hash_password(password),
        role=role,
    )
    session.add(user)
    await session.flush()
    return user


def registration_errors(email: str, display_name: str, password: str) -> dict[str, str]:
    """What is wrong in a registration, field by field (the email and name normalised)."""
    errors: dict[str, str] = {}
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        errors["email"] = _("Enter a valid email address, like name@example.org.")
    if not display_name:
        errors["display_name"] = _("Enter the name other participants will see.")
    elif len(display_name) > MAX_DISPLAY_NAME:
        errors["display_name"] = _("The name must have at most {count} characters.").format(
            count=MAX_DISPLAY_NAME
        )
    errors.update(validate_password(password))
    return errors


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (in constant-ish time)."""
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or user.password_hash is None or not user.is_active:
        await verify_password(dummy_hash(), password)
        return None
    if not await verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    return user


def digest_token(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(
    session: AsyncSession, user: User, policy: SessionPolicy, now: datetime | None = None
) -> str:
    """Open a session for `user` and return the opaque token for the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    user.last_login_at, user.inactivity_warned_at = now, None
    session.add(
        UserSession(
            token_digest=digest_token(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.absolute,
        )
    )
    await session.flush()
    return token


@dataclass(frozen=True)
class SignedIn:
    """The person behind a valid session cookie."""

    user: User
    suspended: bool = False
    """An account suspension is in force (asked only where the request needs to know)."""


@functools.cache
def _session_query(with_suspension: bool) -> Select[UserSession, bool]:
    """Built once per process, the token bound at each call: every signed-in request asks it,
    and building it cost a quarter of its time."""
    suspended: ColumnElement[bool] = false()
    if with_suspension:
        suspended = exists().where(Suspension.in_force_for(UserSession.user_id))
    return (
        select(UserSession, suspended)
        .where(UserSession.token_digest == bindparam("token_digest", type_=String))
        .options(joinedload(UserSession.user))
    )


async def resolve_session(
    session: AsyncSession,
    token: str,
    policy: SessionPolicy,
    now: datetime | None = None,
    *,
    with_suspension: bool = False,
) -> SignedIn | None:
    """The user behind a session token, if the session is still valid.

    A session ends at its absolute expiry or after `policy.idle` without use. With
    `with_suspension`, whether the account is suspended comes in the same query: a request
    that would post or vote needs both, and one round trip less is felt on every vote.
    """
    now = now or utcnow()
    query = _session_query(with_suspension)
    found = (await session.execute(query, {"token_digest": digest_token(token)})).first()
    if found is None:
        return None
    user_session, is_suspended = found
    expired = now >= user_session.expires_at or now - user_session.last_seen_at >= policy.idle
    if expired or not user_session.user.is_active:
        await session.delete(user_session)
        return None
    if now - user_session.last_seen_at >= LAST_SEEN_GRANULARITY:
        user_session.last_seen_at = now
    return SignedIn(user_session.user, suspended=bool(is_suspended))


async def end_session(session: AsyncSession, token: str) -> None:
    """Log out: forget this session."""
    await session.execute(
        delete(UserSession).where(UserSession.token_digest == digest_token(token))
    )


async def end_all_sessions(session: AsyncSession, user_id: int) -> None:
    """Revoke every session of a user (password change, deletion)."""
    await session.execute(delete(UserSession).where(UserSession.user_id == user_id))


async def change_password(
    session: AsyncSession, user: User, current_password: str, new_password: str
) -> None:
    """Change a password after checking the current one; every session is revoked."""
    errors: dict[str, str] = {}
    if user.password_hash is None or not await verify_password(
        user.password_hash, current_password
    ):
        errors["current_password"] = _("The current password is not correct.")
    errors.update(validate_password(new_password, field="new_password"))
    if errors:
        raise FormError(errors)
    user.password_hash = await hash_password(new_password)
    await end_all_sessions(session, user.id)


async def purge_expired_sessions(
    session: AsyncSession, policy: SessionPolicy, now: datetime | None = None
) -> int:
    """Delete sessions past their absolute or idle expiry; returns how many."""
    now = now or utcnow()
    result = await session.execute(
        delete(UserSession).where(
            (UserSession.expires_at <= now) | (UserSession.last_seen_at <= now - policy.idle)
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    """The account with this email, if any."""
    return await session.scalar(select(User).where(User.email == normalise_email(email)))
