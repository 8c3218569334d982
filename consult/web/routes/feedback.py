"""What became of the contributions: the public feedback page and each citizen's own list."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from consult.answers.feedback import consultation_feedback, my_contributions
from consult.bills.services import article_provisions, latest_version
from consult.consultations.services import get_consultation
from consult.revisions.services import redlines_of
from consult.web.permissions import AUTHENTICATED, PUBLIC
from consult.web.routing import route
from consult.web.templating import render


async def feedback(request: Request) -> Response:
    """Per article, the answers with their reasons and the counts a parliament can cite."""
    db, now = request.state.db, request.app.state.clock()
    consultation = await get_consultation(db, request.path_params["slug"], request.state.user, now)
    version = await latest_version(db, consultation)
    articles = await article_provisions(db, version) if version else {}
    return render(
        request,
        "feedback/show.html",
        {
            "consultation": consultation,
            "version": version,
            "articles": articles,
            "feedback": await consultation_feedback(db, consultation, list(articles)),
            "redlines": await redlines_of(db, version) if version and version.number > 1 else {},
            "phase": consultation.phase_at(now),
        },
    )


async def mine(request: Request) -> Response:
    """The contributions of the person logged in, each with what became of it."""
    raw = request.query_params.get("page", "1")
    page = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    return render(
        request,
        "feedback/mine.html",
        {"listing": await my_contributions(request.state.db, request.state.user.id, page)},
    )


routes = [
    route("/consultations/{slug}/feedback", feedback, PUBLIC, name="feedback", cache=True),
    route("/account/contributions", mine, AUTHENTICATED, name="my_contributions"),
]
