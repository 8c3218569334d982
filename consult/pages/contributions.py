"""A contribution's own page, and the fragments that change around a contribution: its vote
widget after a vote, and the contributions like a text being written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.accounts.models import User
from consult.answers.models import Answer
from consult.answers.services import outcome_of
from consult.bills.models import BillVersion
from consult.bills.services import get_version
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.contributions.article_context import (
    ArticleContext,
    ClosedForContributions,
    load_article_context,
)
from consult.contributions.listing import (
    amendment_footprints,
    contributions_by_id,
    get_contribution,
)
from consult.contributions.models import Contribution, VoteValue
from consult.contributions.views import (
    AmendmentView,
    describe_amendment,
    overlapping_groups,
    texts_written_on,
)
from consult.contributions.votes import Tally, tally_of, votes_of
from consult.contributions.writing import MAX_BODY
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.pages.articles import Votes
from consult.revisions.models import VersionChange
from consult.revisions.services import changes_by_contribution
from consult.synthesis.similar import (
    SimilarContribution,
    SimilarContributionFinder,
    find_similar_contributions,
    query_text,
)


@dataclass(frozen=True)
class PermalinkPage:
    """A contribution with its thread, its votes, its fate, and its amendment in full."""

    consultation: Consultation
    context: ArticleContext
    contribution: Contribution
    amendment: AmendmentView | None
    competing: list[AmendmentView]
    tally: Tally
    my_votes: Votes
    outcome: Answer | None
    changed_words: list[tuple[VersionChange, BillVersion]]


@dataclass(frozen=True)
class VoteWidget:
    """One contribution's vote widget, with fresh counts (in a list of similar contributions
    when `similar_form` names the form that list is shown beside)."""

    consultation: Consultation
    article_key: str
    target: Contribution
    tally: Tally
    current: VoteValue | None
    similar_form: str | None
    is_open: bool = True
    vote_only: bool = True


@dataclass(frozen=True)
class SimilarList:
    """Published contributions like the text being written, and the reader's votes on them."""

    consultation: Consultation
    similar_form: str
    similar: list[SimilarContribution] | None
    similar_votes: Votes
    similar_error: str | None = None


async def article_of_contribution(
    db: AsyncSession, consultation: Consultation, contribution: Contribution
) -> ArticleContext:
    """The article a contribution is on, in the latest version, or as it was written on when
    the article is gone from the latest one."""
    version = await get_version(db, consultation, None)
    try:
        return await load_article_context(db, consultation, version, contribution.article_key)
    except NotFound:
        written_on = await db.get(BillVersion, contribution.version_id)
        if written_on is None:
            raise
        return await load_article_context(db, consultation, written_on, contribution.article_key)


async def permalink_page(
    db: AsyncSession, consultation: Consultation, contribution_id: int, viewer: User | None
) -> PermalinkPage:
    """A contribution's own page (NotFound when it is not one of the consultation's)."""
    contribution = await get_contribution(db, consultation, contribution_id)
    context = await article_of_contribution(db, consultation, contribution)
    amendment = None
    competing: list[AmendmentView] = []
    if contribution.operation:
        language = i18n.get_language()
        footprints = await amendment_footprints(db, consultation, contribution.article_key)
        others = await contributions_by_id(
            db, overlapping_groups([contribution], footprints)[contribution.id]
        )
        texts = await texts_written_on(db, context, [contribution, *others])
        amendment = describe_amendment(contribution, *texts[contribution.version_id], language)
        competing = [describe_amendment(o, *texts[o.version_id], language) for o in others]
    changed = await changes_by_contribution(db, [contribution.id])
    return PermalinkPage(
        consultation=consultation,
        context=context,
        contribution=contribution,
        amendment=amendment,
        competing=competing,
        tally=tally_of(contribution),
        my_votes=await votes_of(db, viewer, consultation, [contribution.id]),
        outcome=await outcome_of(db, contribution.id),
        changed_words=changed.get(contribution.id, []),
    )


async def vote_widget(
    db: AsyncSession,
    consultation: Consultation,
    contribution: Contribution,
    current: VoteValue | None,
    similar_form: str | None,
) -> VoteWidget:
    """The vote widget of a contribution just voted on, its counts read again."""
    await db.refresh(contribution)
    return VoteWidget(
        consultation=consultation,
        article_key=contribution.article_key,
        target=contribution,
        tally=tally_of(contribution),
        current=current,
        similar_form=similar_form,
    )


async def similar_to_draft(
    db: AsyncSession,
    finder: SimilarContributionFinder,
    context: ArticleContext,
    draft: dict[str, str],
    *,
    viewer: User | None,
    now: datetime,
) -> tuple[list[SimilarContribution] | None, Votes]:
    """Published contributions like the annotation or amendment being written (`draft`: its
    `body` and `new_text`), and the reader's votes on them; FormError when the consultation is
    closed or the text is over the limit (None while the index is still loading)."""
    if not accepts_contributions(context.consultation, now):
        raise ClosedForContributions()
    for name in ("body", "new_text"):
        length = len(draft.get(name, ""))
        if length > MAX_BODY:
            message = _("This text has {length} characters; the limit is {limit}.")
            raise FormError({name: message.format(length=length, limit=MAX_BODY)})
    found = await find_similar_contributions(
        db,
        finder,
        context.consultation.id,
        context.article.key,
        query_text(draft.get("body", ""), draft.get("new_text", "")),
    )
    ids = [item.contribution.id for item in found or []]
    return found, await votes_of(db, viewer, context.consultation, ids)
