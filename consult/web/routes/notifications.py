"""Choosing whether to be emailed about answers: from the account page, or from an email."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from consult.accounts.models import User
from consult.errors import NotFound
from consult.notifications.services import valid_unsubscribe_token
from consult.web.forms import read_form, redirect_after_post
from consult.web.permissions import AUTHENTICATED, PUBLIC
from consult.web.routing import route
from consult.web.templating import render


async def save_preferences(request: Request) -> Response:
    """Turn emails about answers on or off for the person logged in."""
    form = await read_form(request)
    request.state.user.notify_answers = form.text("notify_answers") == "1"
    return redirect_after_post(request, str(request.app.url_path_for("profile")) + "?saved=1")


async def _addressee(request: Request) -> User:
    """The account an unsubscribe link names, if its token is right (404 otherwise)."""
    user_id, token = request.path_params["user_id"], request.path_params["token"]
    user: User | None = await request.state.db.get(User, user_id)
    if user is None or not valid_unsubscribe_token(request.app.state.settings, user_id, token):
        raise NotFound(str(user_id))
    return user


async def unsubscribe_form(request: Request) -> Response:
    """Confirm stopping the emails (a link in an email must not change anything by itself)."""
    await _addressee(request)
    return render(request, "accounts/unsubscribe.html", {"done": False})


async def unsubscribe(request: Request) -> Response:
    """Stop the emails about answers, without logging in."""
    user = await _addressee(request)
    user.notify_answers = False
    return render(request, "accounts/unsubscribe.html", {"done": True})


UNSUBSCRIBE = "/account/unsubscribe/{user_id:int}/{token}"

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
