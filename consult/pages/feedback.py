"""What became of the contributions: the public feedback page and each citizen's own list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consult.answers.feedback import (
    ConsultationFeedback,
    MyContributions,
    consultation_feedback,
    my_contributions,
)
from consult.bills.models import BillVersion, Provision
from consult.bills.services import article_provisions, latest_version
from consult.consultations.models import Consultation, Phase
from consult.revisions.services import redlines_of


@dataclass(frozen=True)
class FeedbackPage:
    """Per article, the answers with their reasons and the counts a parliament can cite."""

    consultation: Consultation
    version: BillVersion | None
    articles: dict[str, Provision]
    feedback: ConsultationFeedback
    redlines: dict[str, list[Any]]
    phase: Phase


@dataclass(frozen=True)
class MyContributionsPage:
    """A page of the contributions of the person logged in, each with its fate."""

    listing: MyContributions


async def feedback_page(
    db: AsyncSession, consultation: Consultation, now: datetime
) -> FeedbackPage:
    """The public feedback page, with what the latest version changed."""
    version = await latest_version(db, consultation)
    articles = await article_provisions(db, version) if version else {}
    return FeedbackPage(
        consultation=consultation,
        version=version,
        articles=articles,
        feedback=await consultation_feedback(db, consultation, list(articles)),
        redlines=await redlines_of(db, version) if version and version.number > 1 else {},
        phase=consultation.phase_at(now),
    )


async def my_contributions_page(db: AsyncSession, user_id: int, page: int) -> MyContributionsPage:
    """One page of someone's contributions."""
    return MyContributionsPage(await my_contributions(db, user_id, page))
