"""Signing in with an identity provider (OpenID Connect)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from consult.accounts.identity import (
    ATTEMPT_SECONDS,
    Identity,
    IdentityRefused,
    account_of,
    begin,
    complete,
    keep_identity,
    kept_identity,
    sign_in,
)
from consult.accounts.models import User
from consult.errors import FormError
from consult.pages.accounts import IdentityConfirmPage, IdentityFailedPage
from consult.web.auth import log_in
from consult.web.context import RequestContext
from consult.web.forms import read_form, safe_next
from consult.web.permissions import PUBLIC
from consult.web.routing import route
from consult.web.second_factor import ask_code

logger = logging.getLogger("consult.identity")
ATTEMPT_COOKIE = "consult_identity_attempt"
IDENTITY_COOKIE = "consult_identity"


def _redirect_uri(ctx: RequestContext) -> str:
    return ctx.settings.base_url + ctx.url_for("identity_callback")


def _cookie(ctx: RequestContext, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=ATTEMPT_SECONDS,
        path="/account/identity",
        secure=ctx.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def _failed(ctx: RequestContext, error: IdentityRefused) -> Response:
    logger.warning("identity sign-in refused: %s", error)
    page = IdentityFailedPage(ctx.settings.oidc_provider_name)
    status = 502 if error.provider_fault else 400
    return ctx.render("accounts/identity_failed.html", page, status_code=status)


async def identity_start(ctx: RequestContext) -> Response:
    """Send the person to the provider, keeping the attempt's secrets in their browser."""
    settings = ctx.settings
    if not settings.verifies_identity:
        raise HTTPException(404)
    try:
        url, attempt = await begin(
            settings.oidc_issuer,
            settings.oidc_client_id,
            settings.oidc_scopes,
            _redirect_uri(ctx),
            settings.secret_key,
            ctx.now,
        )
    except IdentityRefused as error:
        return _failed(ctx, error)
    response = RedirectResponse(url, status_code=303)
    _cookie(ctx, response, ATTEMPT_COOKIE, f"{attempt}|{safe_next(ctx.query.get('next'), '')}")
    return response


async def identity_callback(ctx: RequestContext) -> Response:
    """Back from the provider: check its answer, then ask the person to go on (a POST, as
    opening an address must change nothing)."""
    settings = ctx.settings
    if not settings.verifies_identity:
        raise HTTPException(404)
    attempt, _bar, next_url = ctx.request.cookies.get(ATTEMPT_COOKIE, "").partition("|")
    try:
        identity = await _provider_answer(ctx, attempt)
    except IdentityRefused as error:
        return _failed(ctx, error)
    known = await account_of(ctx.db, identity)
    page = IdentityConfirmPage(
        settings.oidc_provider_name,
        known.display_name if known else identity.public_name(),
        identity.email,
        new_account=known is None and ctx.user is None,
        linking=ctx.user is not None and known is None,
        next=safe_next(next_url, ""),
    )
    response = ctx.render("accounts/identity_confirm.html", page)
    _cookie(ctx, response, IDENTITY_COOKIE, keep_identity(settings.secret_key, identity, ctx.now))
    response.delete_cookie(ATTEMPT_COOKIE, path="/account/identity")
    return response


async def _provider_answer(ctx: RequestContext, attempt: str) -> Identity:
    """The identity in the provider's answer to this browser's attempt (IdentityRefused)."""
    settings = ctx.settings
    return await complete(
        settings.oidc_issuer,
        settings.oidc_client_id,
        settings.oidc_client_secret,
        _redirect_uri(ctx),
        settings.secret_key,
        attempt,
        ctx.query.get("code", ""),
        ctx.query.get("state", ""),
        ctx.now,
    )


async def identity_sign_in(ctx: RequestContext) -> Response:
    """Log in with the verified identity (creating the account, or adding it to the current
    one)."""
    form = await read_form(ctx.request)
    next_url = safe_next(form.text("next"), "")
    try:
        kept = ctx.request.cookies.get(IDENTITY_COOKIE, "")
        identity = kept_identity(ctx.settings.secret_key, kept, ctx.now)
    except IdentityRefused as error:
        return _failed(ctx, error)
    try:
        accepted = form.text("accept_terms") == "1"
        user = await sign_in(ctx.db, identity, ctx.user, accepted, ctx.now)
    except FormError as error:
        known = await account_of(ctx.db, identity)
        page = IdentityConfirmPage(
            ctx.settings.oidc_provider_name,
            identity.public_name(),
            identity.email,
            new_account=known is None and ctx.user is None,
            linking=ctx.user is not None,
            next=next_url,
            errors=error.fields,
        )
        return ctx.render("accounts/identity_confirm.html", page, status_code=422)
    return await _into_account(ctx, user, next_url)


async def _into_account(ctx: RequestContext, user: User, next_url: str) -> Response:
    """Log in to the account the identity opens, after its second factor if it has one: the
    provider stands for the password, not for the code."""
    if ctx.user is not None and ctx.user.id == user.id:
        response = ctx.redirect(next_url or "/")
    elif user.totp_confirmed_at is not None:
        response = ask_code(ctx, user, next_url)
    else:
        response = ctx.redirect(next_url or "/")
        await log_in(ctx, user, response)
    response.delete_cookie(IDENTITY_COOKIE, path="/account/identity")
    return response


routes = [
    route("/account/identity/start", identity_start, PUBLIC),
    route("/account/identity/callback", identity_callback, PUBLIC),
    route("/account/identity", identity_sign_in, PUBLIC, ["POST"], rate_limit="login"),
]
