"""The next version of the bill (officials), and what changed between versions (everyone)."""

from __future__ import annotations

from starlette.responses import Response

from consult.errors import FormError
from consult.input import whole_number
from consult.pages.revisions import changes_page, compare_page, confirm_page, draft_page
from consult.revisions.services import (
    AlreadyPublished,
    ConflictsUnresolved,
    choose_amendments,
    edit_draft_text,
    publish_next_version,
)
from consult.web.context import RequestContext
from consult.web.forms import FormData, read_form, with_query
from consult.web.permissions import CONSULTATION_OFFICIAL, PUBLIC
from consult.web.routing import route

# The whole text of a bill travels in this form.
MAX_SOURCE_BYTES = 4 * 1024 * 1024


async def show_draft(ctx: RequestContext) -> Response:
    """The accepted amendments to pick, the conflicts to settle, and the text they give."""
    try:
        page = await draft_page(ctx.db, await ctx.consultation(), ctx.member, ctx.now)
    except FormError as error:
        return ctx.error(422, error.first_message)
    return ctx.render("revisions/draft.html", page)


async def _refused(
    ctx: RequestContext, template: str, error: FormError, source: str | None = None
) -> Response:
    """The draft shown again with why the request was refused (422); an error page when
    there is no draft to show (no bill yet)."""
    try:
        page = await draft_page(
            ctx.db,
            await ctx.consultation(),
            ctx.member,
            ctx.now,
            errors=error.fields,
            source=source,
        )
    except FormError:
        return ctx.error(422, error.first_message)
    return ctx.render(template, page, status_code=422)


async def _not_published(ctx: RequestContext, reason: str, error: FormError) -> Response:
    """The confirmation shown again with why publishing was refused (422)."""
    try:
        page = await confirm_page(
            ctx.db,
            await ctx.consultation(),
            ctx.member,
            ctx.now,
            reason=reason,
            errors=error.fields,
        )
    except FormError:
        return ctx.error(422, error.first_message)
    return ctx.render("revisions/confirm.html", page, status_code=422)


def _choices(form: FormData) -> dict[str, int]:
    """The amendment chosen in each conflict (fields ``conflict:<key>``)."""
    choices: dict[str, int] = {}
    for name in form:
        chosen = form.number(name)
        if name.startswith("conflict:") and chosen is not None:
            choices[name.removeprefix("conflict:")] = chosen
    return choices


async def save_selection(ctx: RequestContext) -> Response:
    """Keep the amendments picked and the choice made in each conflict."""
    consultation = await ctx.consultation()
    form = await read_form(ctx.request)
    picked, choices = form.numbers("amendment"), _choices(form)
    try:
        await choose_amendments(ctx.db, consultation, ctx.member, ctx.now, picked, choices)
    except FormError as error:
        return ctx.error(422, error.first_message)
    # "Review and publish" sends the picks and choices too: they are kept before going on.
    then = "version_publish_confirm" if form.text("then") == "confirm" else "version_draft"
    return ctx.redirect(ctx.url_for(then, slug=consultation.slug))


async def confirm_form(ctx: RequestContext) -> Response:
    """What publishing will change and whom it concerns, with the final button."""
    try:
        page = await confirm_page(ctx.db, await ctx.consultation(), ctx.member, ctx.now)
    except FormError as error:
        return ctx.error(422, error.first_message)
    return ctx.render("revisions/confirm.html", page)


async def text_form(ctx: RequestContext) -> Response:
    """The text of the next version, to edit by hand."""
    try:
        page = await draft_page(ctx.db, await ctx.consultation(), ctx.member, ctx.now)
    except FormError as error:
        return ctx.error(422, error.first_message)
    return ctx.render("revisions/text.html", page)


async def save_text(ctx: RequestContext) -> Response:
    """Keep the hand-edited text, or show the line the bill reader stopped at (422)."""
    consultation = await ctx.consultation()
    form = await read_form(ctx.request, max_part_size=MAX_SOURCE_BYTES, allow_nul=True)
    source = form.text("source").replace("\r\n", "\n")
    try:
        await edit_draft_text(ctx.db, consultation, ctx.member, ctx.now, source)
    except FormError as error:
        return await _refused(ctx, "revisions/text.html", error, source)
    return ctx.redirect(ctx.url_for("version_draft", slug=consultation.slug))


async def publish(ctx: RequestContext) -> Response:
    """Publish the next version; refused with the list while conflicts wait for a decision."""
    consultation, form = await ctx.consultation(), await read_form(ctx.request)
    number, reason = form.number("number"), form.text("reason")
    try:
        published = await publish_next_version(
            ctx.db, consultation, ctx.member, ctx.now, number, reason
        )
    except AlreadyPublished as earlier:
        url = ctx.url_for("version_changes", slug=consultation.slug, number=earlier.version.number)
        return ctx.redirect(with_query(url, already="1"))
    except ConflictsUnresolved as error:
        return await _refused(ctx, "revisions/draft.html", error)
    except FormError as error:
        return await _not_published(ctx, reason, error)
    url = ctx.url_for("version_changes", slug=consultation.slug, number=published.number)
    return ctx.redirect(url)


async def changes(ctx: RequestContext) -> Response:
    """What changed in a version, word by word, and which amendment or edit changed it."""
    number, already = ctx.path_id("number"), bool(ctx.query.get("already"))
    page = await changes_page(ctx.db, await ctx.consultation(), number, already_published=already)
    return ctx.render("revisions/changes.html", page)


async def compare(ctx: RequestContext) -> Response:
    """Any two versions compared, by article and by word."""
    older = whole_number(ctx.query.get("from"), digits=5)
    newer = whole_number(ctx.query.get("to"), digits=5)
    page = await compare_page(ctx.db, await ctx.consultation(), older, newer)
    return ctx.render("revisions/compare.html", page)


NEXT = "/consultations/{slug}/versions/next"

routes = [
    route(NEXT, show_draft, CONSULTATION_OFFICIAL, name="version_draft"),
    route(
        NEXT,
        save_selection,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="version_draft_save",
        rate_limit="post",
    ),
    route(f"{NEXT}/text", text_form, CONSULTATION_OFFICIAL, name="version_draft_text"),
    route(
        f"{NEXT}/text",
        save_text,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="version_text_save",
        rate_limit="post",
    ),
    route(f"{NEXT}/publish", confirm_form, CONSULTATION_OFFICIAL, name="version_publish_confirm"),
    route(
        f"{NEXT}/publish",
        publish,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="version_publish",
        rate_limit="post",
    ),
    route(
        "/consultations/{slug}/versions/{number:id}/changes",
        changes,
        PUBLIC,
        name="version_changes",
        cache=True,
    ),
    route("/consultations/{slug}/compare", compare, PUBLIC, name="version_compare", cache=True),
]
