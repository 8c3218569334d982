"""Bill import: paste or upload → preview of the tree → publish as the next version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.responses import Response

from consult.bills.parser import MAX_BILL_CHARS, BillParseError, ParsedBill, parse_bill
from consult.bills.services import publish_version
from consult.i18n import gettext as _
from consult.pages.bills import bill_import_page
from consult.web.context import RequestContext
from consult.web.forms import read_form
from consult.web.permissions import CONSULTATION_OFFICIAL
from consult.web.routing import route

# UTF-8 uses up to 4 bytes per character; leave room for the other fields.
MAX_UPLOAD_BYTES = MAX_BILL_CHARS * 4 + 64 * 1024


@dataclass(frozen=True)
class BillSource:
    """The text sent, its format, and what became of reading it."""

    text: str
    format: Literal["markdown", "text"]
    error: str | None = None
    bill: ParsedBill | None = None


async def import_form(ctx: RequestContext) -> Response:
    """The paste-or-upload form."""
    page = await bill_import_page(ctx.db, await ctx.consultation())
    return ctx.render("bills/import.html", page)


async def _read_bill(ctx: RequestContext) -> BillSource:
    """The pasted or uploaded text, parsed, or the reason it could not be."""
    form = await read_form(ctx.request, max_part_size=MAX_UPLOAD_BYTES, allow_nul=True)
    source_format: Literal["markdown", "text"] = (
        "text" if form.text("format") == "text" else "markdown"
    )
    text = form.text("source")
    upload = form.uploads.get("file")
    if upload is not None:
        name = upload.filename.lower()
        if name.endswith(".txt"):
            source_format = "text"
        elif name.endswith((".md", ".markdown")):
            source_format = "markdown"
        try:
            text = upload.content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            message = _(
                "The file is not valid UTF-8 text (byte {position}). "
                "Save it as UTF-8 and try again."
            ).format(position=exc.start + 1)
            return BillSource("", source_format, message)
    try:
        return BillSource(text, source_format, bill=parse_bill(text, format=source_format))
    except BillParseError as parse_error:
        return BillSource(text, source_format, str(parse_error))


async def preview(ctx: RequestContext) -> Response:
    """Parse the text and show its tree, or the error with its line."""
    return await _parse_then(ctx, publish=False)


async def publish(ctx: RequestContext) -> Response:
    """Parse again (never trust a preview) and publish the next version."""
    return await _parse_then(ctx, publish=True)


async def _parse_then(ctx: RequestContext, *, publish: bool) -> Response:
    consultation = await ctx.consultation()
    source = await _read_bill(ctx)
    if source.bill is None or not publish:
        page = await bill_import_page(
            ctx.db,
            consultation,
            source=source.text,
            source_format=source.format,
            error=source.error,
            bill=source.bill,
        )
        status_code = 422 if source.bill is None else 200
        return ctx.render("bills/import.html", page, block="bill_import", status_code=status_code)
    version = await publish_version(
        ctx.db,
        consultation,
        source.bill,
        source_text=source.text,
        source_format=source.format,
        published_by=ctx.member,
    )
    url = ctx.url_for("consultation", slug=consultation.slug)
    return ctx.redirect(f"{url}?published={version.number}")


routes = [
    route(
        "/consultations/{slug}/bill/import",
        import_form,
        CONSULTATION_OFFICIAL,
        name="bill_import_form",
    ),
    route(
        "/consultations/{slug}/bill/preview",
        preview,
        CONSULTATION_OFFICIAL,
        methods=["POST"],
        name="bill_preview",
    ),
    route(
        "/consultations/{slug}/bill/versions",
        publish,
        CONSULTATION_OFFICIAL,
        methods=["POST"],
        name="bill_publish",
    ),
]
