"""Participation on an article: annotate, amend, argue, reply, cite, vote."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from starlette.responses import Response

from consult.bills.operations import Operation, OperationKind
from consult.bills.services import get_version
from consult.consultations.models import Consultation
from consult.contributions.article_context import (
    ArticleContext,
    load_article_context,
    require_article,
)
from consult.contributions.listing import contribution_on_article
from consult.contributions.models import Contribution, VoteValue
from consult.contributions.votes import cast_vote
from consult.contributions.writing import (
    check_amendment,
    create_amendment,
    create_annotation,
    create_argument,
    create_reply,
    create_source,
)
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.jobs import embed_contribution
from consult.pages.articles import ArticleForm, SimilarPreview, article_votes
from consult.pages.contributions import (
    SimilarList,
    permalink_page,
    similar_to_draft,
    vote_widget,
)
from consult.web.antispam import sent_by_a_person
from consult.web.article_page import render_article_page
from consult.web.context import RequestContext
from consult.web.forms import FormData, read_form
from consult.web.permissions import AUTHENTICATED, PARTICIPANT, PUBLIC
from consult.web.routing import route

# The forms beside which similar contributions are shown while their author writes.
SIMILAR_FORMS = ("annotate", "amend")

Write = Callable[[ArticleContext, FormData], Awaitable[Contribution]]
Preview = Callable[[ArticleContext, FormData], Awaitable[ArticleForm]]


async def _article(ctx: RequestContext) -> ArticleContext:
    """The article of the path, in the latest version: contributions are made on it (a
    questionnaire's questions are answered on the questionnaire's own page)."""
    consultation = await ctx.consultation()
    if consultation.is_questionnaire:
        raise NotFound(ctx.path("key"))
    version = await get_version(ctx.db, consultation, None)
    return await load_article_context(ctx.db, consultation, version, ctx.path("key"))


async def _check_person(ctx: RequestContext, form: FormData) -> None:
    """Refuse a form that looks automated or was sent before (its text still comes back to
    whoever typed it)."""
    if not await sent_by_a_person(ctx.db, ctx.settings, form, ctx.now):
        message = _("Your contribution could not be accepted. Reload the page, then send it again.")
        raise FormError({"form": message})


def _published(ctx: RequestContext, context: ArticleContext, contribution_id: int) -> Response:
    """Queue the new contribution's embedding, then go back to the article, newest first, so
    the new contribution is at the top of the list."""
    ctx.enqueue(embed_contribution, contribution_id, job_id=f"embed:{contribution_id}")
    url = ctx.url_for("article", slug=context.consultation.slug, key=context.article.key)
    # `posted` makes every such address new, so the browser loads it even when only the
    # fragment would otherwise differ from the current address.
    target = f"{url}?sort=newest&posted={contribution_id}#c{contribution_id}"
    if ctx.is_partial:
        return Response(status_code=200, headers={"HX-Redirect": target})
    return ctx.redirect(target)


async def _take_part(
    ctx: RequestContext, form_name: str, write: Write, preview: Preview | None = None
) -> Response:
    """Read the form, write the contribution and go to it; or, with `action=preview`, show
    it as it would be published; or show the page again with the errors (422)."""
    context = await _article(ctx)
    values: dict[str, str] = {}
    try:
        form = await read_form(ctx.request)
        values = dict(form)
        await _check_person(ctx, form)
        if preview is not None and form.text("action") == "preview":
            return await render_article_page(ctx, context, form=await preview(context, form))
        contribution = await write(context, form)
    except FormError as error:
        shown = ArticleForm(form_name, values, error.fields)
        return await render_article_page(ctx, context, form=shown, status_code=422)
    return _published(ctx, context, contribution.id)


async def _with_similar(
    ctx: RequestContext, context: ArticleContext, form_name: str, form: FormData
) -> ArticleForm:
    """The form shown again with the published contributions it resembles (the preview
    step shows them to people without JavaScript)."""
    finder = ctx.services.started.similar
    found, votes = await similar_to_draft(
        ctx.db, finder, context, dict(form), viewer=ctx.user, now=ctx.now
    )
    return ArticleForm(form_name, dict(form), similar=SimilarPreview(form_name, found, votes))


async def annotate(ctx: RequestContext) -> Response:
    """Comment on a passage of the article; `action=preview` checks the annotation and shows
    similar contributions without saving it."""

    async def write(context: ArticleContext, form: FormData) -> Contribution:
        return await create_annotation(
            ctx.db,
            context,
            ctx.member,
            alinea=form.text("alinea"),
            quote=form.text("quote"),
            comment=form.text("body"),
            now=ctx.now,
            prefix=form.text("prefix"),
            suffix=form.text("suffix"),
            start=form.number("start"),
        )

    async def preview(context: ArticleContext, form: FormData) -> ArticleForm:
        # Checked exactly as publishing would, then undone.
        savepoint = await ctx.db.begin_nested()
        try:
            await write(context, form)
        finally:
            await savepoint.rollback()
        return await _with_similar(ctx, context, "annotate", form)

    return await _take_part(ctx, "annotate", write, preview)


def operation_from(form: FormData) -> Operation:
    """The typed operation described by the amendment form."""
    try:
        kind = OperationKind(form.text("operation"))
    except ValueError as error:
        raise FormError({"operation": _("Choose what the amendment does.")}) from error
    # The first occurrence unless another is named; a number that is none is refused (0).
    occurrence = form.number("occurrence") or 0 if form.text("occurrence").strip() else 1
    return Operation(
        kind=kind,
        alinea=form.number("alinea"),
        old_text=form.text("old_text").strip(),
        occurrence=occurrence,
        new_text=form.text("new_text").strip(),
    )


async def amend(ctx: RequestContext) -> Response:
    """Propose an amendment; `action=preview` shows it without saving."""

    async def write(context: ArticleContext, form: FormData) -> Contribution:
        return await create_amendment(
            ctx.db,
            context,
            ctx.member,
            operation=operation_from(form),
            rationale=form.text("body"),
            now=ctx.now,
        )

    async def preview(context: ArticleContext, form: FormData) -> ArticleForm:
        operation = operation_from(form)
        check_amendment(operation, context)
        return replace(await _with_similar(ctx, context, "amend", form), amendment=operation)

    return await _take_part(ctx, "amend", write, preview)


async def argue(ctx: RequestContext) -> Response:
    """Argue for, against or neutrally on the article or one of its amendments."""

    async def write(context: ArticleContext, form: FormData) -> Contribution:
        return await create_argument(
            ctx.db,
            context,
            ctx.member,
            stance=form.text("stance"),
            body=form.text("body"),
            now=ctx.now,
            amendment_id=form.number("amendment"),
        )

    return await _take_part(ctx, "argue", write)


async def cite(ctx: RequestContext) -> Response:
    """Add a source: a link and a note."""

    async def write(context: ArticleContext, form: FormData) -> Contribution:
        return await create_source(
            ctx.db, context, ctx.member, url=form.text("url"), note=form.text("body"), now=ctx.now
        )

    return await _take_part(ctx, "cite", write)


async def reply(ctx: RequestContext) -> Response:
    """Answer a contribution in its thread."""
    parent_id = ctx.path_id("contribution_id")

    async def write(context: ArticleContext, form: FormData) -> Contribution:
        return await create_reply(
            ctx.db, context, ctx.member, parent_id=parent_id, body=form.text("body"), now=ctx.now
        )

    return await _take_part(ctx, f"reply-{parent_id}", write)


async def similar(ctx: RequestContext) -> Response:
    """Published contributions like the annotation or amendment being written, so that its
    author can support one instead of writing it again (asked by htmx while they type)."""
    context = await _article(ctx)
    form = await read_form(ctx.request)
    form_name = form.text("form") if form.text("form") in SIMILAR_FORMS else SIMILAR_FORMS[0]
    finder = ctx.services.started.similar
    try:
        found, votes = await similar_to_draft(
            ctx.db, finder, context, dict(form), viewer=ctx.user, now=ctx.now
        )
    except FormError as error:
        refused = SimilarList(context.consultation, form_name, [], {}, error.first_message)
        return ctx.render("contributions/_similar.html", refused, status_code=422)
    shown = SimilarList(context.consultation, form_name, found, votes)
    return ctx.render("contributions/_similar.html", shown)


async def _vote_from_form(
    ctx: RequestContext,
    consultation: Consultation,
    *,
    article_key: str | None = None,
    contribution: Contribution | None = None,
) -> VoteValue | Response | None:
    """Cast the vote the form asks for on the article or the contribution; a refused vote (the
    consultation closed, the account not verified enough, an unknown value) answers with the
    article page again, saying why (422)."""
    form = await read_form(ctx.request)
    try:
        return await cast_vote(
            ctx.db,
            ctx.member,
            consultation,
            now=ctx.now,
            value=form.text("value") or None,
            article_key=article_key,
            contribution=contribution,
        )
    except FormError as error:
        shown = ArticleForm(errors=error.fields)
        return await render_article_page(ctx, await _article(ctx), form=shown, status_code=422)


async def vote_article(ctx: RequestContext) -> Response:
    """Vote pour, mitigé or contre on the article, change the vote or withdraw it; htmx gets
    back just its vote widget with fresh counts, a plain form a redirect to the article."""
    consultation = await ctx.consultation()
    if consultation.is_questionnaire:  # a questionnaire's questions are not voted on
        raise NotFound(ctx.path("key"))
    key = ctx.path("key")
    await require_article(ctx.db, consultation, key)
    value = await _vote_from_form(ctx, consultation, article_key=key)
    if isinstance(value, Response):
        return value
    if ctx.is_partial:
        votes = await article_votes(ctx.db, consultation, key, value)
        return ctx.render("articles/show.html", votes, block="article_votes")
    return ctx.redirect(ctx.url_for("article", slug=consultation.slug, key=key))


async def _contribution_on_article(ctx: RequestContext) -> tuple[Consultation, Contribution]:
    """The contribution of the path, which must be on the article of the path, an article of
    the latest version: one query, as a vote needs no more of the article than that."""
    consultation = await ctx.consultation()
    if consultation.is_questionnaire:  # open answers are not voted on
        raise NotFound(ctx.path("key"))
    contribution = await contribution_on_article(
        ctx.db, consultation, ctx.path_id("contribution_id"), ctx.path("key")
    )
    return consultation, contribution


async def vote_contribution(ctx: RequestContext) -> Response:
    """Vote on a contribution in one transaction; htmx gets back just its vote widget with
    fresh counts, a plain form a redirect to it (no page is built unless the vote is refused)."""
    consultation, contribution = await _contribution_on_article(ctx)
    value = await _vote_from_form(ctx, consultation, contribution=contribution)
    if isinstance(value, Response):
        return value
    if ctx.is_partial:
        # A vote cast from the similar contributions shown beside a form answers with the
        # widget under that list's own element id (the same contribution may be listed twice).
        similar_form = ctx.query.get("similar")
        in_similar = similar_form in SIMILAR_FORMS
        widget = await vote_widget(ctx.db, consultation, contribution, value, similar_form)
        template = "contributions/_similar.html" if in_similar else "contributions/vote.html"
        return ctx.render(template, widget)
    url = ctx.url_for("article", slug=consultation.slug, key=contribution.article_key)
    return ctx.redirect(f"{url}#c{contribution.id}")


async def permalink(ctx: RequestContext) -> Response:
    """A contribution's own page, with its thread, and its amendment in full."""
    consultation = await ctx.consultation()
    page = await permalink_page(ctx.db, consultation, ctx.path_id("contribution_id"), ctx.user)
    return ctx.render("contributions/show.html", page)


ARTICLE = "/consultations/{slug}/articles/{key}"
CONTRIBUTION = "/consultations/{slug}/contributions/{contribution_id:id}"

routes = [
    route(f"{ARTICLE}/annotations", annotate, PARTICIPANT, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/amendments", amend, PARTICIPANT, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/arguments", argue, PARTICIPANT, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/sources", cite, PARTICIPANT, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/votes", vote_article, PARTICIPANT, ["POST"], rate_limit="vote"),
    # Asked while typing: a POST keeps drafts out of addresses and logs, and the budget of
    # unsafe requests (not the much smaller one for publishing) bounds the embedding work.
    route(f"{ARTICLE}/similar-contributions", similar, AUTHENTICATED, ["POST"], rate_limit="post"),
    route(
        f"{ARTICLE}/contributions/{{contribution_id:id}}/replies",
        reply,
        PARTICIPANT,
        ["POST"],
        rate_limit="contribute",
    ),
    route(
        f"{ARTICLE}/contributions/{{contribution_id:id}}/votes",
        vote_contribution,
        PARTICIPANT,
        ["POST"],
        rate_limit="vote",
    ),
    route(CONTRIBUTION, permalink, PUBLIC, name="contribution"),
]
