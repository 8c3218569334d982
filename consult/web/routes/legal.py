"""The legal pages, and their writing by administrators."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import Response

from consult.errors import FormError
from consult.i18n import get_language
from consult.legal.services import (
    LANGUAGES,
    LegalPageKey,
    page_title,
    texts_by_language,
    write_page,
    written_text,
)
from consult.pages.legal import LegalPageForm, LegalPageView
from consult.web.context import RequestContext
from consult.web.forms import read_form, with_query
from consult.web.permissions import ADMIN, PUBLIC
from consult.web.routing import route


def _key(ctx: RequestContext) -> LegalPageKey:
    try:
        return LegalPageKey(ctx.path("page_key"))
    except ValueError as unknown:
        raise HTTPException(404) from unknown


async def legal_page(ctx: RequestContext) -> Response:
    """A legal page, in the reader's language where it was written in it."""
    key = _key(ctx)
    language = get_language()
    written = await written_text(ctx.db, key, language)
    page = LegalPageView(
        key=key.value,
        title=page_title(key),
        written=written.body if written else None,
        updated_at=written.updated_at if written else None,
        default_template=f"legal/defaults/{key.value}.{language}.html",
        session_days=ctx.settings.session_absolute_days,
        inactive_account_days=ctx.settings.inactive_account_days,
        sends_email=ctx.settings.sends_email,
    )
    return ctx.render("legal/page.html", page)


async def legal_page_form(ctx: RequestContext) -> Response:
    """The page's text in each language, to write or correct."""
    key = _key(ctx)
    bodies = await texts_by_language(ctx.db, key)
    page = LegalPageForm(key.value, page_title(key), bodies, saved=bool(ctx.query.get("saved")))
    return ctx.render("legal/form.html", page)


async def write_legal_page(ctx: RequestContext) -> Response:
    """Save the page (recorded in the audit log)."""
    key = _key(ctx)
    form = await read_form(ctx.request)
    bodies = {language: form.text(f"body_{language}") for language in LANGUAGES}
    try:
        await write_page(ctx.db, key, bodies, ctx.member.id, ctx.now)
    except FormError as error:
        page = LegalPageForm(key.value, page_title(key), bodies, error.fields)
        return ctx.render("legal/form.html", page, status_code=422)
    return ctx.redirect(with_query(ctx.url_for("legal_page_form", page_key=key.value), saved="1"))


routes = [
    route("/legal/{page_key}", legal_page, PUBLIC),
    route("/admin/legal/{page_key}", legal_page_form, ADMIN),
    route("/admin/legal/{page_key}", write_legal_page, ADMIN, ["POST"]),
]
