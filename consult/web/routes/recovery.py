"""Links sent by email: choosing a new password, confirming an address."""

from __future__ import annotations

from starlette.responses import Response

from consult.accounts.links import (
    LinkUnusable,
    confirm_email,
    confirmation_needs_password,
    open_link,
    request_password_reset,
    reset_password,
    send_link,
)
from consult.accounts.models import AccountLink, LinkPurpose, User
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.jobs import send_notifications
from consult.pages.accounts import ConfirmEmailPage, ForgotForm, ResetForm
from consult.web.antispam import form_token, sent_by_a_person
from consult.web.auth import log_in
from consult.web.context import RequestContext
from consult.web.forms import read_form, safe_next, with_query
from consult.web.permissions import AUTHENTICATED, PUBLIC
from consult.web.routing import route


async def forgot_form(ctx: RequestContext) -> Response:
    """Ask for a link to choose a new password."""
    page = ForgotForm(ctx.settings.sends_email, form_token(ctx.settings, ctx.now))
    return ctx.render("accounts/forgot.html", page)


async def forgot(ctx: RequestContext) -> Response:
    """Send the link if an account has this address; say the same either way."""
    form = await read_form(ctx.request)
    email = form.text("email").strip()
    if not ctx.settings.sends_email:
        return ctx.render("accounts/forgot.html", ForgotForm(by_email=False))
    if not await sent_by_a_person(ctx.db, ctx.settings, form, ctx.now):
        token = form_token(ctx.settings, ctx.now)
        error = {"form": _("Please wait a few seconds, then send the form again.")}
        return ctx.render(
            "accounts/forgot.html", ForgotForm(True, token, email, error), status_code=422
        )
    if await request_password_reset(ctx.db, email, ctx.now):
        ctx.enqueue(send_notifications, job_id="notifications:account")
    return ctx.render("accounts/forgot.html", ForgotForm(True, email=email, sent=True))


async def _link(ctx: RequestContext, purpose: LinkPurpose) -> AccountLink:
    """The link of the path, usable (else the page saying it has expired or was used)."""
    link_id, secret = ctx.path_id("link_id"), ctx.path("secret")
    try:
        return await open_link(ctx.db, ctx.settings.secret_key, link_id, secret, purpose, ctx.now)
    except LinkUnusable as error:
        raise FormError({"link": _("This link has expired or was already used.")}) from error


async def reset_form(ctx: RequestContext) -> Response:
    """Choose a new password, from the link of a reset email."""
    try:
        await _link(ctx, LinkPurpose.PASSWORD_RESET)
    except FormError:
        return ctx.render("accounts/link_expired.html", None, status_code=410)
    return ctx.render("accounts/reset.html", ResetForm(ctx.request.url.path))


async def reset(ctx: RequestContext) -> Response:
    """Set the new password; every session ends; log in with it."""
    form = await read_form(ctx.request)
    try:
        link = await _link(ctx, LinkPurpose.PASSWORD_RESET)
    except FormError:
        return ctx.render("accounts/link_expired.html", None, status_code=410)
    try:
        await reset_password(ctx.db, link, form.text("new_password"), ctx.now)
    except FormError as error:
        page = ResetForm(ctx.request.url.path, error.fields)
        return ctx.render("accounts/reset.html", page, status_code=422)
    except LinkUnusable:
        return ctx.render("accounts/link_expired.html", None, status_code=410)
    return ctx.redirect(with_query(ctx.url_for("login_form"), reset="1"))


async def confirm_form(ctx: RequestContext) -> Response:
    """Confirm an address, from the link of a confirmation email."""
    try:
        link = await _link(ctx, LinkPurpose.EMAIL_CHECK)
    except FormError:
        return ctx.render("accounts/link_expired.html", None, status_code=410)
    user = await ctx.db.get(User, link.user_id)
    needs_password = user is not None and confirmation_needs_password(user)
    page = ConfirmEmailPage(ctx.request.url.path, needs_password)
    return ctx.render("accounts/confirm.html", page)


async def confirm(ctx: RequestContext) -> Response:
    """The address is confirmed; a registration it finishes is logged in and goes on to the
    page where the person registered."""
    form = await read_form(ctx.request)
    try:
        link = await _link(ctx, LinkPurpose.EMAIL_CHECK)
    except FormError:
        return ctx.render("accounts/link_expired.html", None, status_code=410)
    user = await ctx.db.get(User, link.user_id)
    finishing = user is not None and confirmation_needs_password(user)
    try:
        user = await confirm_email(ctx.db, link, ctx.now, form.text("password"))
    except FormError as error:
        page = ConfirmEmailPage(ctx.request.url.path, True, error.fields)
        return ctx.render("accounts/confirm.html", page, status_code=422)
    except LinkUnusable:
        return ctx.render("accounts/link_expired.html", None, status_code=410)
    if finishing:
        response = ctx.redirect(with_query(safe_next(link.next_path), welcome="1"))
        await log_in(ctx, user, response)
        return response
    target = ctx.url_for("profile") if ctx.user is not None else ctx.url_for("login_form")
    return ctx.redirect(with_query(target, confirmed="1"))


async def send_confirmation(ctx: RequestContext) -> Response:
    """Send the link confirming the address of the person logged in (again)."""
    if ctx.settings.sends_email and await send_link(
        ctx.db, ctx.member, LinkPurpose.EMAIL_CHECK, ctx.now
    ):
        ctx.enqueue(send_notifications, job_id="notifications:account")
    return ctx.redirect(with_query(ctx.url_for("profile"), confirmation_sent="1"))


RESET = "/account/reset/{link_id:id}/{secret}"
CONFIRM = "/account/confirm/{link_id:id}/{secret}"

routes = [
    route("/account/forgot", forgot_form, PUBLIC),
    route("/account/forgot", forgot, PUBLIC, ["POST"], rate_limit="login"),
    route(RESET, reset_form, PUBLIC),
    route(RESET, reset, PUBLIC, ["POST"], name="password_reset", rate_limit="login"),
    route(CONFIRM, confirm_form, PUBLIC),
    route(CONFIRM, confirm, PUBLIC, ["POST"], name="email_confirm", rate_limit="login"),
    route(
        "/account/confirmation",
        send_confirmation,
        AUTHENTICATED,
        ["POST"],
        name="email_confirmation_send",
        rate_limit="login",
    ),
]
