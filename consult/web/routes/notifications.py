"""Choosing whether to be emailed about answers: from the account page, or from an email."""

from __future__ import annotations

from starlette.responses import Response

from consult.accounts.models import User
from consult.errors import NotFound
from consult.notifications.services import valid_unsubscribe_token
from consult.pages.accounts import UnsubscribePage
from consult.web.context import RequestContext
from consult.web.forms import read_form
from consult.web.permissions import AUTHENTICATED, PUBLIC
from consult.web.routing import route


async def save_preferences(ctx: RequestContext) -> Response:
    """Turn emails about answers on or off for the person logged in."""
    form = await read_form(ctx.request)
    ctx.member.notify_answers = form.text("notify_answers") == "1"
    return ctx.redirect(ctx.url_for("profile") + "?saved=1")


async def _addressee(ctx: RequestContext) -> User:
    """The account an unsubscribe link names, if its token is right (404 otherwise)."""
    user_id, token = ctx.path_id("user_id"), ctx.path("token")
    user = await ctx.db.get(User, user_id)
    if user is None or not valid_unsubscribe_token(ctx.settings, user_id, token):
        raise NotFound(str(user_id))
    return user


async def unsubscribe_form(ctx: RequestContext) -> Response:
    """Confirm stopping the emails (a link in an email must not change anything by itself)."""
    await _addressee(ctx)
    return ctx.render("accounts/unsubscribe.html", UnsubscribePage(ctx.request.url.path))


async def unsubscribe(ctx: RequestContext) -> Response:
    """Stop the emails about answers, without logging in."""
    user = await _addressee(ctx)
    user.notify_answers = False
    page = UnsubscribePage(ctx.request.url.path, done=True)
    return ctx.render("accounts/unsubscribe.html", page)


UNSUBSCRIBE = "/account/unsubscribe/{user_id:id}/{token}"

routes = [
    route(
        "/account/notifications",
        save_preferences,
        AUTHENTICATED,
        ["POST"],
        name="notification_preferences",
        rate_limit="post",
    ),
    route(UNSUBSCRIBE, unsubscribe_form, PUBLIC, name="unsubscribe_form"),
    route(UNSUBSCRIBE, unsubscribe, PUBLIC, ["POST"], name="unsubscribe", rate_limit="post"),
]
