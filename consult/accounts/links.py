"""Links sent by email that act on an account once: a new password, a confirmed address.

Asking for a password reset says nothing about whether an account exists (the answer is the
same either way, and only an existing account's address receives an email).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import AccountLink, LinkPurpose, User, VerificationLevel
from consult.accounts.passwords import hash_password, verify_password
from consult.accounts.services import end_all_sessions, normalise_email, validate_password
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.notifications.models import AccountNotice
from consult.protection.logins import forget_failed_logins

VALID_FOR = {
    LinkPurpose.PASSWORD_RESET: timedelta(hours=1),
    LinkPurpose.EMAIL_CHECK: timedelta(days=7),
}
# Links of one purpose sent to one account in an hour (more would flood its inbox).
PER_HOUR = 3


class LinkUnusable(Exception):
    """The link does not exist, is forged, has expired or was used."""


def link_secret(secret_key: str, link: AccountLink) -> str:
    """The part of the link only the site can compute."""
    message = f"account-link:{link.id}:{link.purpose}:{link.nonce}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:40]


async def send_link(
    db: AsyncSession, user: User, purpose: LinkPurpose, now: datetime, next_path: str = ""
) -> AccountLink | None:
    """A new link for the account, queued in the outbox (None when enough were sent this
    hour, or the account has no address; `next_path`: a local page to go on to after)."""
    if not user.email or not user.is_active:
        return None
    recent = await db.scalar(
        select(func.count())
        .select_from(AccountLink)
        .where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == purpose,
            AccountLink.created_at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= PER_HOUR:
        return None
    link = AccountLink(
        user_id=user.id,
        purpose=purpose,
        email=user.email,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + VALID_FOR[purpose],
        next_path=next_path[:500],
    )
    db.add(link)
    await db.flush()
    db.add(AccountNotice(user_id=user.id, kind=purpose.value, details={"link_id": link.id}))
    return link


async def request_password_reset(db: AsyncSession, email: str, now: datetime) -> bool:
    """Send a reset link to the account of this address, if there is one; whether an email
    was queued (for the sender only: the person asking is told the same either way)."""
    user = await db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or user.password_hash is None:
        return False
    return await send_link(db, user, LinkPurpose.PASSWORD_RESET, now) is not None


async def open_link(
    db: AsyncSession,
    secret_key: str,
    link_id: int,
    secret: str,
    purpose: LinkPurpose,
    now: datetime,
) -> AccountLink:
    """The link, if it is genuine, unused, unexpired and its account still has its address."""
    link = await db.get(AccountLink, link_id)
    if link is None or link.purpose != purpose:
        raise LinkUnusable(str(link_id))
    # Compared as bytes: a forged secret may hold any character.
    if not hmac.compare_digest(link_secret(secret_key, link).encode(), secret.encode()):
        raise LinkUnusable(str(link_id))
    user = await db.get(User, link.user_id)
    usable = link.used_at is None and link.expires_at > now
    if not usable or user is None or not user.is_active or user.email != link.email:
        raise LinkUnusable(str(link_id))
    return link


async def _spend(db: AsyncSession, link: AccountLink, now: datetime) -> None:
    """Mark the link used; two uses at once: the second finds it spent."""
    result = await db.execute(
        update(AccountLink)
        .where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
        .values(used_at=now)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        raise LinkUnusable(str(link.id))


async def reset_password(
    db: AsyncSession, link: AccountLink, new_password: str, now: datetime
) -> User:
    """Set the new password (FormError when too weak, the link still usable), end every
    session, and forget the wrong passwords given for the address: its owner is back."""
    errors = validate_password(new_password, field="new_password")
    if errors:
        raise FormError(errors)
    await _spend(db, link, now)
    user = await db.get(User, link.user_id)
    assert user is not None  # checked by open_link
    user.password_hash = await hash_password(new_password)
    # The link reached the address: it is the person's, whoever registered it first.
    user.awaiting_confirmation_since = None
    user.verification_level = max(user.verification_level, VerificationLevel.EMAIL)
    await end_all_sessions(db, user.id)
    await forget_failed_logins(db, link.email)
    # Other reset links sent before this one are of no use any more.
    await db.execute(
        delete(AccountLink).where(
            AccountLink.user_id == user.id,
            AccountLink.purpose == LinkPurpose.PASSWORD_RESET,
            AccountLink.used_at.is_(None),
        )
    )
    return user


def confirmation_needs_password(user: User) -> bool:
    """Whether confirming finishes a registration: then the password chosen at registration
    is asked, so that someone who registered another person's address cannot have it
    confirmed by its owner and keep a password the owner does not know."""
    return user.awaiting_confirmation_since is not None


async def confirm_email(
    db: AsyncSession, link: AccountLink, now: datetime, password: str = ""
) -> User:
    """The address is the person's: the account is verified at the email level (FormError
    when finishing a registration with another password than the one chosen)."""
    user = await db.get(User, link.user_id)
    assert user is not None  # checked by open_link
    if confirmation_needs_password(user) and not (
        user.password_hash and await verify_password(user.password_hash, password)
    ):
        raise FormError(
            {"password": _("This is not the password chosen when creating the account.")}
        )
    await _spend(db, link, now)
    user.awaiting_confirmation_since = None
    user.verification_level = max(user.verification_level, VerificationLevel.EMAIL)
    return user


async def purge_old_links(db: AsyncSession, now: datetime) -> int:
    """Forget links expired for a day (their use is refused anyway), and registrations never
    confirmed: their link has expired, nobody showed the address was theirs."""
    unconfirmed_since = now - VALID_FOR[LinkPurpose.EMAIL_CHECK] - timedelta(days=1)
    await db.execute(delete(User).where(User.awaiting_confirmation_since < unconfirmed_since))
    result = await db.execute(
        delete(AccountLink).where(AccountLink.expires_at < now - timedelta(days=1))
    )
    return int(getattr(result, "rowcount", 0) or 0)
