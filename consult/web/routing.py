"""Routes that carry their permission, and the per-request unit of work.

Every handler is wrapped: it gets a `RequestContext` (a database session, the current user,
the time), the route's permission is checked before the handler runs, and the unit of work
is committed only for unsafe methods that succeed. A test walks the route table and fails on
any route that is not a `GuardedRoute`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlencode

from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from consult import i18n
from consult.accounts.two_factor import needs_second_factor
from consult.consultations.services import get_consultation
from consult.i18n import gettext as _
from consult.organisations.services import acts_for
from consult.web.auth import load_current_user, session_cookie_name
from consult.web.context import Handler, RequestContext
from consult.web.convertors import register_convertors
from consult.web.errors import API_PREFIX, error_response
from consult.web.pagecache import NONCE_PLACEHOLDER
from consult.web.permissions import Permission
from consult.web.services import services_of

Endpoint = Callable[[Request], Awaitable[Response]]
# Route paths use `:id` for identifiers; it must be known before any route is declared.
register_convertors()
logger = logging.getLogger("consult.web")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY = "consult_read_only"


class GuardedRoute(Route):
    """A route whose handler runs only for people its permission allows."""

    def __init__(
        self,
        path: str,
        endpoint: Handler,
        *,
        permission: Permission,
        methods: Sequence[str] = ("GET",),
        name: str | None = None,
        rate_limit: str | None = None,
        cache: bool = False,
        probe: bool = False,
    ) -> None:
        # rate_limit names a budget in the settings (e.g. "login" → rate_limit_login);
        # cache serves anonymous readers from the short-lived page cache; a probe (health
        # checks) runs without a unit of work, so it answers whatever the database's state.
        _check_declaration(path, permission)
        self.permission = permission
        self.rate_limit = rate_limit
        self.handler = endpoint
        super().__init__(
            path,
            _probe(endpoint) if probe else _guard(endpoint, permission, rate_limit, cache),
            methods=list(methods),
            name=name or endpoint.__name__,
        )


def _check_declaration(path: str, permission: Permission) -> None:
    """A route that acts on a consultation for a role must be checked against the
    consultation's organisation: declaring it otherwise is refused when the app is built."""
    names_consultation = path.startswith("/consultations/{slug}")
    if permission.organisation and not names_consultation:
        raise ValueError(f"{path}: an organisation's permission needs a consultation in the path")
    if names_consultation and permission.roles and not permission.organisation:
        raise ValueError(
            f"{path}: a role acting on a consultation acts for its organisation "
            "(declare CONSULTATION_OFFICIAL or CONSULTATION_MODERATOR, not a bare role)"
        )


class PublicStatic(Mount):
    """Static files are public by construction."""

    permission = Permission("public-static")

    def __init__(self, path: str, directory: str, name: str) -> None:
        super().__init__(path, app=StaticFiles(directory=directory), name=name)


def _guard(
    endpoint: Handler, permission: Permission, rate_limit: str | None, cache: bool
) -> Endpoint:
    async def guarded(request: Request) -> Response:
        # The JSON API checks its own parameters and names the one at fault, in JSON.
        if not request.url.path.startswith(API_PREFIX) and not _storable(request):
            return error_response(request, 400 if "\x00" not in request.url.path else 404)
        if rate_limit is not None:
            services = services_of(request)
            spec = getattr(services.settings, f"rate_limit_{rate_limit}")
            limited = await services.rate_limiter.check(request, spec)
            if limited is not None:
                return limited
        if cache and _anonymous_read(request):
            return await _cached(
                request, lambda: _unit_of_work(request, endpoint, permission, rate_limit)
            )
        return await _unit_of_work(request, endpoint, permission, rate_limit)

    guarded.__name__ = endpoint.__name__
    guarded.__doc__ = endpoint.__doc__
    return guarded


def _probe(endpoint: Handler) -> Endpoint:
    """A public route that answers without reading anything: its context's session is never
    used unless the handler itself asks the database (and nobody is logged in)."""

    async def probe(request: Request) -> Response:
        services = services_of(request)
        async with services.session_factory() as db:
            return await endpoint(RequestContext(request, services, db, None, services.clock()))

    probe.__name__ = endpoint.__name__
    probe.__doc__ = endpoint.__doc__
    return probe


async def _unit_of_work(
    request: Request, endpoint: Handler, permission: Permission, rate_limit: str | None
) -> Response:
    """Open the session, find the user, check the permission, run, commit or roll back."""
    services = services_of(request)
    async with services.session_factory() as db:
        # Whether an account is suspended matters only where it would post or vote.
        signed_in = await load_current_user(request, db, with_suspension=permission.participates)
        user = signed_in.user if signed_in is not None else None
        # Kept on the request for the layout of error pages, which only see the request.
        request.state.user = user
        if rate_limit is not None and user is not None:
            # Per account over every address of its kind, as well as per client address on
            # each: one person cannot spread over addresses or articles, while people who
            # share an address (a school, a library, a ministry) do not share one budget.
            spec = getattr(services.settings, f"rate_limit_{rate_limit}")
            limited = await services.rate_limiter.check(
                request, spec, scope_name=f"{rate_limit}:user", client=f"user:{user.id}"
            )
            if limited is not None:
                return limited
        if not permission.allows(user):
            if user is None:
                login_url = request.app.url_path_for("login_form")
                query = urlencode({"next": request.url.path})
                return RedirectResponse(f"{login_url}?{query}", status_code=303)
            return error_response(request, 403)
        if signed_in is not None and signed_in.suspended:
            message = _(
                "Your account is suspended: you cannot post, vote or report. You may ask"
                " for a review from your account page."
            )
            return error_response(request, 403, message)
        staff_must = services.settings.two_factor_for_staff
        if user is not None and permission.roles and needs_second_factor(user, staff_must):
            # Acting for a ministry needs a second factor: set it up first, then come back.
            setup = request.app.url_path_for("two_factor")
            return RedirectResponse(f"{setup}?{urlencode({'next': request.url.path})}", 303)
        now = services.clock()
        consultation = None
        if permission.organisation:
            # Hidden drafts and unknown addresses are not found; another organisation's
            # consultation is refused. Handlers get the consultation checked here.
            slug = str(request.path_params["slug"])
            consultation = await get_consultation(db, slug, user, now)
            if not await acts_for(db, user, consultation):
                return error_response(request, 403)
        context = RequestContext(
            request, services, db, user, now, checked_consultation=consultation
        )
        # A page is the same however often it is read: GET handlers write nothing.
        db.sync_session.info[READ_ONLY] = request.method in SAFE_METHODS
        try:
            response = await endpoint(context)
        except BaseException:
            await db.rollback()
            # Rolled-back objects cannot be read any more; error pages show no account.
            request.state.user = None
            raise
        refused = response.status_code >= 400 and not context.keeps_refusal
        if request.method in SAFE_METHODS or refused:
            await db.rollback()
        else:
            await db.commit()
            await _run_after_commit(context)
        return response


class WriteOnRead(RuntimeError):
    """A GET handler tried to save something (a programming error, never a user's)."""


@event.listens_for(Session, "before_flush")
def _refuse_writes_on_read(session: Session, _context: object, _instances: object) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise WriteOnRead(f"a read-only request would save {len(session.new)} new rows")


async def _run_after_commit(context: RequestContext) -> None:
    # The data is saved; a job that cannot be queued now is picked up by the periodic sweep,
    # so a failure here is logged, never shown to the person who just wrote.
    for action in context.follow_ups:
        try:
            await action()
        except Exception:
            logger.warning("could not enqueue follow-up work after commit", exc_info=True)


def _storable(request: Request) -> bool:
    """Whether the path and query can be used to ask the database: PostgreSQL refuses the NUL
    character in text, so an address holding one names nothing we have."""
    if "\x00" in request.url.path:
        return False
    return not any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    )


def _anonymous_read(request: Request) -> bool:
    """A GET from someone without a session cookie, while the page cache is on."""
    services = services_of(request)
    cookie = session_cookie_name(services.settings)
    return services.page_cache.enabled and request.method == "GET" and cookie not in request.cookies


async def _cached(request: Request, render: Callable[[], Awaitable[Response]]) -> Response:
    """Serve an anonymous page from the cache, or render it and keep it."""
    cache = services_of(request).page_cache
    key = (
        request.url.path,
        request.url.query,
        i18n.get_language(),
        request.headers.get("HX-Request-Type", ""),
    )
    state = request.scope.setdefault("state", {})
    nonce = state.get("csp_nonce", "")
    page = cache.get(key)
    if page is None:
        state["csp_nonce"] = NONCE_PLACEHOLDER
        try:
            response = await render()
        finally:
            state["csp_nonce"] = nonce
        cacheable = (
            response.status_code == 200
            and "set-cookie" not in response.headers
            and response.media_type == "text/html"
        )
        if not cacheable:
            body = bytes(response.body).decode().replace(NONCE_PLACEHOLDER, nonce)
            return Response(body, response.status_code, _headers(response), response.media_type)
        headers = [(k, v) for k, v in response.headers.items() if k != "content-length"]
        cache.put(key, response.status_code, headers, bytes(response.body).decode())
        page = cache.get(key)
        assert page is not None
    return Response(
        page.body.replace(NONCE_PLACEHOLDER, nonce),
        page.status_code,
        dict(page.headers),
        media_type="text/html",
    )


def _headers(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "content-length"}


def route(
    path: str,
    endpoint: Handler,
    permission: Permission,
    methods: Sequence[str] = ("GET",),
    name: str | None = None,
    rate_limit: str | None = None,
    cache: bool = False,
    probe: bool = False,
) -> GuardedRoute:
    """Declare a route with its permission (short form used by route modules)."""
    return GuardedRoute(
        path,
        endpoint,
        permission=permission,
        methods=methods,
        name=name,
        rate_limit=rate_limit,
        cache=cache,
        probe=probe,
    )
