"""What became of the contributions: the public feedback page and each citizen's own list."""

from __future__ import annotations

from starlette.responses import Response

from consult.input import whole_number
from consult.pages.feedback import feedback_page, my_contributions_page
from consult.web.context import RequestContext
from consult.web.permissions import AUTHENTICATED, PUBLIC
from consult.web.routing import route


async def feedback(ctx: RequestContext) -> Response:
    """Per article, the answers with their reasons and the counts a parliament can cite."""
    page = await feedback_page(ctx.db, await ctx.consultation(), ctx.now)
    return ctx.render("feedback/show.html", page)


async def mine(ctx: RequestContext) -> Response:
    """The contributions of the person logged in, each with what became of it."""
    number = whole_number(ctx.query.get("page"), digits=6) or 1
    page = await my_contributions_page(ctx.db, ctx.member.id, number)
    return ctx.render("feedback/mine.html", page)


routes = [
    route("/consultations/{slug}/feedback", feedback, PUBLIC, name="feedback", cache=True),
    route("/account/contributions", mine, AUTHENTICATED, name="my_contributions"),
]
