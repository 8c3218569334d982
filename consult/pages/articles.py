"""The article page: numbered alinéas with highlighted passages, and the participation beside
them (contributions listed, the viewer's votes, and a form shown again with its errors or its
preview)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from consult import i18n
from consult.accounts.models import User
from consult.bills.diff import AlineaDiff, article_diff
from consult.bills.models import BillVersion
from consult.bills.operations import Operation, OperationKind, apply_operation
from consult.bills.services import ArticleInBill, get_article_in_bill, get_version
from consult.bills.wording import formal_wording
from consult.consultations.models import Consultation, Phase
from consult.consultations.services import accepts_contributions
from consult.contributions.anchors import Segment, highlight
from consult.contributions.article_context import ArticleContext
from consult.contributions.listing import (
    SORTS,
    ContributionPage,
    amendment_footprints,
    list_contributions,
)
from consult.contributions.models import (
    Contribution,
    ContributionKind,
    Visibility,
    VoteValue,
)
from consult.contributions.views import (
    AmendmentView,
    describe_amendment,
    overlapping_groups,
    texts_written_on,
)
from consult.contributions.votes import Tally, article_tally, votes_of
from consult.input import whole_number
from consult.revisions.models import AnchorStatus, ContributionAnchor
from consult.revisions.services import PassageFate, passage_fates
from consult.stamps import WHOLE_CONSULTATION, page_stamp
from consult.synthesis.models import CopyKind, SynthesisCampaign, SynthesisCampaignMember
from consult.synthesis.runs import latest_report_run
from consult.synthesis.similar import SimilarContribution

KIND_FILTERS = tuple(kind.value for kind in ContributionKind if kind is not ContributionKind.REPLY)
Votes = Mapping[int | str, VoteValue]


@dataclass(frozen=True)
class ListingOptions:
    """How the reader sorts, filters and pages the article's contributions."""

    sort: str = "supported"
    kind: str | None = None
    alinea: int | None = None
    page: int = 1
    campaign: int | None = None
    """Every copy of this letter rather than the discussion (where the letter shows once)."""
    thread: int | None = None
    """This contribution alone, with its whole thread (a page lists the start of each)."""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ListingOptions:
        """Options from a query string; anything unknown falls back on the default."""
        sort = params.get("sort", "supported")
        kind = params.get("kind") or None
        return cls(
            sort=sort if sort in SORTS else "supported",
            kind=kind if kind in KIND_FILTERS else None,
            alinea=whole_number(params.get("alinea")),
            page=whole_number(params.get("page")) or 1,
            campaign=whole_number(params.get("campaign")),
            thread=whole_number(params.get("thread")),
        )


@dataclass(frozen=True)
class SimilarPreview:
    """Published contributions like the one previewed, for readers without JavaScript."""

    form: str
    similar: list[SimilarContribution] | None
    votes: Votes


@dataclass(frozen=True)
class AmendmentPreview:
    """An amendment being written, shown as it would be published."""

    wording: str
    diff: list[AlineaDiff]
    after: list[str]


@dataclass(frozen=True)
class ArticleForm:
    """A participation form shown again: what was typed, what is wrong, what it would give."""

    name: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    amendment: Operation | None = None
    similar: SimilarPreview | None = None


@dataclass(frozen=True)
class ArticlePage:
    """Everything the article page shows."""

    consultation: Consultation
    article_in_bill: ArticleInBill
    context: ArticleContext
    article_key: str
    is_open: bool
    phase: Phase
    segments: dict[int, list[Segment]]
    listing: ContributionPage
    options: ListingOptions
    kind_filters: tuple[str, ...]
    amendment_views: dict[int, AmendmentView]
    overlaps: dict[int, list[int]]
    amendment_ids: list[int]
    article_tally: Tally
    my_votes: Votes
    placements: dict[int, PassageFate]
    form_name: str | None
    values: Mapping[str, str]
    errors: Mapping[str, str]
    preview: AmendmentPreview | None
    similar_preview: SimilarPreview | None
    form_token: str
    posted: int | None
    copies: dict[int, Copies] = field(default_factory=dict)
    """Shown contribution id -> the letter it stands for, when it is posted many times."""
    letter: Copies | None = None
    """The letter whose copies are listed (``?campaign=``), instead of the discussion."""
    public: bool = False
    """Rendered for every reader: the viewer's own parts (their votes, forms, token) are left
    as slots, filled for each reader (consult.web.fragments)."""


@dataclass(frozen=True)
class Copies:
    """A text posted many times on the article, a campaign's letter or a text its author
    posted again: shown once, with how often and by whom."""

    campaign_id: int
    shown: int
    """The copy the discussion shows (the letter's representative when it is on the article)."""
    members: tuple[int, ...]
    """Every copy on the article."""
    authors: int
    """Distinct authors of the letter, over the consultation."""
    repost: bool = False
    """Posted again by its author (a repost group) rather than by many (a campaign)."""


@dataclass(frozen=True)
class ArticleVotes:
    """The article's vote widget alone, after a vote."""

    consultation: Consultation
    article_key: str
    article_tally: Tally
    my_votes: Votes
    is_open: bool
    public: bool = False


async def find_article(
    db: AsyncSession, consultation: Consultation, key: str, version_number: int | None = None
) -> tuple[ArticleInBill, ArticleContext]:
    """An article of the latest version (or of `version_number`), as the page and the
    participation services read it; NotFound when there is none."""
    version = await get_version(db, consultation, version_number)
    in_bill = await get_article_in_bill(db, version, key)
    context = ArticleContext(
        consultation, version, in_bill.article, [a.text for a in in_bill.alineas]
    )
    return in_bill, context


def preview_of(operation: Operation, context: ArticleContext, language: str) -> AmendmentPreview:
    """An amendment as it would read once published (checked before: it applies)."""
    after = apply_operation(operation, context.alineas)
    before = [] if operation.kind == OperationKind.NEW_ARTICLE else context.alineas
    return AmendmentPreview(
        wording=formal_wording(operation, context.article.number, context.alineas, language),
        diff=article_diff(before, after),
        after=after,
    )


async def _highlights(
    db: AsyncSession, version: BillVersion, context: ArticleContext
) -> dict[int, list[Segment]]:
    """Each alinéa cut into segments, the passages that contributions quote marked."""
    # Both kinds of passages in one query: quoted on this version by visible contributions,
    # and quoted on an earlier version and found again in this one.
    quoted = select(
        Contribution.alinea, Contribution.quote_start, Contribution.quote_end, Contribution.id
    ).where(
        Contribution.version_id == version.id,
        Contribution.article_key == context.article.key,
        Contribution.quote_start.is_not(None),
        Contribution.visibility == Visibility.VISIBLE,
    )
    found_again = select(
        ContributionAnchor.alinea,
        ContributionAnchor.start,
        ContributionAnchor.end,
        ContributionAnchor.contribution_id,
    ).where(
        ContributionAnchor.version_id == version.id,
        ContributionAnchor.article_key == context.article.key,
        ContributionAnchor.status.in_((AnchorStatus.EXACT, AnchorStatus.FUZZY)),
    )
    spans: dict[int, list[tuple[int, int, int]]] = {}
    for alinea, start, end, contribution_id in await db.execute(union_all(quoted, found_again)):
        if alinea and start is not None:
            spans.setdefault(alinea, []).append((start, end or 0, contribution_id))
    return {
        number: highlight(text, spans.get(number, []))
        for number, text in enumerate(context.alineas, start=1)
    }


async def _amendment_views(
    db: AsyncSession, context: ArticleContext, shown: list[Contribution], language: str
) -> dict[int, AmendmentView]:
    amendments = [c for c in shown if c.kind is ContributionKind.AMENDMENT]
    texts = await texts_written_on(db, context, amendments)
    return {a.id: describe_amendment(a, *texts[a.version_id], language) for a in amendments}


async def letters_on(
    db: AsyncSession, consultation: Consultation, article_key: str
) -> dict[int, Copies]:
    """The texts posted many times on the article, campaigns and reposts alike, by group of
    copies, as the latest published synthesis found them (copies posted since are listed as
    they come)."""
    run = await latest_report_run(db, consultation.id)
    if run is None:
        return {}
    rows = await db.execute(
        select(
            SynthesisCampaign.id,
            SynthesisCampaign.representative_id,
            SynthesisCampaign.distinct_authors,
            SynthesisCampaign.kind,
            SynthesisCampaignMember.contribution_id,
        )
        .join(SynthesisCampaignMember, SynthesisCampaignMember.campaign_id == SynthesisCampaign.id)
        .join(Contribution, Contribution.id == SynthesisCampaignMember.contribution_id)
        .where(
            SynthesisCampaign.run_id == run.id,
            Contribution.article_key == article_key,
            Contribution.parent_id.is_(None),
        )
    )
    members: dict[int, list[int]] = defaultdict(list)
    facts: dict[int, tuple[int, int, CopyKind]] = {}
    for campaign_id, representative, authors, kind, member in rows:
        members[campaign_id].append(member)
        facts[campaign_id] = (representative, authors, kind)
    letters = {}
    for campaign_id, copies in members.items():
        representative, authors, kind = facts[campaign_id]
        if len(copies) < 2:
            continue
        shown = representative if representative in copies else min(copies)
        letters[campaign_id] = Copies(
            campaign_id, shown, tuple(sorted(copies)), authors, kind is CopyKind.REPOST
        )
    return letters


def _discussion_filter(
    letters: Mapping[int, Copies], options: ListingOptions
) -> tuple[ColumnElement[bool] | None, Copies | None]:
    """Which contributions the listing shows: every copy of the letter asked for, or the
    discussion with each letter once."""
    if options.campaign is not None and options.campaign in letters:
        letter = letters[options.campaign]
        return Contribution.id.in_(letter.members), letter
    hidden = [m for letter in letters.values() for m in letter.members if m != letter.shown]
    return (Contribution.id.not_in(hidden) if hidden else None), None


async def article_page(
    db: AsyncSession,
    context: ArticleContext,
    *,
    in_bill: ArticleInBill | None = None,
    viewer: User | None,
    now: datetime,
    options: ListingOptions,
    form_token: str,
    form: ArticleForm | None = None,
    posted: int | None = None,
    public: bool = False,
) -> ArticlePage:
    """The article page, with `form` shown again when one was sent (`in_bill`: the article as
    `find_article` found it, read here when not given)."""
    form = form or ArticleForm()
    consultation, version = context.consultation, context.version
    in_bill = in_bill or await get_article_in_bill(db, version, context.article.key)
    language = i18n.get_language()
    letters = await letters_on(db, consultation, context.article.key)
    where, letter = _discussion_filter(letters, options)
    if options.thread is not None:
        where, letter = Contribution.id == options.thread, None
    listing = await list_contributions(
        db,
        consultation,
        context.article.key,
        sort=options.sort,
        kind=options.kind,
        alinea=options.alinea,
        page=options.page,
        where=where,
        whole_threads=options.thread is not None,
    )
    shown = listing.items + [c for thread in listing.children.values() for c in thread]
    footprints = await amendment_footprints(db, consultation, context.article.key)
    amendments = [c for c in shown if c.kind is ContributionKind.AMENDMENT]
    return ArticlePage(
        consultation=consultation,
        article_in_bill=in_bill,
        context=context,
        article_key=context.article.key,
        is_open=accepts_contributions(consultation, now),
        phase=consultation.phase_at(now),
        segments=await _highlights(db, version, context),
        listing=listing,
        options=options,
        kind_filters=KIND_FILTERS,
        amendment_views=await _amendment_views(db, context, shown, language),
        overlaps=overlapping_groups(amendments, footprints),
        amendment_ids=[amendment_id for amendment_id, _ in footprints],
        article_tally=await article_tally(db, consultation, context.article.key),
        my_votes=await votes_of(
            db, viewer, consultation, [c.id for c in shown], context.article.key
        ),
        placements=await passage_fates(db, consultation, version, shown),
        form_name=form.name,
        values=form.values,
        errors=form.errors,
        preview=preview_of(form.amendment, context, language) if form.amendment else None,
        similar_preview=form.similar,
        form_token=form_token,
        posted=posted,
        copies={copies.shown: copies for copies in letters.values()},
        letter=letter,
        public=public,
    )


# Written out once: this runs on every article page, and building it with the expression
# language cost as much as asking the database.
_STAMP_AND_VOTES = text(
    "SELECT NULL AS contribution_id, NULL AS article_key, NULL AS value,"
    " coalesce(sum(changes), 0) AS changes FROM page_stamps"
    " WHERE consultation_id = :consultation AND article_key IN (:key, :whole)"
    " UNION ALL"
    " SELECT v.contribution_id, v.article_key, CAST(v.value AS VARCHAR(16)), NULL FROM votes v"
    " WHERE v.voter_id = :voter AND (v.contribution_id IN (SELECT c.id FROM contributions c"
    " WHERE c.consultation_id = :consultation AND c.article_key = :key)"
    " OR (v.consultation_id = :consultation AND v.article_key = :key))"
)


async def stamp_and_votes(
    db: AsyncSession, consultation: Consultation, article_key: str, viewer: User | None
) -> tuple[int, Votes]:
    """The article's page stamp (consult.stamps) and the viewer's votes on the article and its
    contributions, in one query: all a page kept for every reader needs to be this reader's."""
    if viewer is None:
        return await page_stamp(db, consultation.id, article_key), {}
    parameters = {
        "consultation": consultation.id,
        "key": article_key,
        "whole": WHOLE_CONSULTATION,
        "voter": viewer.id,
    }
    changes, found = 0, dict[int | str, VoteValue]()
    rows: Sequence[Any] = (await db.execute(_STAMP_AND_VOTES, parameters)).all()
    for contribution_id, key, value, counted in rows:
        if counted is not None:
            changes = int(counted)
        elif value is not None:
            found[contribution_id if contribution_id is not None else key] = VoteValue(value)
    return changes, found


async def article_votes(
    db: AsyncSession, consultation: Consultation, article_key: str, current: VoteValue | None
) -> ArticleVotes:
    """The article's vote widget just after the viewer voted `current`, with fresh counts."""
    return ArticleVotes(
        consultation=consultation,
        article_key=article_key,
        article_tally=await article_tally(db, consultation, article_key),
        my_votes={article_key: current} if current is not None else {},
        is_open=True,
    )
