"""Error pages: a clear message in the reader's language, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from consult.errors import Forbidden, NotFound
from consult.i18n import gettext as _

logger = logging.getLogger("consult.web")


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Access denied"), _("You are not allowed to do this.")),
        404: (_("Page not found"), _("There is nothing at this address.")),
        405: (_("Method not allowed"), _("This address does not accept this kind of request.")),
        413: (_("Too large"), _("What you sent is larger than we accept.")),
        429: (
            _("Too many requests"),
            _("You have sent too many requests in a short time. Please wait a minute and retry."),
        ),
        503: (
            _("Temporarily unavailable"),
            _(
                "The site cannot reach its data for a moment. Please try again in a few "
                "seconds. If you had sent a form, check whether it was saved before sending it "
                "again."
            ),
        ),
        500: (
            _("Something went wrong"),
            _("An unexpected error occurred. Nothing you had saved is lost; please try again."),
        ),
    }


def error_response(
    request: Request,
    status_code: int,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render the error page (or its fragment for htmx) with `status_code`."""
    from consult.web.templating import render  # avoid an import cycle at module load

    title, message = _messages().get(status_code, _messages()[400 if status_code < 500 else 500])
    try:
        return render(
            request,
            "errors/error.html",
            {"status_code": status_code, "title": title, "message": detail or message},
            block="error",
            status_code=status_code,
            headers=headers,
        )
    except Exception:  # the error page itself must never fail
        logger.exception("error page failed to render")
        return HTMLResponse(f"<h1>{status_code}</h1>", status_code=status_code)


# Seconds a client is asked to wait before trying again while the database or Redis is out of
# reach: long enough not to hammer a restarting server, short enough for a reader to retry.
RETRY_AFTER_SECONDS = 5
API_PREFIX = "/api/"


def unavailable_response(request: Request) -> Response:
    """503 with `Retry-After`: a page in the reader's language, JSON on the API. The page says
    nothing of what failed (`/readyz` tells operators)."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.url.path.startswith(API_PREFIX):
        return JSONResponse(
            {"error": "temporarily unavailable, try again later"}, status_code=503, headers=headers
        )
    return error_response(request, 503, headers=headers)


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette HTTP errors (404 for unknown paths, 405...) as pages."""
    assert isinstance(exc, HTTPException)
    return error_response(request, exc.status_code, headers=exc.headers)


async def not_found_handler(request: Request, exc: Exception) -> Response:
    """A domain object that does not exist is a 404 page."""
    return error_response(request, 404)


async def forbidden_handler(request: Request, exc: Exception) -> Response:
    """A domain permission refusal is a 403 page."""
    return error_response(request, 403)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """Log the traceback for operators; show people a calm page."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500)


EXCEPTION_HANDLERS = {
    HTTPException: http_exception_handler,
    NotFound: not_found_handler,
    Forbidden: forbidden_handler,
    Exception: server_error_handler,
}
