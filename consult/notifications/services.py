"""Telling authors that their contributions were answered, by email, through an outbox.

Publishing an answer writes one notification per author it reaches (when a mail server is
configured and the author has not opted out), in the publication's transaction. The
``send_notifications`` job then sends what is pending; a failure leaves the notification
pending with its error, and the periodic sweep tries again, up to :data:`MAX_ATTEMPTS`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.accounts.models import User
from consult.answers.models import Answer, ContributionOutcome, state_name
from consult.answers.services import AnswerDecision, AnswerTarget, SavedAnswer, save_answer
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution
from consult.i18n import gettext as _
from consult.notifications.models import Notification
from consult.notifications.outbox import BATCH, send_one, skip, waiting
from consult.settings import Settings
from consult.text import excerpt, plain_text

# Contributions named in one email; the link to "my contributions" lists them all.
LISTED = 10


@dataclass(frozen=True)
class AnnouncedAnswer:
    """An answer saved, and how many emails about it now wait to be sent."""

    saved: SavedAnswer
    emails: int


async def answer_and_announce(
    db: AsyncSession,
    target: AnswerTarget,
    decision: AnswerDecision,
    *,
    author: User,
    now: datetime,
    settings: Settings,
) -> AnnouncedAnswer:
    """Save the answer to ``target`` (see `save_answer`) and, when this publishes it, write
    the emails that tell the authors it reaches."""
    saved = await save_answer(db, target, decision, author=author, now=now)
    emails = 0
    if saved.published_now:
        emails = await queue_answer_notifications(db, saved.answer, settings, now)
    return AnnouncedAnswer(saved, emails)


async def queue_answer_notifications(
    db: AsyncSession, answer: Answer, settings: Settings, now: datetime
) -> int:
    """Write the emails an answer just published calls for; returns how many.

    One per author whose contributions this answer now stands for (an author whose
    contribution has an answer of its own hears about that one instead).
    """
    if not settings.sends_email:
        return 0
    authors = (
        await db.execute(
            select(Contribution.author_id)
            .join(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
            .join(User, User.id == Contribution.author_id)
            .where(
                ContributionOutcome.answer_id == answer.id,
                User.notify_answers.is_(True),
                User.deleted_at.is_(None),
                User.email.is_not(None),
            )
            .distinct()
        )
    ).scalars()
    already = set(
        (
            await db.scalars(
                select(Notification.user_id).where(Notification.answer_id == answer.id)
            )
        ).all()
    )
    queued = 0
    for author_id in authors:
        if author_id is not None and author_id not in already:
            db.add(Notification(user_id=author_id, answer_id=answer.id, created_at=now))
            queued += 1
    await db.flush()
    return queued


def unsubscribe_token(settings: Settings, user_id: int) -> str:
    """The secret part of an author's link to stop these emails (no login needed)."""
    return hmac.new(
        settings.secret_key.encode(), f"unsubscribe:{user_id}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def valid_unsubscribe_token(settings: Settings, user_id: int, token: str) -> bool:
    """Whether ``token`` is the one :func:`unsubscribe_token` gives for this account."""
    # Compared as bytes: a forged token may hold any character, which a str comparison refuses.
    return hmac.compare_digest(unsubscribe_token(settings, user_id).encode(), token.encode())


@dataclass(frozen=True)
class Letter:
    """What one email says."""

    user: User
    answer: Answer
    consultation: Consultation
    contributions: list[Contribution]


def compose(letter: Letter, settings: Settings) -> EmailMessage:
    """The email, in its reader's language, plain text."""
    base = settings.base_url
    with i18n.language(letter.user.language):
        message = EmailMessage()
        message["Subject"] = _("Your contribution to “%(title)s” has an answer") % {
            "title": letter.consultation.title
        }
        message["From"] = settings.mail_from
        message["To"] = formataddr((letter.user.display_name, letter.user.email or ""))
        state = state_name(letter.answer.state)
        lines = [
            _("Hello %(name)s,") % {"name": letter.user.display_name},
            "",
            _("The ministry has answered your contribution to the consultation “%(title)s”.")
            % {"title": letter.consultation.title},
            "",
            _("Decision: %(state)s") % {"state": state},
            "",
            plain_text(letter.answer.reason),
            "",
            _("This answer concerns:"),
        ]
        for contribution in letter.contributions[:LISTED]:
            lines.append(
                f"- {excerpt(contribution.body or contribution.new_text, 120)}\n"
                f"  {base}/consultations/{letter.consultation.slug}"
                f"/contributions/{contribution.id}"
            )
        if len(letter.contributions) > LISTED:
            lines.append(_("… and %(count)s more.") % {"count": len(letter.contributions) - LISTED})
        token = unsubscribe_token(settings, letter.user.id)
        lines += [
            "",
            _("All your contributions and what became of them: %(url)s")
            % {"url": f"{base}/account/contributions"},
            _("What became of all the contributions: %(url)s")
            % {"url": f"{base}/consultations/{letter.consultation.slug}/feedback"},
            "",
            _("You receive this email because you contributed. To stop these emails: %(url)s")
            % {"url": f"{base}/account/unsubscribe/{letter.user.id}/{token}"},
        ]
        message.set_content("\n".join(lines))
        message["List-Unsubscribe"] = f"<{base}/account/unsubscribe/{letter.user.id}/{token}>"
    return message


async def pending_letters(
    db: AsyncSession, now: datetime, limit: int = BATCH
) -> list[tuple[Notification, Letter]]:
    """Notifications waiting to be sent, with what each email says."""
    notifications = list(
        (
            await db.scalars(
                select(Notification)
                .where(waiting(Notification, now))
                .order_by(Notification.id)
                .limit(limit)
            )
        ).all()
    )
    letters: list[tuple[Notification, Letter]] = []
    for notification in notifications:
        user = await db.get(User, notification.user_id)
        answer = await db.get(Answer, notification.answer_id)
        if user is None or answer is None:
            continue
        consultation = await db.get(Consultation, answer.consultation_id)
        assert consultation is not None
        contributions = list(
            (
                await db.scalars(
                    select(Contribution)
                    .join(
                        ContributionOutcome,
                        ContributionOutcome.contribution_id == Contribution.id,
                    )
                    .where(
                        ContributionOutcome.answer_id == answer.id,
                        Contribution.author_id == user.id,
                    )
                    .order_by(Contribution.id)
                )
            ).all()
        )
        letters.append((notification, Letter(user, answer, consultation, contributions)))
    return letters


async def send_pending(
    db: AsyncSession,
    settings: Settings,
    deliver: Callable[[Settings, EmailMessage], object],
    now: Callable[[], datetime],
    run: Callable[..., object],
) -> tuple[int, int]:
    """Send every pending notification; returns (sent, failed attempts).

    ``deliver`` sends one message (blocking); ``run`` runs it off the event loop. Each
    outcome is committed at once, so an interruption never sends an email twice.
    """
    sent = failed = 0
    for notification, letter in await pending_letters(db, now()):
        if not (letter.contributions and letter.user.email and letter.user.notify_answers):
            # Opted out since, or every contribution now has an answer of its own.
            await skip(db, notification)
            continue
        went = await send_one(
            db,
            notification,
            lambda: compose(letter, settings),  # noqa: B023 (called at once)
            settings,
            deliver,
            now,
            run,
        )
        sent += went is True
        failed += went is False
    return sent, failed


def deliver_by_smtp(settings: Settings, message: EmailMessage) -> None:
    """Send one message through the configured mail server (blocking)."""
    import smtplib

    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as server:
        if settings.smtp_starttls:
            server.starttls()
        if settings.smtp_username:
            server.login(settings.smtp_username, settings.smtp_password)
        server.send_message(message)
