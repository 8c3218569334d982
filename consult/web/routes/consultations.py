"""Consultation pages: create, show, exposé des motifs."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response

from consult.consultations.models import ConsultationKind
from consult.consultations.services import (
    create_consultation,
    read_schedule,
    update_consultation,
)
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.input import whole_number
from consult.organisations.models import Organisation
from consult.organisations.services import organisations_for_new_consultation
from consult.pages.consultations import (
    ConsultationForm,
    consultation_page,
    edit_form,
    memorandum_page,
)
from consult.pages.dashboard import dashboard_page
from consult.web.context import RequestContext
from consult.web.forms import read_form, with_query
from consult.web.permissions import CONSULTATION_OFFICIAL, OFFICIAL, PUBLIC
from consult.web.routing import route


async def show(ctx: RequestContext) -> Response:
    """Summary, timeline and table of contents of a consultation."""
    consultation = await ctx.consultation()
    published = whole_number(ctx.query.get("published"))
    official = await ctx.is_official_of(consultation)
    moderator = official or await ctx.is_moderator_of(consultation)
    page = await consultation_page(
        ctx.db, consultation, ctx.now, published, is_official=official, is_moderator=moderator
    )
    return ctx.render("consultations/show.html", page)


async def memorandum(ctx: RequestContext) -> Response:
    """The exposé des motifs of the latest version."""
    page = await memorandum_page(ctx.db, await ctx.consultation())
    return ctx.render("consultations/memorandum.html", page)


async def dashboard(ctx: RequestContext) -> Response:
    """What waits for the consultation's officials, each with its action."""
    saved = bool(ctx.query.get("saved"))
    page = await dashboard_page(ctx.db, await ctx.consultation(), ctx.member, ctx.now, saved=saved)
    return ctx.render("consultations/dashboard.html", page)


async def edit(ctx: RequestContext) -> Response:
    """The form that edits the consultation's title, summary, ministry and schedule."""
    return ctx.render("consultations/edit.html", edit_form(await ctx.consultation()))


async def update(ctx: RequestContext) -> Response:
    """Save the edit under the rules of creation, or show the form again with its errors."""
    consultation, form = await ctx.consultation(), await read_form(ctx.request)
    phase_starts, input_errors = read_schedule(form)
    try:
        await update_consultation(
            ctx.db,
            consultation,
            title=form.text("title"),
            summary=form.text("summary"),
            ministry=form.text("ministry"),
            phase_starts=phase_starts,
            actor=ctx.member,
            participation_requires=whole_number(form.text("participation_requires")),
            input_errors=input_errors,
        )
    except FormError as error:
        shown = edit_form(consultation, dict(form), error.fields)
        return ctx.render("consultations/edit.html", shown, block="edit_form", status_code=422)
    url = ctx.url_for("consultation_dashboard", slug=consultation.slug)
    return ctx.redirect(with_query(url, saved="1"))


async def new_form(ctx: RequestContext) -> Response:
    """Form to create a consultation, for one of the organisations this person acts for."""
    choices = await organisations_for_new_consultation(ctx.db, ctx.member)
    return ctx.render("consultations/new.html", ConsultationForm(organisations=choices))


def _chosen(
    slug: str, choices: Sequence[Organisation], errors: dict[str, str]
) -> Organisation | None:
    """The organisation picked among `choices` (the only one when nothing was picked), or
    None with the reason added to `errors`."""
    organisation = next((o for o in choices if o.slug == slug), None)
    if organisation is None and len(choices) == 1 and not slug:
        return choices[0]
    if organisation is None:
        errors["organisation"] = (
            _("Choose the organisation that holds the consultation.")
            if choices
            else _("Your account is not a member of any organisation yet.")
        )
    return organisation


async def create(ctx: RequestContext) -> Response:
    """Create a consultation for an organisation this person acts for (theirs when they have
    one), then go to the import of its bill or of its questions."""
    form = await read_form(ctx.request)
    choices = await organisations_for_new_consultation(ctx.db, ctx.member)
    phase_starts, input_errors = read_schedule(form)
    organisation = _chosen(form.text("organisation"), choices, input_errors)
    try:
        consultation = await create_consultation(
            ctx.db,
            slug=form.text("slug"),
            title=form.text("title"),
            summary=form.text("summary"),
            ministry=form.text("ministry"),
            owner=ctx.member,
            phase_starts=phase_starts,
            organisation=organisation,
            participation_requires=whole_number(form.text("participation_requires")) or 0,
            input_errors=input_errors,
            kind=form.text("kind") or ConsultationKind.BILL,
        )
    except FormError as error:
        shown = ConsultationForm(dict(form), error.fields, organisations=choices)
        return ctx.render(
            "consultations/new.html", shown, block="consultation_form", status_code=422
        )
    first_step = (
        "questionnaire_import_form" if consultation.is_questionnaire else "bill_import_form"
    )
    return ctx.redirect(ctx.url_for(first_step, slug=consultation.slug))


routes = [
    route("/consultations/new", new_form, OFFICIAL, name="consultation_new"),
    route("/consultations", create, OFFICIAL, methods=["POST"], name="consultation_create"),
    route("/consultations/{slug}", show, PUBLIC, name="consultation", cache=True),
    route("/consultations/{slug}/motifs", memorandum, PUBLIC, name="memorandum", cache=True),
    route(
        "/consultations/{slug}/dashboard",
        dashboard,
        CONSULTATION_OFFICIAL,
        name="consultation_dashboard",
    ),
    route("/consultations/{slug}/edit", edit, CONSULTATION_OFFICIAL, name="consultation_edit"),
    route(
        "/consultations/{slug}/edit",
        update,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="consultation_update",
        rate_limit="post",
    ),
]
