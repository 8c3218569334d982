"""Contribution services: annotate, amend, argue, reply, cite a source, vote, list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.bills.amendments import (
    AmendmentError,
    Footprint,
    Operation,
    OperationKind,
    find_span,
    footprint,
)
from consult.bills.models import BillVersion, Provision, ProvisionKind
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.contributions.anchors import locate
from consult.contributions.models import (
    MAX_THREAD_DEPTH,
    Contribution,
    ContributionKind,
    Stance,
    Visibility,
    Vote,
    VoteValue,
)
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.text import normalise_user_text

MAX_BODY = 5000
MAX_QUOTE = 1000
MAX_URL = 2000
PER_PAGE = 20
SORTS = ("supported", "contested", "newest")


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


def _require_open(context_consultation: Consultation, now: datetime) -> None:
    if not accepts_contributions(context_consultation, now):
        raise ClosedForContributions()


def _clean_body(body: str, field_name: str = "body", required: bool = True) -> str:
    text = normalise_user_text(body)
    if required and not text:
        raise FormError({field_name: _("Write something before sending.")})
    if len(text) > MAX_BODY:
        raise FormError(
            {
                field_name: _("This text has {length} characters; the limit is {limit}.").format(
                    length=len(text), limit=MAX_BODY
                )
            }
        )
    return text


DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)


def _identity(contribution: Contribution) -> dict[str, object]:
    """The fields that make two contributions the same (defaults as the database stores them)."""
    return {
        "stance": contribution.stance,
        "url": contribution.url,
        "alinea": contribution.alinea,
        "quote_start": contribution.quote_start,
        "operation": contribution.operation,
        "old_text": contribution.old_text or "",
        "new_text": contribution.new_text or "",
    }


async def _save(session: AsyncSession, contribution: Contribution) -> Contribution:
    """Add a new contribution, unless it is the same one sent twice (a double click, a
    resubmitted form): then the one already saved is returned and nothing is added."""
    same_parent = (
        Contribution.parent_id.is_(None)
        if contribution.parent_id is None
        else Contribution.parent_id == contribution.parent_id
    )
    same = await session.scalar(
        select(Contribution)
        .where(
            Contribution.author_id == contribution.author_id,
            Contribution.consultation_id == contribution.consultation_id,
            Contribution.article_key == contribution.article_key,
            Contribution.kind == contribution.kind,
            Contribution.body == contribution.body,
            same_parent,
            *(
                getattr(Contribution, name).is_not_distinct_from(value)
                for name, value in _identity(contribution).items()
            ),
            Contribution.created_at >= contribution.created_at - DOUBLE_SUBMIT_WINDOW,
        )
        .limit(1)
    )
    if same is not None:
        return same
    session.add(contribution)
    await session.flush()
    return contribution


def _new(
    context: ArticleContext, author: User, kind: ContributionKind, now: datetime
) -> Contribution:
    return Contribution(
        consultation_id=context.consultation.id,
        version_id=context.version.id,
        article_key=context.article.key,
        kind=kind,
        author_id=author.id,
        author_pseudonym=author.display_name,
        created_at=now,
    )


def _alinea_number(raw: int | str | None, alineas: list[str]) -> int:
    try:
        number = int(raw) if raw is not None else 0
    except ValueError:
        number = 0
    if not 1 <= number <= len(alineas):
        raise FormError(
            {"alinea": _("Choose an alinéa between 1 and {count}.").format(count=len(alineas))}
        )
    return number


async def create_annotation(
    session: AsyncSession,
    context: ArticleContext,
    author: User,
    *,
    alinea: int | str | None,
    quote: str,
    comment: str,
    now: datetime,
    prefix: str = "",
    suffix: str = "",
    start: int | None = None,
) -> Contribution:
    """Comment a passage; the quote must be words of the chosen alinéa."""
    _require_open(context.consultation, now)
    errors: dict[str, str] = {}
    number = 0
    try:
        number = _alinea_number(alinea, context.alineas)
    except FormError as error:
        errors.update(error.fields)
    cleaned_quote = normalise_user_text(quote)
    anchor = None
    if not cleaned_quote:
        errors["quote"] = _("Copy the words you are commenting on.")
    elif len(cleaned_quote) > MAX_QUOTE:
        errors["quote"] = _("Quote at most {limit} characters.").format(limit=MAX_QUOTE)
    elif number:
        anchor = locate(
            context.alineas[number - 1], cleaned_quote, prefix=prefix, suffix=suffix, start=start
        )
        if anchor is None:
            errors["quote"] = _(
                "These words are not in alinéa {number}. Copy them exactly as they are written."
            ).format(number=number)
    try:
        body = _clean_body(comment)
    except FormError as error:
        errors.update(error.fields)
    if errors or anchor is None:
        raise FormError(errors)
    contribution = _new(context, author, ContributionKind.ANNOTATION, now)
    contribution.body = body
    contribution.alinea = number
    contribution.quote_exact = anchor.exact
    contribution.quote_prefix = anchor.prefix
    contribution.quote_suffix = anchor.suffix
    contribution.quote_start = anchor.start
    contribution.quote_end = anchor.end
    return await _save(session, contribution)


async def create_amendment(
    session: AsyncSession,
    context: ArticleContext,
    author: User,
    *,
    operation: Operation,
    rationale: str,
    now: datetime,
) -> Contribution:
    """Propose a typed change to the article, with its exposé."""
    _require_open(context.consultation, now)
    check_amendment(operation, context)
    contribution = _new(context, author, ContributionKind.AMENDMENT, now)
    contribution.body = _clean_body(rationale)
    contribution.operation = operation.kind.value
    contribution.alinea = operation.alinea
    contribution.old_text = operation.old_text
    contribution.occurrence = operation.occurrence
    contribution.new_text = operation.new_text
    store_footprint(contribution, operation, context.alineas)
    span = find_span(operation, context.alineas)
    if span is not None:
        number, start, end = span
        text = context.alineas[number - 1]
        anchor = locate(text, text[start:end], start=start)
        if anchor is not None and operation.kind.value.endswith("_words"):
            contribution.quote_exact = anchor.exact
            contribution.quote_prefix = anchor.prefix
            contribution.quote_suffix = anchor.suffix
            contribution.quote_start = anchor.start
            contribution.quote_end = anchor.end
    return await _save(session, contribution)


def store_footprint(contribution: Contribution, operation: Operation, alineas: list[str]) -> None:
    """Record where the amendment acts, for grouping competing amendments."""
    where = footprint(operation, alineas)
    contribution.span_scope = where.scope
    contribution.span_start = where.start
    contribution.span_end = where.end
    if where.number:
        contribution.alinea = where.number


def footprint_of(contribution: Contribution) -> Footprint:
    """The stored footprint of an amendment."""
    return Footprint(
        scope=contribution.span_scope or "article",  # type: ignore[arg-type]
        number=contribution.alinea or 0,
        start=contribution.span_start or 0,
        end=contribution.span_end or 0,
    )


def check_amendment(operation: Operation, context: ArticleContext) -> None:
    """Raise FormError when the operation cannot apply to the article as it reads."""
    from consult.bills.amendments import validate_operation

    try:
        validate_operation(operation, context.alineas)
    except AmendmentError as error:
        raise FormError({error.field: error.message}) from error


def operation_of(contribution: Contribution) -> Operation:
    """The typed operation an amendment proposes."""
    return Operation(
        kind=OperationKind(contribution.operation or ""),
        alinea=contribution.alinea,
        old_text=contribution.old_text,
        occurrence=contribution.occurrence,
        new_text=contribution.new_text,
    )


async def _parent(session: AsyncSession, context: ArticleContext, parent_id: int) -> Contribution:
    parent = await session.get(Contribution, parent_id)
    if (
        parent is None
        or parent.consultation_id != context.consultation.id
        or parent.article_key != context.article.key
    ):
        raise NotFound(str(parent_id))
    return parent


async def create_argument(
    session: AsyncSession,
    context: ArticleContext,
    author: User,
    *,
    stance: str,
    body: str,
    now: datetime,
    amendment_id: int | None = None,
) -> Contribution:
    """Argue for, against or neutrally, on the article or on one of its amendments."""
    _require_open(context.consultation, now)
    errors: dict[str, str] = {}
    if stance not in {s.value for s in Stance}:
        errors["stance"] = _("Choose for, against or neutral.")
    try:
        text = _clean_body(body)
    except FormError as error:
        errors.update(error.fields)
    parent = None
    if amendment_id is not None:
        parent = await _parent(session, context, amendment_id)
        if parent.kind is not ContributionKind.AMENDMENT:
            errors["form"] = _("Arguments are given on an article or on an amendment.")
    if errors:
        raise FormError(errors)
    contribution = _new(context, author, ContributionKind.ARGUMENT, now)
    contribution.stance = Stance(stance)
    contribution.body = text
    if parent is not None:
        contribution.parent_id = parent.id
        contribution.root_id = parent.root_id or parent.id
        contribution.depth = parent.depth + 1
    return await _save(session, contribution)


async def create_reply(
    session: AsyncSession,
    context: ArticleContext,
    author: User,
    *,
    parent_id: int,
    body: str,
    now: datetime,
) -> Contribution:
    """Answer a contribution; threads stop at three levels of replies."""
    _require_open(context.consultation, now)
    parent = await _parent(session, context, parent_id)
    if parent.depth >= MAX_THREAD_DEPTH:
        raise FormError({"body": _("This discussion is too deep: reply higher up the thread.")})
    contribution = _new(context, author, ContributionKind.REPLY, now)
    contribution.body = _clean_body(body)
    contribution.parent_id = parent.id
    contribution.root_id = parent.root_id or parent.id
    contribution.depth = parent.depth + 1
    return await _save(session, contribution)


def check_url(url: str) -> str:
    """An absolute http(s) address of reasonable length, or FormError."""
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL:
        raise FormError({"url": _("This address is too long.")})
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise FormError({"url": _("Enter a web address starting with https:// or http://.")})
    return url


async def create_source(
    session: AsyncSession,
    context: ArticleContext,
    author: User,
    *,
    url: str,
    note: str,
    now: datetime,
) -> Contribution:
    """Add a link that informs the debate, with a note saying why it matters."""
    _require_open(context.consultation, now)
    errors: dict[str, str] = {}
    checked = ""
    try:
        checked = check_url(url)
    except FormError as error:
        errors.update(error.fields)
    try:
        text = _clean_body(note)
    except FormError as error:
        errors.update(error.fields)
    if errors:
        raise FormError(errors)
    contribution = _new(context, author, ContributionKind.SOURCE, now)
    contribution.url = checked
    contribution.body = text
    return await _save(session, contribution)


# --- votes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Vote counts on one target."""

    votes_for: int = 0
    votes_mixed: int = 0
    votes_against: int = 0

    @property
    def total(self) -> int:
        """All votes."""
        return self.votes_for + self.votes_mixed + self.votes_against

    def share(self, value: str) -> int:
        """Percentage (0–100) of votes with `value`, for the bar."""
        if not self.total:
            return 0
        count = {"pour": self.votes_for, "mitige": self.votes_mixed, "contre": self.votes_against}
        return round(100 * count[value] / self.total)


_COUNTER = {
    VoteValue.FOR: "votes_for",
    VoteValue.MIXED: "votes_mixed",
    VoteValue.AGAINST: "votes_against",
}


async def _shift_counter(
    session: AsyncSession, contribution_id: int, old: VoteValue | None, new: VoteValue | None
) -> None:
    """Move one vote between counters atomically in the database (no read-modify-write)."""
    changes = {}
    if old is not None:
        column = getattr(Contribution, _COUNTER[old])
        changes[_COUNTER[old]] = column - 1
    if new is not None:
        column = getattr(Contribution, _COUNTER[new])
        changes[_COUNTER[new]] = changes.get(_COUNTER[new], column) + 1
    if changes:
        await session.execute(
            update(Contribution).where(Contribution.id == contribution_id).values(**changes)
        )


async def cast_vote(
    session: AsyncSession,
    voter: User,
    consultation: Consultation,
    *,
    now: datetime,
    value: str | None,
    article_key: str | None = None,
    contribution: Contribution | None = None,
) -> VoteValue | None:
    """Vote on an article or a contribution, change the vote, or withdraw it (None).

    Safe under concurrent double submissions: the unique constraint decides, and
    the losing insert becomes an update of the winner's row.
    """
    _require_open(consultation, now)
    if value and value not in {v.value for v in VoteValue}:
        raise FormError({"value": _("Choose for, mixed or against.")})
    new = VoteValue(value) if value else None
    target = (
        Vote.contribution_id == contribution.id
        if contribution is not None
        else (Vote.consultation_id == consultation.id) & (Vote.article_key == article_key)
    )
    existing = await session.scalar(select(Vote).where(Vote.voter_id == voter.id, target))
    if existing is None and new is not None:
        try:
            async with session.begin_nested():
                session.add(
                    Vote(
                        voter_id=voter.id,
                        consultation_id=consultation.id,
                        article_key=None if contribution is not None else article_key,
                        contribution_id=contribution.id if contribution is not None else None,
                        value=new,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            existing = await session.scalar(select(Vote).where(Vote.voter_id == voter.id, target))
        else:
            if contribution is not None:
                await _shift_counter(session, contribution.id, None, new)
            return new
    if existing is None:
        return None
    old = existing.value
    if old == new:
        return new
    if new is None:
        await session.delete(existing)
    else:
        existing.value = new
        existing.updated_at = now
    await session.flush()
    if contribution is not None:
        await _shift_counter(session, contribution.id, old, new)
    return new


async def article_tally(
    session: AsyncSession, consultation: Consultation, article_key: str
) -> Tally:
    """Vote counts on an article."""
    rows = (
        await session.execute(
            select(Vote.value, func.count())
            .where(Vote.consultation_id == consultation.id, Vote.article_key == article_key)
            .group_by(Vote.value)
        )
    ).all()
    counts = {value: count for value, count in rows}
    return Tally(
        counts.get(VoteValue.FOR, 0),
        counts.get(VoteValue.MIXED, 0),
        counts.get(VoteValue.AGAINST, 0),
    )


def tally_of(contribution: Contribution) -> Tally:
    """Vote counts on a contribution (kept in its row)."""
    return Tally(contribution.votes_for, contribution.votes_mixed, contribution.votes_against)


async def votes_of(
    session: AsyncSession,
    voter: User | None,
    consultation: Consultation,
    contribution_ids: list[int],
    article_key: str | None = None,
) -> dict[int | str, VoteValue]:
    """The viewer's current votes on these contributions (and on the article), in one query."""
    if voter is None or not (contribution_ids or article_key):
        return {}
    targets: list[ColumnElement[bool]] = []
    if contribution_ids:
        targets.append(Vote.contribution_id.in_(contribution_ids))
    if article_key is not None:
        targets.append(
            (Vote.consultation_id == consultation.id) & (Vote.article_key == article_key)
        )
    rows = await session.execute(
        select(Vote.contribution_id, Vote.article_key, Vote.value).where(
            Vote.voter_id == voter.id, or_(*targets)
        )
    )
    found: dict[int | str, VoteValue] = {}
    for contribution_id, key, value in rows:
        target = contribution_id if contribution_id is not None else key
        if target is not None:
            found[target] = value
    return found


# --- listing ---------------------------------------------------------------------------------


def controversy_score() -> ColumnElement[int]:
    """Many votes on both sides: twice the smaller side, plus the mixed votes."""
    smaller = case(
        (Contribution.votes_for < Contribution.votes_against, Contribution.votes_for),
        else_=Contribution.votes_against,
    )
    return smaller * 2 + Contribution.votes_mixed


@dataclass
class ContributionPage:
    """One page of an article's top-level contributions, with their threads."""

    items: list[Contribution]
    children: dict[int, list[Contribution]] = field(default_factory=dict)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        """How many pages there are."""
        return max(1, -(-self.total // self.per_page))


async def list_contributions(
    session: AsyncSession,
    consultation: Consultation,
    article_key: str,
    *,
    sort: str = "supported",
    kind: str | None = None,
    alinea: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ContributionPage:
    """Top-level contributions on an article, sorted, filtered and paginated.

    Three queries whatever the page size: the count, the page, and every
    reply or argument in the page's threads (through `root_id`).
    """
    query = select(Contribution).where(
        Contribution.consultation_id == consultation.id,
        Contribution.article_key == article_key,
        Contribution.parent_id.is_(None),
    )
    if kind in {k.value for k in ContributionKind}:
        query = query.where(Contribution.kind == ContributionKind(kind))
    if alinea is not None:
        query = query.where(Contribution.alinea == alinea)
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    order: list[ColumnElement[Any]]
    if sort == "newest":
        order = [Contribution.created_at.desc(), Contribution.id.desc()]
    elif sort == "contested":
        order = [controversy_score().desc(), Contribution.id.desc()]
    else:
        order = [
            (Contribution.votes_for - Contribution.votes_against).desc(),
            Contribution.votes_for.desc(),
            Contribution.id.desc(),
        ]
    page = max(1, page)
    items = list(
        (
            await session.scalars(
                query.order_by(*order).limit(per_page).offset((page - 1) * per_page)
            )
        ).all()
    )
    children: dict[int, list[Contribution]] = {}
    if items:
        descendants = (
            await session.scalars(
                select(Contribution)
                .where(Contribution.root_id.in_([item.id for item in items]))
                .order_by(Contribution.created_at, Contribution.id)
            )
        ).all()
        for child in descendants:
            children.setdefault(child.parent_id or 0, []).append(child)
    return ContributionPage(items, children, total, page, per_page)


async def get_contribution(
    session: AsyncSession, consultation: Consultation, contribution_id: int
) -> Contribution:
    """A contribution of this consultation, or NotFound."""
    contribution = await session.get(Contribution, contribution_id)
    if contribution is None or contribution.consultation_id != consultation.id:
        raise NotFound(str(contribution_id))
    return contribution


async def anchored_on_version(
    session: AsyncSession, version: BillVersion, article_key: str
) -> list[Contribution]:
    """Visible contributions anchored to a passage of this article version (for highlights)."""
    return list(
        (
            await session.scalars(
                select(Contribution).where(
                    Contribution.version_id == version.id,
                    Contribution.article_key == article_key,
                    Contribution.quote_start.is_not(None),
                    Contribution.visibility == Visibility.VISIBLE,
                )
            )
        ).all()
    )


async def amendment_footprints(
    session: AsyncSession, consultation: Consultation, article_key: str
) -> list[tuple[int, Footprint]]:
    """Where each visible amendment on the article acts, oldest first (a light query)."""
    rows = await session.execute(
        select(
            Contribution.id,
            Contribution.span_scope,
            Contribution.alinea,
            Contribution.span_start,
            Contribution.span_end,
        )
        .where(
            Contribution.consultation_id == consultation.id,
            Contribution.article_key == article_key,
            Contribution.kind == ContributionKind.AMENDMENT,
            Contribution.visibility == Visibility.VISIBLE,
        )
        .order_by(Contribution.created_at, Contribution.id)
    )
    return [
        (row_id, Footprint(scope or "article", number or 0, start or 0, end or 0))  # type: ignore[arg-type]
        for row_id, scope, number, start, end in rows
    ]


async def contributions_by_id(session: AsyncSession, ids: list[int]) -> list[Contribution]:
    """These contributions, oldest first."""
    if not ids:
        return []
    return list(
        (
            await session.scalars(
                select(Contribution)
                .where(Contribution.id.in_(ids))
                .order_by(Contribution.created_at, Contribution.id)
            )
        ).all()
    )
