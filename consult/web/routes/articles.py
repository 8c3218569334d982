"""Article pages: numbered alinéas with highlighted passages, and the participation beside them."""

from __future__ import annotations

from starlette.responses import Response

from consult.errors import NotFound
from consult.input import whole_number
from consult.web.article_page import show_article_page
from consult.web.context import RequestContext
from consult.web.permissions import PUBLIC
from consult.web.routing import route


async def show(ctx: RequestContext) -> Response:
    """One article of the latest version, or of `?version=N`."""
    consultation = await ctx.consultation()
    if consultation.is_questionnaire:  # its open questions are answered on its own page
        return ctx.redirect(ctx.url_for("questionnaire", slug=consultation.slug))
    raw_version = ctx.query.get("version")
    version_number = whole_number(raw_version)
    if raw_version is not None and version_number is None:
        raise NotFound(raw_version)
    # The region is one of this handler's own blocks; the parameter only picks between them.
    block = "contributions" if ctx.query.get("region") == "contributions" else "article"
    return await show_article_page(ctx, consultation, ctx.path("key"), version_number, block)


routes = [route("/consultations/{slug}/articles/{key}", show, PUBLIC, name="article", cache=True)]
