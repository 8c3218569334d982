"""Session cookies: reading the current user, logging in and out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from consult.accounts.models import User
from consult.accounts.services import (
    SessionPolicy,
    SignedIn,
    end_session,
    resolve_session,
    start_session,
)
from consult.settings import Settings
from consult.web.context import RequestContext
from consult.web.services import services_of

# The __Host- prefix makes the browser refuse the cookie unless it is Secure,
# host-only and for path /, so a sibling subdomain cannot plant or read it.
SECURE_COOKIE = "__Host-consult_session"
PLAIN_COOKIE = "consult_session"


def session_cookie_name(settings: Settings) -> str:
    """`__Host-` cookies need HTTPS; a local http:// demo uses a plain name."""
    return SECURE_COOKIE if settings.secure_cookies else PLAIN_COOKIE


def session_policy(settings: Settings) -> SessionPolicy:
    """Idle and absolute session lifetimes from the settings."""
    return SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(days=settings.session_absolute_days),
    )


async def load_current_user(
    request: Request, db: AsyncSession, *, with_suspension: bool = False
) -> SignedIn | None:
    """The logged-in user, if the request carries a valid session cookie (and, with
    `with_suspension`, whether their account is suspended, read in the same query)."""
    services = services_of(request)
    token = request.cookies.get(session_cookie_name(services.settings))
    if not token or len(token) > 128:
        return None
    policy = session_policy(services.settings)
    signed_in = await resolve_session(
        db, token, policy, now=services.clock(), with_suspension=with_suspension
    )
    if db.dirty or db.deleted:
        # Session bookkeeping (last use, expiry) is saved even on read-only pages.
        await db.commit()
    return signed_in


async def log_in(context: RequestContext, user: User, response: Response) -> None:
    """Open a new session (rotating away any previous one) and set its cookie."""
    settings, db = context.settings, context.db
    old_token = context.request.cookies.get(session_cookie_name(settings))
    if old_token:
        await end_session(db, old_token)
    token = await start_session(db, user, session_policy(settings), now=context.now)
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=settings.session_absolute_days * 86400,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


async def log_out(context: RequestContext, response: Response) -> None:
    """End the current session and clear its cookie."""
    settings = context.settings
    token = context.request.cookies.get(session_cookie_name(settings))
    if token:
        await end_session(context.db, token)
    response.delete_cookie(
        session_cookie_name(settings),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
