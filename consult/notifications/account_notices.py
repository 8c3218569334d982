"""Emails about an account itself: its logins paused after wrong passwords were given for it.

Written with the event that calls for them (see `consult.protection.logins`), sent by the
``send_notifications`` job like the answers, retried the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.accounts.models import User
from consult.i18n import gettext as _
from consult.notifications.models import AccountNotice, NotificationStatus
from consult.notifications.outbox import BATCH, claim, record_outcome, waiting
from consult.settings import Settings

logger = logging.getLogger("consult.notifications")

LOGINS_PAUSED = "logins_paused"


def compose_notice(notice: AccountNotice, user: User, settings: Settings) -> EmailMessage:
    """The email, in its reader's language, plain text."""
    base = settings.base_url
    with i18n.language(user.language):
        message = EmailMessage()
        message["Subject"] = _("Logins to your account are paused")
        message["From"] = settings.mail_from
        message["To"] = formataddr((user.display_name, user.email or ""))
        failures = int(str(notice.details.get("failures", 0)))
        lines = [
            _("Hello %(name)s,") % {"name": user.display_name},
            "",
            _(
                "A wrong password was given %(count)s times in a row for your account. To "
                "protect it, logins to your account are paused for a while, whatever the "
                "password; each further wrong password makes the pause longer."
            )
            % {"count": failures},
            "",
            _("If it was you, wait a few minutes, then log in again."),
            _(
                "If it was not you, your password held: nobody logged in with it. You may "
                "choose a longer one here: %(url)s"
            )
            % {"url": f"{base}/account/password"},
            "",
            _("You receive this email because it concerns the security of your account."),
        ]
        message.set_content("\n".join(lines))
    return message


async def send_pending_notices(
    db: AsyncSession,
    settings: Settings,
    deliver: Callable[[Settings, EmailMessage], object],
    now: Callable[[], datetime],
    run: Callable[..., object],
) -> tuple[int, int]:
    """Send every pending account notice; returns (sent, failed attempts). Each outcome is
    committed at once, so an interruption never sends an email twice."""
    sent = failed = 0
    notices = list(
        await db.scalars(
            select(AccountNotice)
            .where(waiting(AccountNotice, now()))
            .order_by(AccountNotice.id)
            .limit(BATCH)
        )
    )
    for notice in notices:
        user = await db.get(User, notice.user_id)
        if user is None or not user.email or not user.is_active:
            notice.status = NotificationStatus.SKIPPED
            await db.commit()
            continue
        if not await claim(db, notice, now()):
            continue  # another sender has it
        error: str | None = None
        try:
            await run(deliver, settings, compose_notice(notice, user, settings))  # type: ignore[misc]
        except Exception as exc:  # the mail server's many ways to refuse
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("could not send account notice %d: %s", notice.id, error)
        record_outcome(notice, error, now())
        await db.commit()
        if error is None:
            sent += 1
        else:
            failed += 1
    return sent, failed
