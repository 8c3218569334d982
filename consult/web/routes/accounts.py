"""Register, log in, log out, change password, profile."""

from __future__ import annotations

from starlette.responses import Response

from consult.accounts.links import send_link
from consult.accounts.models import LinkPurpose, User
from consult.accounts.registration import register_with_confirmation
from consult.accounts.services import (
    change_password,
    create_user,
    normalise_email,
    registration_errors,
)
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.jobs import send_notifications
from consult.moderation.services import current_suspension
from consult.pages.accounts import (
    LoginForm,
    PasswordForm,
    ProfilePage,
    RegisteredPage,
    RegisterForm,
    refused_login,
)
from consult.protection.logins import LoginRefused, log_in_with_password
from consult.web.antispam import form_token, sent_by_a_person
from consult.web.auth import log_in, log_out
from consult.web.context import RequestContext
from consult.web.forms import FormData, read_form, safe_next, with_query
from consult.web.permissions import ANONYMOUS, AUTHENTICATED
from consult.web.routing import route
from consult.web.second_factor import ask_code


async def register_form(ctx: RequestContext) -> Response:
    """The registration form (a logged-in visitor goes on to where they were heading)."""
    if ctx.user is not None:
        return ctx.redirect(safe_next(ctx.query.get("next")))
    token = form_token(ctx.settings, ctx.now)
    page = RegisterForm(
        {"next": safe_next(ctx.query.get("next"), "")},
        form_token=token,
        by_email=ctx.settings.sends_email,
    )
    return ctx.render("accounts/register.html", page)


async def register(ctx: RequestContext) -> Response:
    """Create a citizen account and log it in; on a site that sends email, send a link to
    confirm the address instead, saying the same whether the address has an account or not."""
    form = await read_form(ctx.request)
    values = {k: form.text(k) for k in ("email", "display_name", "next", "accept_terms")}
    next_url = safe_next(form.text("next"))
    try:
        await _check_registration_form(ctx, form)
        if ctx.settings.sends_email:
            email, name, password = (form.text(k) for k in ("email", "display_name", "password"))
            if await register_with_confirmation(ctx.db, email, name, password, next_url, ctx.now):
                ctx.enqueue(send_notifications, job_id="notifications:account")
            page = RegisteredPage(normalise_email(email))
            return ctx.render("accounts/registered.html", page)
        user = await create_user(
            ctx.db, form.text("email"), form.text("display_name"), form.text("password")
        )
    except FormError as error:
        token = form_token(ctx.settings, ctx.now)
        shown = RegisterForm(values, error.fields, token, ctx.settings.sends_email)
        return ctx.render("accounts/register.html", shown, block="register_form", status_code=422)
    # Back to the page the newcomer came from (a local path only), welcomed there.
    response = ctx.redirect(with_query(next_url, welcome="1"))
    await log_in(ctx, user, response)
    return response


async def _check_registration_form(ctx: RequestContext, form: FormData) -> None:
    """FormError when the form was sent too fast or the terms of use were not accepted (with
    the other fields' errors, so that all are shown at once)."""
    if not await sent_by_a_person(ctx.db, ctx.settings, form, ctx.now):
        raise FormError({"form": _("Please wait a few seconds, then send the form again.")})
    if form.text("accept_terms") != "1":
        email, name = normalise_email(form.text("email")), form.text("display_name")
        errors = registration_errors(email, " ".join(name.split()), form.text("password"))
        errors["accept_terms"] = _("Accept the terms of use to create an account.")
        raise FormError(errors)


async def login_form(ctx: RequestContext) -> Response:
    """The login form (a logged-in visitor goes on to where they were heading)."""
    if ctx.user is not None:
        return ctx.redirect(safe_next(ctx.query.get("next")))
    page = LoginForm(
        next=safe_next(ctx.query.get("next"), ""),
        form_token=form_token(ctx.settings, ctx.now),
        password_reset=bool(ctx.query.get("reset")),
        email_confirmed=bool(ctx.query.get("confirmed")),
    )
    return ctx.render("accounts/login.html", page)


async def login(ctx: RequestContext) -> Response:
    """Check the credentials and open a session; wrong passwords for one address pause its
    logins for a while, from any machine."""
    form = await read_form(ctx.request)
    next_url = safe_next(form.text("next"), "")
    try:
        if not await sent_by_a_person(ctx.db, ctx.settings, form, ctx.now):
            raise FormError({"form": _("Please wait a few seconds, then send the form again.")})
        email, password = form.text("email"), form.text("password")
        warn = ctx.settings.sends_email
        user = await log_in_with_password(ctx.db, email, password, ctx.now, warn_owner=warn)
    except (FormError, LoginRefused) as refusal:
        token = form_token(ctx.settings, ctx.now)
        page = refused_login(refusal, next_url, form.text("email"), token, ctx.now)
        if isinstance(refusal, LoginRefused):
            ctx.keep_writes_of_refusal()  # the wrong password counts
        if isinstance(refusal, LoginRefused) and refusal.owner_warned:
            ctx.enqueue(send_notifications, job_id="notifications:account")
        return ctx.render("accounts/login.html", page, block="login_form", status_code=422)
    if user.awaiting_confirmation_since is not None:
        return await _confirm_first(ctx, user, next_url)
    if user.totp_confirmed_at is not None:
        return ask_code(ctx, user, next_url)
    response = ctx.redirect(next_url or "/")
    await log_in(ctx, user, response)
    return response


async def _confirm_first(ctx: RequestContext, user: User, next_url: str) -> Response:
    """The right password, but the address is not confirmed yet: a fresh link instead."""
    if await send_link(ctx.db, user, LinkPurpose.EMAIL_CHECK, ctx.now, next_url):
        ctx.enqueue(send_notifications, job_id="notifications:account")
    ctx.keep_writes_of_refusal()
    message = _("Confirm your address first: follow the link we have sent to it.")
    token = form_token(ctx.settings, ctx.now)
    page = LoginForm(next_url, {"email": user.email or ""}, {"form": message}, token)
    return ctx.render("accounts/login.html", page, block="login_form", status_code=422)


async def logout(ctx: RequestContext) -> Response:
    """End the session."""
    response = ctx.redirect("/")
    await log_out(ctx, response)
    return response


async def profile(ctx: RequestContext) -> Response:
    """The account page."""
    page = ProfilePage(
        password_changed=bool(ctx.query.get("changed")),
        preferences_saved=bool(ctx.query.get("saved")),
        email_confirmed=bool(ctx.query.get("confirmed")),
        confirmation_sent=bool(ctx.query.get("confirmation_sent")),
        sends_email=ctx.settings.sends_email,
        suspension=await current_suspension(ctx.db, ctx.member.id),
        review_sent=bool(ctx.query.get("review")),
    )
    return ctx.render("accounts/profile.html", page)


async def password_form(ctx: RequestContext) -> Response:
    """The password change form."""
    return ctx.render("accounts/password.html", PasswordForm())


async def password_change(ctx: RequestContext) -> Response:
    """Change the password; every other session ends, this one is renewed."""
    form = await read_form(ctx.request)
    user = ctx.member
    try:
        await change_password(
            ctx.db, user, form.text("current_password"), form.text("new_password")
        )
    except FormError as error:
        shown = PasswordForm(error.fields)
        return ctx.render("accounts/password.html", shown, block="password_form", status_code=422)
    response = ctx.redirect(ctx.url_for("profile") + "?changed=1")
    await log_in(ctx, user, response)
    return response


routes = [
    route("/account/register", register_form, ANONYMOUS),
    route("/account/register", register, ANONYMOUS, methods=["POST"], rate_limit="login"),
    route("/account/login", login_form, ANONYMOUS),
    route("/account/login", login, ANONYMOUS, methods=["POST"], rate_limit="login"),
    route("/account/logout", logout, AUTHENTICATED, methods=["POST"]),
    route("/account", profile, AUTHENTICATED),
    route("/account/password", password_form, AUTHENTICATED),
    route(
        "/account/password", password_change, AUTHENTICATED, methods=["POST"], rate_limit="login"
    ),
]
