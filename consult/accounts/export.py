"""A person's data, as they can take it away: their account, contributions, votes, the
emails sent to them, their reports and suspensions, as JSON files in one zip archive."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.answers.models import Answer, ContributionOutcome
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, Vote
from consult.moderation.models import Report, Suspension
from consult.notifications.models import AccountNotice, Notification


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def export_my_data(db: AsyncSession, user: User, now: datetime) -> bytes:
    """The zip archive of everything stored about this account."""
    files: dict[str, Any] = {
        "account.json": {
            "email": user.email,
            "public_name": user.display_name,
            "role": user.role.value,
            "email_confirmed": user.verification_level >= 1,
            "language": user.language,
            "email_me_about_answers": user.notify_answers,
            "created_at": _when(user.created_at),
            "exported_at": _when(now),
        },
        "contributions.json": await _contributions(db, user.id),
        "votes.json": await _votes(db, user.id),
        "emails.json": await _emails(db, user.id),
        "moderation.json": await _moderation(db, user.id),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, json.dumps(content, ensure_ascii=False, indent=2))
    return buffer.getvalue()


async def _contributions(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(Contribution, Consultation.slug, Answer.state, Answer.reason)
        .join(Consultation, Consultation.id == Contribution.consultation_id)
        .outerjoin(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
        .outerjoin(Answer, Answer.id == ContributionOutcome.answer_id)
        .where(Contribution.author_id == user_id)
        .order_by(Contribution.id)
    )
    return [
        {
            "id": c.id,
            "consultation": slug,
            "article": c.article_key,
            "kind": c.kind.value,
            "in_reply_to": c.parent_id,
            "text": c.body,
            "stance": c.stance.value if c.stance else None,
            "passage": c.quote_exact,
            "replaces": c.old_text or None,
            "new_wording": c.new_text or None,
            "link": c.url,
            "public_name": c.author_pseudonym,
            "visibility": c.visibility.value,
            "votes": {"for": c.votes_for, "mixed": c.votes_mixed, "against": c.votes_against},
            "answer": {"state": state.value, "reason": reason} if state else None,
            "created_at": _when(c.created_at),
        }
        for c, slug, state, reason in rows
    ]


async def _votes(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(Vote, Consultation.slug)
        .join(Consultation, Consultation.id == Vote.consultation_id)
        .where(Vote.voter_id == user_id)
        .order_by(Vote.id)
    )
    return [
        {
            "consultation": slug,
            "article": vote.article_key,
            "contribution": vote.contribution_id,
            "vote": vote.value.value,
            "cast_at": _when(vote.created_at),
            "changed_at": _when(vote.updated_at),
        }
        for vote, slug in rows
    ]


async def _emails(db: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    answers = await db.scalars(
        select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
    )
    notices = await db.scalars(
        select(AccountNotice).where(AccountNotice.user_id == user_id).order_by(AccountNotice.id)
    )
    return [
        {
            "about": "answer",
            "answer": n.answer_id,
            "status": n.status.value,
            "written_at": _when(n.created_at),
            "sent_at": _when(n.sent_at),
        }
        for n in answers
    ] + [
        {
            "about": notice.kind,
            "status": notice.status.value,
            "written_at": _when(notice.created_at),
            "sent_at": _when(notice.sent_at),
        }
        for notice in notices
    ]


async def _moderation(db: AsyncSession, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """The reports this person made, and the suspensions of their account."""
    reports = await db.scalars(
        select(Report).where(Report.reporter_id == user_id).order_by(Report.id)
    )
    suspensions = await db.scalars(
        select(Suspension).where(Suspension.user_id == user_id).order_by(Suspension.id)
    )
    return {
        "reports": [
            {
                "contribution": r.contribution_id,
                "reason": r.reason,
                "details": r.details,
                "made_at": _when(r.created_at),
            }
            for r in reports
        ],
        "suspensions": [
            {
                "reason": s.reason,
                "suspended_at": _when(s.created_at),
                "review_requested_at": _when(s.review_requested_at),
                "review_request": s.review_request,
                "lifted_at": _when(s.lifted_at),
            }
            for s in suspensions
        ],
    }
