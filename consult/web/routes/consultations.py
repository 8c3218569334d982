"""Consultation pages: list, create, show, exposé des motifs."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from consult.bills.services import count_articles, latest_version, list_versions, table_of_contents
from consult.consultations.models import PHASE_ORDER, Phase
from consult.consultations.services import (
    accepts_contributions,
    create_consultation,
    get_consultation,
)
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.web.formatting import DISPLAY_TIMEZONE
from consult.web.forms import read_form, redirect_after_post
from consult.web.permissions import OFFICIAL, PUBLIC
from consult.web.routing import route
from consult.web.templating import render

SCHEDULED_PHASES = [phase for phase in PHASE_ORDER if phase is not Phase.DRAFT]


async def show(request: Request) -> Response:
    """Summary, timeline and table of contents of a consultation."""
    db, now = request.state.db, request.app.state.clock()
    consultation = await get_consultation(db, request.path_params["slug"], request.state.user, now)
    version = await latest_version(db, consultation)
    return render(
        request,
        "consultations/show.html",
        {
            "consultation": consultation,
            "phase": consultation.phase_at(now),
            "phases": PHASE_ORDER,
            "is_open": accepts_contributions(consultation, now),
            "version": version,
            "versions": await list_versions(db, consultation) if version else [],
            "toc": await table_of_contents(db, version) if version else [],
            "article_count": await count_articles(db, version) if version else 0,
        },
    )


async def memorandum(request: Request) -> Response:
    """The exposé des motifs of the latest version."""
    db, now = request.state.db, request.app.state.clock()
    consultation = await get_consultation(db, request.path_params["slug"], request.state.user, now)
    version = await latest_version(db, consultation)
    return render(
        request,
        "consultations/memorandum.html",
        {"consultation": consultation, "version": version},
    )


async def new_form(request: Request) -> Response:
    """Form to create a consultation."""
    return render(
        request,
        "consultations/new.html",
        {"form": {}, "errors": {}, "phases": SCHEDULED_PHASES},
    )


async def create(request: Request) -> Response:
    """Create a consultation, then go to its bill import."""
    form = await read_form(request)
    errors: dict[str, str] = {}
    phase_starts: dict[Phase, datetime] = {}
    for phase in SCHEDULED_PHASES:
        raw = form.text(phase.value).strip()
        if not raw:
            continue
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            errors[phase.value] = _("Enter a date and time such as 2027-03-01 09:00.")
            continue
        if local.tzinfo is None:
            local = local.replace(tzinfo=DISPLAY_TIMEZONE)
        phase_starts[phase] = local.astimezone(UTC)
    try:
        if errors:
            raise FormError(errors)
        consultation = await create_consultation(
            request.state.db,
            slug=form.text("slug"),
            title=form.text("title"),
            summary=form.text("summary"),
            ministry=form.text("ministry"),
            owner=request.state.user,
            phase_starts=phase_starts,
        )
    except FormError as error:
        return render(
            request,
            "consultations/new.html",
            {"form": dict(form), "errors": {**errors, **error.fields}, "phases": SCHEDULED_PHASES},
            block="consultation_form",
            status_code=422,
        )
    return redirect_after_post(
        request, str(request.app.url_path_for("bill_import_form", slug=consultation.slug))
    )


routes = [
    route("/consultations/new", new_form, OFFICIAL, name="consultation_new"),
    route("/consultations", create, OFFICIAL, methods=["POST"], name="consultation_create"),
    route("/consultations/{slug}", show, PUBLIC, name="consultation", cache=True),
    route("/consultations/{slug}/motifs", memorandum, PUBLIC, name="memorandum", cache=True),
]
