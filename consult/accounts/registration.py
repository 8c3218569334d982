"""Registering on a site that sends email: the answer never tells whether an address has an
account.

Whatever the address, the person is told that a message is on its way to it. A new address gets
an account waiting for confirmation and a link to confirm it; an address that already has an
account gets a message saying so, with the ways to log in; a registration still waiting for
confirmation is replaced by the latest one (nobody has shown yet that the address is theirs).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.links import send_link
from consult.accounts.models import LinkPurpose, User
from consult.accounts.passwords import hash_password
from consult.accounts.services import normalise_email, registration_errors
from consult.errors import FormError
from consult.notifications.models import ALREADY_REGISTERED, AccountNotice


async def register_with_confirmation(
    db: AsyncSession, email: str, display_name: str, password: str, next_path: str, now: datetime
) -> bool:
    """Take a registration (FormError naming the wrong fields); whether an email was queued."""
    email = normalise_email(email)
    display_name = " ".join(display_name.split())
    errors = registration_errors(email, display_name, password)
    if errors:
        raise FormError(errors)
    # Hashed in every case, so the time taken does not tell known addresses apart either.
    password_hash = await hash_password(password)
    user = await db.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(
            email=email,
            display_name=display_name,
            password_hash=password_hash,
            awaiting_confirmation_since=now,
        )
        db.add(user)
        await db.flush()
    elif user.awaiting_confirmation_since is not None:
        user.display_name, user.password_hash = display_name, password_hash
        user.awaiting_confirmation_since = now
    elif user.is_active:
        return await _tell_already_registered(db, user, now)
    else:
        return False
    return await send_link(db, user, LinkPurpose.EMAIL_CHECK, now, next_path) is not None


async def _tell_already_registered(db: AsyncSession, user: User, now: datetime) -> bool:
    """Tell the owner that someone tried to register their address (once an hour at most)."""
    recent = await db.scalar(
        select(func.count())
        .select_from(AccountNotice)
        .where(
            AccountNotice.user_id == user.id,
            AccountNotice.kind == ALREADY_REGISTERED,
            AccountNotice.created_at > now - timedelta(hours=1),
        )
    )
    if recent:
        return False
    db.add(AccountNotice(user_id=user.id, kind=ALREADY_REGISTERED, created_at=now))
    return True
