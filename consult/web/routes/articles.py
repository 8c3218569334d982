"""Article pages: numbered alinéas, breadcrumb, previous and next."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from consult.bills.services import get_article_page, get_version
from consult.consultations.services import accepts_contributions, get_consultation
from consult.web.permissions import PUBLIC
from consult.web.routing import route
from consult.web.templating import render


async def show(request: Request) -> Response:
    """One article of the latest version, or of `?version=N`."""
    db, now = request.state.db, request.app.state.clock()
    consultation = await get_consultation(db, request.path_params["slug"], request.state.user, now)
    raw_version = request.query_params.get("version")
    if raw_version is not None and not raw_version.isdigit():
        raise HTTPException(404)
    version = await get_version(db, consultation, int(raw_version) if raw_version else None)
    page = await get_article_page(db, version, request.path_params["key"])
    return render(
        request,
        "articles/show.html",
        {
            "consultation": consultation,
            "page": page,
            "is_open": accepts_contributions(consultation, now),
            "phase": consultation.phase_at(now),
        },
        block="article",
    )


routes = [route("/consultations/{slug}/articles/{key}", show, PUBLIC, name="article")]
