"""The article page as a response: shown on its own, or again around a participation form."""

from __future__ import annotations

from starlette.responses import Response

from consult.bills.services import ArticleInBill
from consult.contributions.article_context import ArticleContext
from consult.input import whole_number
from consult.pages.articles import ArticleForm, ListingOptions, article_page
from consult.web.antispam import form_token
from consult.web.context import RequestContext


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
