"""The step between the password and the session for accounts with a second factor."""

from __future__ import annotations

from starlette.responses import Response

from consult.accounts.models import User
from consult.accounts.two_factor import pending_login
from consult.pages.accounts import LoginCodeForm
from consult.web.context import RequestContext


def ask_code(ctx: RequestContext, user: User, next_url: str) -> Response:
    """After the right password, the code: the form carries a signed, short-lived token."""
    token = pending_login(ctx.settings.secret_key, user, ctx.now)
    page = LoginCodeForm(token, next_url)
    return ctx.render("accounts/login_code.html", page, block="login_form")
