"""Logins pause after wrong passwords for one address, however many addresses try it.

The limit per client address (a rate limit on the route) stops one machine; this stops many
machines guessing one account's password. After a few free attempts each wrong password
pauses the address's logins for twice as long as the last, and the account's owner is warned
by email the first time (then at most once a day).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.accounts.services import authenticate, find_user_by_email, normalise_email
from consult.accounts.two_factor import check_code
from consult.db import insert_missing
from consult.notifications.models import LOGINS_PAUSED, AccountNotice
from consult.protection.models import LoginFailure

FREE_ATTEMPTS = 5
FIRST_PAUSE = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(hours=1)
# Wrong passwords this old are forgotten: a typo last month does not count against today.
FORGOTTEN_AFTER = timedelta(days=1)
WARNING_EVERY = timedelta(days=1)


class LoginRefused(Exception):
    """Wrong email or password, or logins paused for this address until `paused_until`
    (`owner_warned`: this refusal queued an email to the account's owner)."""

    def __init__(self, paused_until: datetime | None = None, owner_warned: bool = False) -> None:
        super().__init__("login refused")
        self.paused_until = paused_until
        self.owner_warned = owner_warned


def email_digest(email: str) -> str:
    """What identifies an address among the failures (never the address itself)."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def pause_after(failures: int) -> timedelta | None:
    """How long logins pause after this many wrong passwords in a row (None: not yet)."""
    if failures < FREE_ATTEMPTS:
        return None
    return min(FIRST_PAUSE * (1 << min(failures - FREE_ATTEMPTS, 20)), LONGEST_PAUSE)


async def log_in_with_password(
    db: AsyncSession, email: str, password: str, now: datetime, warn_owner: bool = True
) -> User:
    """The account these credentials open, or LoginRefused.

    While logins pause for the address, even the right password is refused, without being
    checked: guessing goes no faster from more machines. A wrong password is counted (the
    caller keeps that write although it refuses the request); the right one clears the count.
    `warn_owner`: email the owner when logins pause (when the site sends email).
    """
    digest = email_digest(email)
    paused_until = await db.scalar(
        select(LoginFailure.paused_until).where(LoginFailure.email_digest == digest)
    )
    if paused_until is not None and paused_until > now:
        raise LoginRefused(paused_until)
    user = await authenticate(db, email, password)
    if user is None:
        raise await _count_failure(db, digest, email, now, warn_owner)
    # With a second factor, the count goes on until the code is right too: the password alone
    # would otherwise reset it, and codes could be guessed without end.
    if user.totp_confirmed_at is None:
        await db.execute(delete(LoginFailure).where(LoginFailure.email_digest == digest))
    return user


async def log_in_with_code(
    db: AsyncSession, user: User, code: str, now: datetime, warn_owner: bool = True
) -> User:
    """The account, once its second-factor code (or a recovery code) is right; wrong codes
    count with wrong passwords and pause the address's logins alike (LoginRefused)."""
    email = user.email or ""
    digest = email_digest(email)
    paused_until = await db.scalar(
        select(LoginFailure.paused_until).where(LoginFailure.email_digest == digest)
    )
    if paused_until is not None and paused_until > now:
        raise LoginRefused(paused_until)
    if not await check_code(db, user, code, now):
        raise await _count_failure(db, digest, email, now, warn_owner)
    await db.execute(delete(LoginFailure).where(LoginFailure.email_digest == digest))
    return user


async def forget_failed_logins(db: AsyncSession, email: str) -> None:
    """Lift the pause on an address whose owner has shown it is theirs (a reset by email)."""
    await db.execute(delete(LoginFailure).where(LoginFailure.email_digest == email_digest(email)))


async def _count_failure(
    db: AsyncSession, digest: str, email: str, now: datetime, warn_owner: bool
) -> LoginRefused:
    """Count one wrong password (atomically: attempts from many machines at once each count)
    and pause the address's logins once free attempts are spent."""
    await insert_missing(
        db, LoginFailure, [{"email_digest": digest, "failures": 0, "last_failed_at": now}]
    )
    failures, warned_at = (
        await db.execute(
            update(LoginFailure)
            .where(LoginFailure.email_digest == digest)
            .values(
                failures=case(
                    (LoginFailure.last_failed_at < now - FORGOTTEN_AFTER, 1),
                    else_=LoginFailure.failures + 1,
                ),
                last_failed_at=now,
            )
            .returning(LoginFailure.failures, LoginFailure.owner_warned_at)
        )
    ).one()
    pause = pause_after(failures)
    if pause is None:
        return LoginRefused()
    changes: dict[str, object] = {"paused_until": now + pause}
    owner = await find_user_by_email(db, email) if warn_owner else None
    warn = owner is not None and (warned_at is None or warned_at <= now - WARNING_EVERY)
    if owner is not None and warn:
        changes["owner_warned_at"] = now
        db.add(AccountNotice(user_id=owner.id, kind=LOGINS_PAUSED, details={"failures": failures}))
    await db.execute(
        update(LoginFailure).where(LoginFailure.email_digest == digest).values(**changes)
    )
    return LoginRefused(now + pause, owner_warned=warn)


async def purge_login_failures(db: AsyncSession, now: datetime) -> int:
    """Forget the failures too old to count any more."""
    result = await db.execute(
        delete(LoginFailure).where(LoginFailure.last_failed_at < now - FORGOTTEN_AFTER)
    )
    return int(getattr(result, "rowcount", 0) or 0)
