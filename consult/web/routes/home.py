"""Home page, language switch, health check."""

from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from consult.consultations.services import list_consultations
from consult.web.forms import read_form, safe_next
from consult.web.middleware import LANGUAGE_COOKIE
from consult.web.permissions import PUBLIC
from consult.web.routing import route
from consult.web.templating import render


async def home(request: Request) -> Response:
    """The consultations, newest first."""
    consultations = await list_consultations(
        request.state.db, request.state.user, request.app.state.clock()
    )
    return render(request, "home.html", {"consultations": consultations}, block="consultations")


async def change_language(request: Request) -> Response:
    """Remember the reader's language and go back to the page they were on."""
    form = await read_form(request)
    language = form.text("language")
    response = RedirectResponse(safe_next(form.text("next")), status_code=303)
    if language in request.app.state.settings.languages:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 86400,
            path="/",
            secure=request.app.state.settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )
    return response


async def health(request: Request) -> Response:
    """For load balancers: the process answers and the database is reachable."""
    await request.state.db.execute(text("SELECT 1"))
    return JSONResponse({"status": "ok"})


routes = [
    route("/", home, PUBLIC, cache=True),
    route("/language", change_language, PUBLIC, methods=["POST"]),
    route("/healthz", health, PUBLIC),
]
