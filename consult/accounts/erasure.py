"""Closing an account: what identifies the person is erased, what they contributed stays public
under "deleted account" (or goes, on request, where nothing depends on it).

The account row itself stays, emptied: votes keep counting and contributions keep their
distinct authors (a campaign of many deleted accounts is still many authors), but nothing in it
names or reaches the person any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import AccountLink, Role, User, VerificationLevel
from consult.accounts.passwords import verify_password
from consult.accounts.services import end_all_sessions
from consult.answers.models import Answer, AnswerCoverage
from consult.audit.services import record_event
from consult.contributions.models import Contribution
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.notifications.models import AccountNotice, Notification
from consult.protection.logins import forget_failed_logins
from consult.revisions.models import VersionChange


@dataclass(frozen=True)
class Closed:
    """What closing an account did."""

    kept: int
    """Contributions still public, now under "deleted account"."""
    deleted: int
    """Contributions deleted on request (none answered, replied to or taken into a version)."""


async def close_account(
    db: AsyncSession, user: User, password: str, delete_contributions: bool, now: datetime
) -> Closed:
    """Erase the account in the caller's transaction (FormError: wrong password, or an
    administrator, who would leave the site without one)."""
    if user.role is Role.ADMIN:
        message = _("An administrator cannot close their own account: ask another one first.")
        raise FormError({"form": message})
    if not user.password_hash or not await verify_password(user.password_hash, password):
        raise FormError({"password": _("Wrong password.")})
    return await erase_account(db, user, delete_contributions, now, "account.closed")


async def erase_account(
    db: AsyncSession, user: User, delete_contributions: bool, now: datetime, action: str
) -> Closed:
    """Erase what identifies the person, end their sessions and stop their emails; `action`
    names the event in the audit log (closed by its holder, or for inactivity)."""
    deleted = 0
    if delete_contributions:
        deleted = await _delete_unanswered_contributions(db, user.id)
    renamed = await db.execute(
        update(Contribution).where(Contribution.author_id == user.id).values(author_pseudonym="")
    )
    kept = int(getattr(renamed, "rowcount", 0) or 0)
    if user.email:
        await forget_failed_logins(db, user.email)
    await end_all_sessions(db, user.id)
    for table in (AccountLink, AccountNotice, Notification):
        await db.execute(delete(table).where(table.user_id == user.id))
    user.email = None
    user.display_name = ""
    user.password_hash = None
    user.notify_answers = False
    user.awaiting_confirmation_since = None
    user.verification_level = VerificationLevel.NONE
    user.role = Role.CITIZEN
    user.deleted_at = now
    await record_event(db, None, action, f"user:{user.id}", {"kept": kept, "deleted": deleted})
    return Closed(kept=kept, deleted=deleted)


async def _delete_unanswered_contributions(db: AsyncSession, user_id: int) -> int:
    """Delete the person's contributions that nothing depends on: no answer reaches them, no
    reply hangs from them, no version took words from them."""
    replies = Contribution.__table__.alias("replies")
    free = select(Contribution.id).where(
        Contribution.author_id == user_id,
        ~exists().where(AnswerCoverage.contribution_id == Contribution.id),
        ~exists().where(Answer.contribution_id == Contribution.id),
        ~exists().where(VersionChange.contribution_id == Contribution.id),
        ~exists().where(replies.c.parent_id == Contribution.id),
    )
    ids = list(await db.scalars(free))
    if ids:
        await db.execute(delete(Contribution).where(Contribution.id.in_(ids)))
    return len(ids)
