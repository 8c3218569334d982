"""The outbox's rules, shared by every kind of email: who sends a pending email, and what a
failure does to it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.notifications.models import AccountNotice, Notification, NotificationStatus
from consult.settings import Settings

logger = logging.getLogger("consult.notifications")

MAX_ATTEMPTS = 5
# Emails sent by one job run (the sweep picks up the rest).
BATCH = 200
# A sender that took an email and then stopped (its process killed) leaves it to another
# after this long: an email may then go twice, never zero times.
CLAIM_TIMEOUT = timedelta(minutes=10)

Outgoing = Notification | AccountNotice


def waiting(model: type[Outgoing], now: datetime) -> ColumnElement[bool]:
    """Pending, and taken by no sender that may still be at work."""
    return (model.status == NotificationStatus.PENDING) & or_(
        model.claimed_at.is_(None), model.claimed_at < now - CLAIM_TIMEOUT
    )


async def claim(db: AsyncSession, email: Outgoing, now: datetime) -> bool:
    """Take the email for sending and commit: of two senders at work at once (the periodic
    job and the one a publication queued), only the first sends it."""
    model = type(email)
    result = await db.execute(
        update(model).where(model.id == email.id, waiting(model, now)).values(claimed_at=now)
    )
    await db.commit()
    return int(getattr(result, "rowcount", 0) or 0) == 1


def record_outcome(email: Outgoing, error: str | None, now: datetime) -> None:
    """Mark the email sent, or count a failed attempt (failed for good after the last)."""
    email.claimed_at = None
    if error is None:
        email.status = NotificationStatus.SENT
        email.sent_at = now
        email.last_error = ""
        return
    email.attempts += 1
    email.last_error = error[:1000]
    if email.attempts >= MAX_ATTEMPTS:
        email.status = NotificationStatus.FAILED


async def skip(db: AsyncSession, email: Outgoing) -> None:
    """Nothing to send any more (an opt-out, a closed account, a link already used)."""
    email.status = NotificationStatus.SKIPPED
    await db.commit()


async def send_one(
    db: AsyncSession,
    email: Outgoing,
    compose: Callable[[], EmailMessage],
    settings: Settings,
    deliver: Callable[[Settings, EmailMessage], object],
    now: Callable[[], datetime],
    run: Callable[..., object],
) -> bool | None:
    """Claim, compose, deliver (``run`` takes the blocking ``deliver`` off the event loop)
    and commit the outcome at once, so an interruption never sends an email twice: whether it
    went, or None when another sender has it."""
    if not await claim(db, email, now()):
        return None
    error: str | None = None
    try:
        await run(deliver, settings, compose())  # type: ignore[misc]
    except Exception as exc:  # the mail server's many ways to refuse
        error = f"{type(exc).__name__}: {exc}"
        logger.warning("could not send %s %d: %s", type(email).__name__, email.id, error)
    record_outcome(email, error, now())
    await db.commit()
    return error is None
