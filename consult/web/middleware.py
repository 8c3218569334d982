"""Pure ASGI middleware: security headers, cross-origin protection, language, rate limits."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consult import i18n
from consult.outages import unreachable_service
from consult.settings import Settings
from consult.web.errors import error_response, unavailable_response
from consult.web.services import services_of

logger = logging.getLogger("consult.web")

LANGUAGE_COOKIE = "consult_lang"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Static files, and the health probes a load balancer sends every few seconds (which must
# answer even when Redis, holding the counters, does not).
UNLIMITED = ("/static/", "/healthz", "/readyz")


def content_security_policy(nonce: str) -> str:
    """A strict policy: no inline code without the per-response nonce, no eval, no framing."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeadersMiddleware:
    """Adds security headers to every response and turns crashes into a calm page: 503 with
    `Retry-After` when the database or Redis cannot be reached (`consult.outages` tells), 500
    for anything else.

    Handling the crash here, inside the header middleware, means even these pages carry the
    CSP and the other headers, whichever part of the request met the outage (the unit of work,
    its commit, the rate limiter).
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.hsts = settings.secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = content_security_policy(nonce)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if self.hsts:
                    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as error:
            service = unreachable_service(error)
            if service is None:
                logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            else:
                logger.warning(
                    "%s unreachable on %s %s: %s",
                    service,
                    scope.get("method"),
                    scope.get("path"),
                    error,
                )
            if started:
                raise
            # The person logged in was read in a unit of work that failed: show no account.
            scope["state"]["user"] = None
            request = Request(scope)
            response = (
                error_response(request, 500) if service is None else unavailable_response(request)
            )
            await response(scope, receive, send_with_headers)


class CrossOriginProtectionMiddleware:
    """CSRF protection by Fetch metadata, which also covers plain no-JS forms.

    Browsers say where a request comes from in `Sec-Fetch-Site`; older ones
    send `Origin` on unsafe requests. A request with neither header does not
    come from a browser and cannot carry a victim's cookies by surprise.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trusted_origin = settings.origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        unsafe = scope["type"] == "http" and scope["method"] in UNSAFE_METHODS
        if unsafe and not self.is_same_origin(Headers(scope=scope)):
            response = error_response(
                Request(scope),
                403,
                detail=i18n.gettext(
                    "This form was sent from another site, so it was refused. "
                    "Go back to the page, reload it and try again."
                ),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def is_same_origin(self, headers: Headers) -> bool:
        """Whether an unsafe request comes from our own pages."""
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None:
            # "none" is a user action (typed URL, bookmark), not another site.
            return fetch_site in ("same-origin", "none")
        origin = headers.get("origin")
        if origin is None:
            return True
        if origin == self.trusted_origin:
            return True
        return urlsplit(origin).netloc == headers.get("host", "") != ""


class LanguageMiddleware:
    """Chooses the page language: the reader's choice (cookie), else their browser's."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.languages = settings.languages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            chosen = request.cookies.get(LANGUAGE_COOKIE)
            if chosen not in self.languages:
                chosen = i18n.negotiate_language(request.headers.get("accept-language"))
            if chosen not in self.languages:
                chosen = self.languages[0]
            i18n.set_language(chosen)

            async def send_with_language(message: Message) -> None:
                if message["type"] == "http.response.start":
                    MutableHeaders(scope=message).setdefault("Content-Language", chosen)
                await send(message)

            await self.app(scope, receive, send_with_language)
            return
        await self.app(scope, receive, send)


class RateLimitMiddleware:
    """Per-IP request budgets (all requests, and unsafe ones) before any work is done."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.any_limit = settings.rate_limit
        self.post_limit = settings.rate_limit_post

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(UNLIMITED):
            request = Request(scope)
            limiter = services_of(request).rate_limiter
            limited = await limiter.check(request, self.any_limit, scope_name="any")
            if limited is None and scope["method"] in UNSAFE_METHODS:
                limited = await limiter.check(request, self.post_limit, scope_name="unsafe")
            if limited is not None:
                await limited(scope, receive, send)
                return
        await self.app(scope, receive, send)
