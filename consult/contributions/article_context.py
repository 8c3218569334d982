"""The article a contribution is written on, and whether the consultation takes contributions."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Integer, Select, String, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User, VerificationLevel
from consult.bills.models import BillVersion, Provision, ProvisionKind
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _


class ClosedForContributions(FormError):
    """The consultation is not open: nothing can be added or voted."""

    def __init__(self) -> None:
        super().__init__(
            {"form": _("This consultation is not open: contributions and votes are closed.")}
        )


@dataclass(frozen=True)
class ArticleContext:
    """The article a contribution is made on, with its alinéas as they read."""

    consultation: Consultation
    version: BillVersion
    article: Provision
    alineas: list[str]


async def load_article_context(
    session: AsyncSession, consultation: Consultation, version: BillVersion, article_key: str
) -> ArticleContext:
    """The article and its alinéas in `version`, or NotFound."""
    article = await session.scalar(
        select(Provision).where(
            Provision.version_id == version.id,
            Provision.key == article_key,
            Provision.kind == ProvisionKind.ARTICLE,
        )
    )
    if article is None:
        raise NotFound(article_key)
    alineas = (
        await session.scalars(
            select(Provision.text)
            .where(Provision.parent_id == article.id, Provision.kind == ProvisionKind.ALINEA)
            .order_by(Provision.position)
        )
    ).all()
    return ArticleContext(consultation, version, article, list(alineas))


def in_latest_version() -> ColumnElement[bool]:
    """Whether the latest version of the bill has this article: a condition to put in a
    query, its values bound at each call as `consultation_id` and `article_key` (what a vote
    needs to know of the article, where a contribution needs its text)."""
    consultation_id = bindparam("consultation_id", type_=Integer)
    latest = (
        select(BillVersion.id)
        .where(BillVersion.consultation_id == consultation_id)
        .order_by(BillVersion.number.desc())
        .limit(1)
        .scalar_subquery()
    )
    return exists().where(
        Provision.version_id == latest,
        Provision.key == bindparam("article_key", type_=String),
        Provision.kind == ProvisionKind.ARTICLE,
    )


@functools.cache
def _article_in_latest_version_query() -> Select[bool]:
    """Built once per process (every vote on an article asks it)."""
    return select(in_latest_version())


async def require_article(session: AsyncSession, consultation: Consultation, key: str) -> None:
    """NotFound unless the latest version of the bill has this article: all that a vote on the
    article needs to know of it (one query, where loading its text takes three)."""
    found = await session.scalar(
        _article_in_latest_version_query(), {"consultation_id": consultation.id, "article_key": key}
    )
    if not found:
        raise NotFound(key)


class NotVerifiedEnough(FormError):
    """The consultation asks more of accounts than this one has shown (a confirmed address, a
    verified identity) before they post or vote."""

    def __init__(self, required: int) -> None:
        if required == VerificationLevel.EMAIL:
            message = _(
                "This consultation asks participants to confirm their email address first:"
                " you can do it from My account."
            )
        else:
            message = _(
                "This consultation asks participants to verify their identity first:"
                " you can do it from My account."
            )
        super().__init__({"form": message})


def require_open(consultation: Consultation, now: datetime, person: User) -> None:
    """Refuse a contribution or a vote the consultation does not take now, or from this
    account (FormError)."""
    if not accepts_contributions(consultation, now):
        raise ClosedForContributions()
    if person.verification_level < consultation.participation_requires:
        raise NotVerifiedEnough(consultation.participation_requires)
