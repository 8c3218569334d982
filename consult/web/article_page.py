"""The article page as a response: shown on its own, or again around a participation form.

Read on its own, the page is kept for every reader under the article's stamp
(consult.stamps): the database counts every write to what the page shows, so one query tells
whether a kept page is still the page; the reader's own parts (their votes, the forms' token,
the report forms not shown on their own contributions) are filled in for each request
(consult.web.fragments). See docs/decisions/0036-page-stamps.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2_fragments import render_block
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from consult import i18n
from consult.bills.services import ArticleInBill
from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.contributions.article_context import ArticleContext
from consult.input import whole_number
from consult.pages.articles import (
    ArticleForm,
    ListingOptions,
    article_page,
    find_article,
    stamp_and_votes,
)
from consult.web.antispam import form_token
from consult.web.context import RequestContext, page_context
from consult.web.fragments import MARKERS, Reader, renderer_of

VARY = "HX-Request, HX-Request-Type, Cookie, Accept-Language"


async def render_article_page(
    ctx: RequestContext,
    context: ArticleContext,
    *,
    in_bill: ArticleInBill | None = None,
    form: ArticleForm | None = None,
    status_code: int = 200,
    block: str = "article",
) -> Response:
    """The article page (or one of its regions), optionally with a form shown again."""
    page = await article_page(
        ctx.db,
        context,
        in_bill=in_bill,
        viewer=ctx.user,
        now=ctx.now,
        options=ListingOptions.parse(ctx.query),
        form_token=form_token(ctx.settings, ctx.now),
        form=form,
        posted=whole_number(ctx.query.get("posted")),
    )
    return ctx.render("articles/show.html", page, block=block, status_code=status_code)


@dataclass(frozen=True)
class KindOfReader:
    """Who a kept page is rendered for: somebody logged in, who may take part or not (the
    page's forms or a notice). It has nothing else of a person, so a kept page cannot show
    anything else of one (the templates' undefined is strict)."""

    verification_level: int


async def show_article_page(
    ctx: RequestContext,
    consultation: Consultation,
    key: str,
    version_number: int | None,
    block: str,
) -> Response:
    """The article page as read: kept for every reader, filled in for this one."""
    if ctx.query.get("posted") is not None:
        # "Your contribution is published", for its author alone: rendered for them.
        in_bill, context = await find_article(ctx.db, consultation, key, version_number)
        return await render_article_page(ctx, context, in_bill=in_bill, block=block)
    user, now = ctx.user, ctx.now
    region = block if ctx.is_partial else None
    is_open = accepts_contributions(consultation, now)
    takes_part = None
    if user is not None:
        takes_part = user.verification_level >= consultation.participation_requires
    options = ListingOptions.parse(ctx.query)
    lang = i18n.get_language()
    # Read first: whatever is read after it is at least as new as the stamp says.
    stamp, my_votes = await stamp_and_votes(ctx.db, consultation, key, user)
    renderer = renderer_of(ctx.services.templates)
    phase = consultation.phase_at(now)
    page_key = (
        "article",
        consultation.id,
        consultation.slug,
        key,
        version_number,
        stamp,
        lang,
        options,
        is_open,
        phase,
        takes_part,
        region,
    )
    kept = renderer.pages.get(page_key)
    if kept is None:
        in_bill, context = await find_article(ctx.db, consultation, key, version_number)
        page = await article_page(
            ctx.db,
            context,
            in_bill=in_bill,
            viewer=None,
            now=now,
            options=options,
            form_token=MARKERS["token"],
            public=True,
        )
        reader = None
        if takes_part is not None:
            level = consultation.participation_requires if takes_part else -1
            reader = KindOfReader(level)
        variables = {
            **page_context(page),
            "user": reader,
            "lang": lang,
            "url_for": ctx.services.url_for,
        }
        templates = ctx.services.templates
        html = render_block(templates, "articles/show.html", region or "article", **variables)
        title = render_block(templates, "articles/show.html", "title", **variables)
        kept = renderer.keep_page(page_key, title, html)
    body = renderer.fill_page(
        kept,
        Reader(
            user=user,
            slug=consultation.slug,
            article_key=key,
            is_open=is_open,
            my_votes=my_votes,
            form_token=form_token(ctx.settings, now),
            url_for=ctx.services.url_for,
            lang=lang,
        ),
    )
    if region is not None:
        return HTMLResponse(body, headers={"Vary": VARY})
    title = Markup(renderer.page_title(kept))  # noqa: S704  (rendered, escaped, by the template)
    page_body = Markup(body)  # noqa: S704  (rendered, escaped, by the template)
    return ctx.render("articles/page.html", {"title": title, "body": page_body})
