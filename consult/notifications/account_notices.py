"""Emails about an account itself: its logins paused after wrong passwords were given for it,
a link to choose a new password, a link to confirm its address.

Written with the event that calls for them (see `consult.protection.logins`), sent by the
``send_notifications`` job like the answers, retried the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.accounts.links import link_secret
from consult.accounts.models import AccountLink, LinkPurpose, User
from consult.i18n import gettext as _
from consult.notifications.models import (
    ACCOUNT_REINSTATED,
    ACCOUNT_SUSPENDED,
    ALREADY_REGISTERED,
    INACTIVE_ACCOUNT,
    LOGINS_PAUSED,
    AccountNotice,
)
from consult.notifications.outbox import BATCH, send_one, skip, waiting
from consult.settings import Settings


def compose_notice(
    notice: AccountNotice, user: User, settings: Settings, link: AccountLink | None = None
) -> EmailMessage:
    """The email, in its reader's language, plain text (`link`: the link it carries)."""
    with i18n.language(user.language):
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = formataddr((user.display_name, link.email if link else user.email or ""))
        subject, paragraphs = _contents(notice, settings, link, user)
        message["Subject"] = subject
        lines = [_("Hello %(name)s,") % {"name": user.display_name}, ""]
        for paragraph in paragraphs:
            lines += [paragraph, ""]
        lines.append(_("You receive this email because it concerns the security of your account."))
        message.set_content("\n".join(lines))
    return message


def _contents(
    notice: AccountNotice, settings: Settings, link: AccountLink | None, user: User
) -> tuple[str, list[str]]:
    base = settings.base_url
    if notice.kind == LOGINS_PAUSED:
        failures = int(str(notice.details.get("failures", 0)))
        return _("Logins to your account are paused"), [
            _(
                "A wrong password was given %(count)s times in a row for your account. To "
                "protect it, logins to your account are paused for a while, whatever the "
                "password; each further wrong password makes the pause longer."
            )
            % {"count": failures},
            _("If it was you, wait a few minutes, then log in again."),
            _(
                "If it was not you, your password held: nobody logged in with it. You may "
                "choose a longer one here: %(url)s"
            )
            % {"url": f"{base}/account/password"},
        ]
    if notice.kind == ALREADY_REGISTERED:
        return _("You already have an account"), [
            _(
                "Someone, probably you, tried to create an account with this address, which "
                "already has one: no new account was created."
            ),
            _("To log in: %(url)s") % {"url": f"{base}/account/login"},
            _("Forgotten your password? Choose a new one here: %(url)s")
            % {"url": f"{base}/account/forgot"},
            _("If it was not you, ignore this email: nothing changed on your account."),
        ]
    if notice.kind == INACTIVE_ACCOUNT:
        return _("Your account will be closed"), [
            _(
                "Nobody has logged in to your account for a long time. Personal data is not "
                "kept longer than needed, so your account will be closed on %(date)s: your "
                "email address and public name will be erased, your contributions kept under "
                "“Deleted account”."
            )
            % {"date": str(notice.details.get("closing_on", ""))},
            _("To keep your account, log in before then: %(url)s")
            % {"url": f"{base}/account/login"},
        ]
    if notice.kind == ACCOUNT_SUSPENDED:
        return _("Your account is suspended"), [
            _(
                "The moderators of the consultation “%(consultation)s” suspended your account:"
                " you can no longer post or vote. Your contributions stay as they were, unless"
                " moderators hid them."
            )
            % {"consultation": str(notice.details.get("consultation", ""))},
            _("Their reason: %(reason)s") % {"reason": str(notice.details.get("reason", ""))},
            _("You may ask once for a review from your account page: %(url)s")
            % {"url": f"{base}/account"},
        ]
    if notice.kind == ACCOUNT_REINSTATED:
        return _("Your account is reinstated"), [
            _(
                "The moderators of the consultation “%(consultation)s” lifted the suspension of"
                " your account: you can post and vote again."
            )
            % {"consultation": str(notice.details.get("consultation", ""))},
            _("Their reason: %(reason)s") % {"reason": str(notice.details.get("reason", ""))},
        ]
    assert link is not None, "a link notice names its link"
    secret = link_secret(settings.secret_key, link)
    if notice.kind == LinkPurpose.PASSWORD_RESET:
        return _("Choose a new password"), [
            _("Someone, probably you, asked to choose a new password for your account."),
            _("To choose it, open this link within an hour: %(url)s")
            % {"url": f"{base}/account/reset/{link.id}/{secret}"},
            _("If you did not ask for it, ignore this email: your password stays as it is."),
        ]
    confirm_url = f"{base}/account/confirm/{link.id}/{secret}"
    if user.awaiting_confirmation_since is not None:
        return _("Finish creating your account"), [
            _(
                "To finish creating your account, open this link within seven days and give "
                "the password you chose: %(url)s"
            )
            % {"url": confirm_url},
            _("If you did not create an account, ignore this email: it will be forgotten."),
        ]
    return _("Confirm your email address"), [
        _("To confirm that this address is yours, open this link within seven days: %(url)s")
        % {"url": confirm_url},
        _("If you did not create an account, ignore this email."),
    ]


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
        link_id = notice.details.get("link_id")
        link = await db.get(AccountLink, int(str(link_id))) if link_id is not None else None
        gone = link_id is not None and (link is None or link.used_at is not None)
        if user is None or not user.email or not user.is_active or gone:
            await skip(db, notice)  # nobody to write to, or a link used or gone
            continue
        went = await send_one(
            db,
            notice,
            lambda: compose_notice(notice, user, settings, link),  # noqa: B023 (called at once)
            settings,
            deliver,
            now,
            run,
        )
        sent += went is True
        failed += went is False
    return sent, failed
