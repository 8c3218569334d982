"""Accounts not used for a long time are closed, after a warning to their owner.

Personal data is kept no longer than its purpose needs: an account nobody has logged in to for
`inactive_account_days` is closed as its holder would close it (contributions kept under
"deleted account"). Where the site sends email, the owner is told a month before and keeps the
account by logging in; the account is closed only a month after the warning.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.erasure import erase_account
from consult.accounts.models import Role, User
from consult.notifications.models import INACTIVE_ACCOUNT, AccountNotice

WARNED_AHEAD = timedelta(days=30)
# Accounts handled per run, so one run's transaction stays short; the next run goes on.
BATCH = 500


async def close_inactive_accounts(
    db: AsyncSession, inactive_days: int, now: datetime, sends_email: bool
) -> tuple[int, int]:
    """Warn the owners of accounts about to be closed, close those warned a month ago (or at
    once where the site sends no email); returns (warned, closed)."""
    if inactive_days <= 0:
        return 0, 0
    last_used = func.coalesce(User.last_login_at, User.created_at)
    closing_line = now - timedelta(days=inactive_days)
    # Staff accounts are managed by the administrators; registrations waiting for confirmation
    # go with their link.
    citizens = (
        User.role == Role.CITIZEN,
        User.deleted_at.is_(None),
        User.awaiting_confirmation_since.is_(None),
    )
    warned = 0
    if sends_email:
        to_warn = await db.scalars(
            select(User)
            .where(*citizens, last_used < closing_line + WARNED_AHEAD)
            .where(User.inactivity_warned_at.is_(None), User.email.is_not(None))
            .limit(BATCH)
        )
        for user in to_warn:
            user.inactivity_warned_at = now
            closing_on = (now + WARNED_AHEAD).date().isoformat()
            db.add(
                AccountNotice(
                    user_id=user.id,
                    kind=INACTIVE_ACCOUNT,
                    details={"closing_on": closing_on, "days": inactive_days},
                    created_at=now,
                )
            )
            warned += 1
    to_close = select(User).where(*citizens, last_used < closing_line)
    if sends_email:
        to_close = to_close.where(User.inactivity_warned_at <= now - WARNED_AHEAD)
    closed = 0
    for user in list(await db.scalars(to_close.limit(BATCH))):
        await erase_account(db, user, False, now, "account.closed_for_inactivity")
        closed += 1
    return warned, closed
