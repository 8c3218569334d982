"""Bill import: paste or upload → preview of the tree → publish as the next version."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from consult.bills.parser import MAX_BILL_CHARS, BillParseError, ParsedBill, parse_bill
from consult.bills.services import latest_version, publish_version
from consult.consultations.services import get_consultation
from consult.i18n import gettext as _
from consult.web.forms import read_form, redirect_after_post
from consult.web.permissions import OFFICIAL
from consult.web.routing import route
from consult.web.templating import render

FORMATS = ("markdown", "text")
# UTF-8 uses up to 4 bytes per character; leave room for the other fields.
MAX_UPLOAD_BYTES = MAX_BILL_CHARS * 4 + 64 * 1024


async def import_form(request: Request) -> Response:
    """The paste-or-upload form."""
    db = request.state.db
    consultation = await get_consultation(
        db, request.path_params["slug"], request.state.user, request.app.state.clock()
    )
    return render(
        request,
        "bills/import.html",
        {
            "consultation": consultation,
            "latest": await latest_version(db, consultation),
            "source": "",
            "format": "markdown",
            "error": None,
            "bill": None,
        },
    )


async def _read_bill_source(request: Request) -> tuple[str, str, str | None]:
    """The pasted or uploaded text, its format, and an error message if unreadable."""
    form = await read_form(request, max_part_size=MAX_UPLOAD_BYTES, allow_nul=True)
    source_format = form.text("format", "markdown")
    if source_format not in FORMATS:
        source_format = "markdown"
    upload = form.uploads.get("file")
    if upload is not None:
        raw = upload.content
        if upload.filename.lower().endswith(".txt"):
            source_format = "text"
        elif upload.filename.lower().endswith((".md", ".markdown")):
            source_format = "markdown"
        try:
            return raw.decode("utf-8-sig"), source_format, None
        except UnicodeDecodeError as exc:
            return (
                "",
                source_format,
                _(
                    "The file is not valid UTF-8 text (byte {position}). "
                    "Save it as UTF-8 and try again."
                ).format(position=exc.start + 1),
            )
    return form.text("source"), source_format, None


async def preview(request: Request) -> Response:
    """Parse the text and show its tree, or the error with its line."""
    return await _parse_then(request, publish=False)


async def publish(request: Request) -> Response:
    """Parse again (never trust a preview) and publish the next version."""
    return await _parse_then(request, publish=True)


async def _parse_then(request: Request, *, publish: bool) -> Response:
    db = request.state.db
    consultation = await get_consultation(
        db, request.path_params["slug"], request.state.user, request.app.state.clock()
    )
    source, source_format, error = await _read_bill_source(request)
    bill: ParsedBill | None = None
    if error is None:
        try:
            bill = parse_bill(source, format=_format(source_format))
        except BillParseError as parse_error:
            error = str(parse_error)
    if bill is None or not publish:
        return render(
            request,
            "bills/import.html",
            {
                "consultation": consultation,
                "latest": await latest_version(db, consultation),
                "source": source,
                "format": source_format,
                "error": error,
                "bill": bill,
            },
            block="bill_import",
            status_code=422 if bill is None else 200,
        )
    version = await publish_version(
        db,
        consultation,
        bill,
        source_text=source,
        source_format=source_format,
        published_by=request.state.user,
    )
    return redirect_after_post(
        request,
        str(request.app.url_path_for("consultation", slug=consultation.slug))
        + f"?published={version.number}",
    )


def _format(value: str) -> Literal["markdown", "text"]:
    return "text" if value == "text" else "markdown"


routes = [
    route("/consultations/{slug}/bill/import", import_form, OFFICIAL, name="bill_import_form"),
    route(
        "/consultations/{slug}/bill/preview",
        preview,
        OFFICIAL,
        methods=["POST"],
        name="bill_preview",
    ),
    route(
        "/consultations/{slug}/bill/versions",
        publish,
        OFFICIAL,
        methods=["POST"],
        name="bill_publish",
    ),
]
