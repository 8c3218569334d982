"""Writing contributions: annotate, amend, argue, reply, cite a source."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.bills.footprints import Footprint, footprint
from consult.bills.operations import AmendmentError, Operation, OperationKind, find_span
from consult.contributions.anchors import locate
from consult.contributions.article_context import (
    ArticleContext,
    require_open,
)
from consult.contributions.models import (
    MAX_THREAD_DEPTH,
    Contribution,
    ContributionKind,
    Stance,
)
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.text import normalise_user_text

# Real proposals and their explanations run to about 20,000 characters (République numérique,
# 2015: up to 19,464); everything a citizen writes fits within the same bound.
MAX_BODY = 20_000
MAX_QUOTE = 1000
MAX_URL = 2000


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
    require_open(context.consultation, now, author)
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
    require_open(context.consultation, now, author)
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
    from consult.bills.operations import validate_operation

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
    require_open(context.consultation, now, author)
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
    require_open(context.consultation, now, author)
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
    require_open(context.consultation, now, author)
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
