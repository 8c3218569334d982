"""The second factor: setting it up, turning it off, and the code asked after the password."""

from __future__ import annotations

import segno
from markupsafe import Markup
from starlette.responses import Response

from consult.accounts.two_factor import (
    confirm_setup,
    needs_second_factor_when_off,
    provisioning_uri,
    remaining_recovery_codes,
    start_setup,
    turn_off,
    user_of_pending_login,
)
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.jobs import send_notifications
from consult.pages.accounts import LoginCodeForm, RecoveryCodesPage, TwoFactorPage
from consult.protection.logins import LoginRefused, log_in_with_code
from consult.web.auth import log_in
from consult.web.context import RequestContext
from consult.web.forms import read_form, safe_next, with_query
from consult.web.permissions import ANONYMOUS, AUTHENTICATED
from consult.web.routing import route

ISSUER = "consult"


def _qr_code(secret: str, account: str) -> str:
    """The QR code of the app's address, as inline SVG (no style attribute, CSP-safe)."""
    drawing = segno.make(provisioning_uri(secret, account, ISSUER), error="m")
    return Markup(drawing.svg_inline(scale=4, dark="#1b1f24", title=_("QR code")))  # noqa: S704


async def _page(ctx: RequestContext, errors: dict[str, str] | None = None) -> TwoFactorPage:
    user, staff_must = ctx.member, ctx.settings.two_factor_for_staff
    required = needs_second_factor_when_off(user, staff_must)
    next_url = safe_next(ctx.query.get("next"), "")
    if user.totp_confirmed_at is not None:
        remaining = await remaining_recovery_codes(ctx.db, user)
        return TwoFactorPage(True, required, remaining_codes=remaining, errors=errors or {})
    secret = user.totp_secret
    qr_code = _qr_code(secret, user.email or "") if secret else ""
    return TwoFactorPage(False, required, secret, qr_code, next=next_url, errors=errors or {})


async def two_factor(ctx: RequestContext) -> Response:
    """Where the second factor stands, and what can be done with it."""
    return ctx.render("accounts/two_factor.html", await _page(ctx))


async def start_two_factor(ctx: RequestContext) -> Response:
    """Draw a new secret to scan with an app."""
    form = await read_form(ctx.request)
    await start_setup(ctx.db, ctx.member)
    target = ctx.url_for("two_factor")
    next_url = safe_next(form.text("next"), "")
    return ctx.redirect(with_query(target, next=next_url) if next_url else target)


async def confirm_two_factor(ctx: RequestContext) -> Response:
    """Turn the second factor on with a first code; show the recovery codes, once."""
    form = await read_form(ctx.request)
    try:
        codes = await confirm_setup(ctx.db, ctx.member, form.text("code"), ctx.now)
    except FormError as error:
        page = await _page(ctx, dict(error.fields))
        return ctx.render("accounts/two_factor.html", page, status_code=422)
    shown = RecoveryCodesPage(codes, safe_next(form.text("next"), ""))
    response = ctx.render("accounts/recovery_codes.html", shown)
    response.headers["Cache-Control"] = "no-store"
    return response


async def turn_off_two_factor(ctx: RequestContext) -> Response:
    """Remove the second factor, with a code (not for roles that require it)."""
    form = await read_form(ctx.request)
    try:
        staff_must = ctx.settings.two_factor_for_staff
        await turn_off(ctx.db, ctx.member, form.text("code"), ctx.now, staff_must)
    except FormError as error:
        page = await _page(ctx, dict(error.fields))
        return ctx.render("accounts/two_factor.html", page, status_code=422)
    return ctx.redirect(with_query(ctx.url_for("profile"), two_factor="off"))


async def login_code(ctx: RequestContext) -> Response:
    """Check the code and open the session; wrong codes count like wrong passwords."""
    form = await read_form(ctx.request)
    token, next_url = form.text("token"), safe_next(form.text("next"), "")
    user = await user_of_pending_login(ctx.db, ctx.settings.secret_key, token, ctx.now)
    if user is None:
        expired = {"form": _("This step has expired: log in again.")}
        return ctx.render(
            "accounts/login_code.html", LoginCodeForm("", next_url, expired), status_code=422
        )
    try:
        await log_in_with_code(ctx.db, user, form.text("code"), ctx.now, ctx.settings.sends_email)
    except LoginRefused as refused:
        ctx.keep_writes_of_refusal()  # the wrong code counts
        if refused.owner_warned:
            ctx.enqueue(send_notifications, job_id="notifications:account")
        errors = {
            "code": _("Wrong code.")
            if refused.paused_until is None
            else _(
                "Too many wrong codes or passwords: logins to this account are paused for a while."
            )
        }
        return ctx.render(
            "accounts/login_code.html", LoginCodeForm(token, next_url, errors), status_code=422
        )
    response = ctx.redirect(next_url or "/")
    await log_in(ctx, user, response)
    return response


def _refusal_message(refused: LoginRefused) -> str:
    if refused.paused_until is None:
        return _("Wrong code.")
    return _("Too many wrong codes or passwords: logins to this account are paused for a while.")


routes = [
    route("/account/two-factor", two_factor, AUTHENTICATED),
    route("/account/two-factor/start", start_two_factor, AUTHENTICATED, ["POST"]),
    route("/account/two-factor", confirm_two_factor, AUTHENTICATED, ["POST"], rate_limit="login"),
    route(
        "/account/two-factor/off", turn_off_two_factor, AUTHENTICATED, ["POST"], rate_limit="login"
    ),
    route("/account/login/code", login_code, ANONYMOUS, ["POST"], rate_limit="login"),
]
