"""Consultation pages: create, show, exposé des motifs."""

from __future__ import annotations

from starlette.responses import Response

from consult.consultations.services import create_consultation, read_schedule
from consult.errors import FormError
from consult.input import whole_number
from consult.pages.consultations import ConsultationForm, consultation_page, memorandum_page
from consult.web.context import RequestContext
from consult.web.forms import read_form
from consult.web.permissions import OFFICIAL, PUBLIC
from consult.web.routing import route


async def show(ctx: RequestContext) -> Response:
    """Summary, timeline and table of contents of a consultation."""
    consultation = await ctx.consultation()
    published = whole_number(ctx.query.get("published"))
    page = await consultation_page(ctx.db, consultation, ctx.now, published, ctx.user)
    return ctx.render("consultations/show.html", page)


async def memorandum(ctx: RequestContext) -> Response:
    """The exposé des motifs of the latest version."""
    page = await memorandum_page(ctx.db, await ctx.consultation())
    return ctx.render("consultations/memorandum.html", page)


async def new_form(ctx: RequestContext) -> Response:
    """Form to create a consultation."""
    return ctx.render("consultations/new.html", ConsultationForm())


async def create(ctx: RequestContext) -> Response:
    """Create a consultation, then go to its bill import."""
    form = await read_form(ctx.request)
    phase_starts, date_errors = read_schedule(form)
    try:
        consultation = await create_consultation(
            ctx.db,
            slug=form.text("slug"),
            title=form.text("title"),
            summary=form.text("summary"),
            ministry=form.text("ministry"),
            owner=ctx.member,
            phase_starts=phase_starts,
            input_errors=date_errors,
        )
    except FormError as error:
        shown = ConsultationForm(dict(form), error.fields)
        return ctx.render(
            "consultations/new.html", shown, block="consultation_form", status_code=422
        )
    return ctx.redirect(ctx.url_for("bill_import_form", slug=consultation.slug))


routes = [
    route("/consultations/new", new_form, OFFICIAL, name="consultation_new"),
    route("/consultations", create, OFFICIAL, methods=["POST"], name="consultation_create"),
    route("/consultations/{slug}", show, PUBLIC, name="consultation", cache=True),
    route("/consultations/{slug}/motifs", memorandum, PUBLIC, name="memorandum", cache=True),
]
