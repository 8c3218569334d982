"""Home page, language switch, health probes, metrics."""

from __future__ import annotations

from starlette.responses import JSONResponse, RedirectResponse, Response

from consult.pages.consultations import home_page
from consult.web.context import RequestContext
from consult.web.forms import read_form, safe_next
from consult.web.middleware import LANGUAGE_COOKIE
from consult.web.observability import metrics_response
from consult.web.permissions import PUBLIC
from consult.web.readiness import OK, readiness
from consult.web.routing import route


async def home(ctx: RequestContext) -> Response:
    """The consultations, newest first."""
    page = await home_page(ctx.db, ctx.user, ctx.now)
    return ctx.render("home.html", page, block="consultations")


async def change_language(ctx: RequestContext) -> Response:
    """Remember the reader's language and go back to the page they were on."""
    form = await read_form(ctx.request)
    language = form.text("language")
    response = RedirectResponse(safe_next(form.text("next")), status_code=303)
    if language in ctx.settings.languages:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 86400,
            path="/",
            secure=ctx.settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )
    return response


async def health(ctx: RequestContext) -> Response:
    """Liveness: the process answers (nothing else is asked, the database least of all)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def ready(ctx: RequestContext) -> Response:
    """Readiness: the database and Redis (when configured) answer; 503 naming those that
    do not."""
    services = await readiness(ctx.services)
    answering = all(state == OK for state in services.values())
    return JSONResponse(
        {"status": "ok" if answering else "unavailable", **services},
        status_code=200 if answering else 503,
        headers={"Cache-Control": "no-store"},
    )


async def metrics(ctx: RequestContext) -> Response:
    """Prometheus metrics, for the monitoring only (its token, or loopback): 404 for anyone
    else."""
    return await metrics_response(ctx.request, ctx.services, ctx.db)


routes = [
    route("/", home, PUBLIC, cache=True),
    route("/language", change_language, PUBLIC, methods=["POST"]),
    route("/healthz", health, PUBLIC, probe=True),
    route("/readyz", ready, PUBLIC, probe=True),
    route("/metrics", metrics, PUBLIC, probe=True),
]
