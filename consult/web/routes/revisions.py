"""The next version of the bill (officials), and what changed between versions (everyone)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from consult import i18n
from consult.bills.services import article_alineas, get_version, list_versions
from consult.bills.wording import formal_wording
from consult.consultations.models import Consultation
from consult.consultations.services import get_consultation
from consult.contributions.writing import operation_of
from consult.errors import FormError, NotFound
from consult.revisions.models import VersionDraft
from consult.revisions.redline import as_rows
from consult.revisions.services import (
    accepted_amendments,
    build_draft,
    compare_versions,
    draft_text,
    edit_text,
    open_draft,
    publish_draft,
    redlines_of,
    select_amendments,
)
from consult.web.forms import FormData, read_form, redirect_after_post
from consult.web.permissions import OFFICIAL, PUBLIC
from consult.web.routing import route
from consult.web.templating import render

# The whole text of a bill travels in this form.
MAX_SOURCE_BYTES = 4 * 1024 * 1024


async def _consultation(request: Request) -> Consultation:
    return await get_consultation(
        request.state.db, request.path_params["slug"], request.state.user, request.app.state.clock()
    )


async def _draft_page(
    request: Request,
    consultation: Consultation,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    text_form: bool = False,
    source: str | None = None,
) -> Response:
    db, now = request.state.db, request.app.state.clock()
    draft, version = await open_draft(db, consultation, request.state.user, now)
    base, built, candidates = await build_draft(db, consultation, draft, version)
    alineas = article_alineas(base)
    language = i18n.get_language()
    numbers = {article.key: article.number for article in base.articles()}
    wordings = {
        c.contribution.id: formal_wording(
            operation_of(c.contribution),
            numbers.get(c.contribution.article_key, ""),
            alineas.get(c.contribution.article_key, []),
            language,
        )
        for c in candidates
    }
    redlines = {
        key: as_rows(redline.lines()) for key, redline in built.redlines.items() if redline.changed
    }
    return render(
        request,
        "revisions/text.html" if text_form else "revisions/draft.html",
        {
            "consultation": consultation,
            "version": version,
            "draft": draft,
            "built": built,
            "candidates": candidates,
            "by_id": {c.contribution.id: c for c in candidates},
            "wordings": wordings,
            "numbers": numbers,
            "redlines": redlines,
            "source": source if source is not None else draft_text(draft, built),
            "errors": errors or {},
        },
        status_code=status_code,
    )


async def draft_page(request: Request) -> Response:
    """The accepted amendments to pick, the conflicts to settle, and the text they give."""
    try:
        return await _draft_page(request, await _consultation(request))
    except FormError as error:
        return _refused(request, error)


def _refused(request: Request, error: FormError) -> Response:
    from consult.web.errors import error_response

    return error_response(request, 422, next(iter(error.fields.values())))


def _choices(form: FormData) -> dict[str, int]:
    choices: dict[str, int] = {}
    for name, value in form.items():
        if name.startswith("conflict:") and value.isdigit():
            choices[name.removeprefix("conflict:")] = int(value)
    return choices


async def save_selection(request: Request) -> Response:
    """Keep the amendments picked and the choice made in each conflict."""
    consultation = await _consultation(request)
    db, now = request.state.db, request.app.state.clock()
    form = await read_form(request)
    picked = [int(v) for v in form.every("amendment") if v.isdigit() and len(v) < 12]
    try:
        draft, version = await open_draft(db, consultation, request.state.user, now)
    except FormError as error:
        return _refused(request, error)
    candidates = await accepted_amendments(db, consultation, version)
    select_amendments(draft, candidates, picked, _choices(form), now)
    return redirect_after_post(
        request, str(request.app.url_path_for("version_draft", slug=consultation.slug))
    )


async def text_form(request: Request) -> Response:
    """The text of the next version, to edit by hand."""
    try:
        return await _draft_page(request, await _consultation(request), text_form=True)
    except FormError as error:
        return _refused(request, error)


async def save_text(request: Request) -> Response:
    """Keep the hand-edited text, or show the line the bill reader stopped at (422)."""
    consultation = await _consultation(request)
    db, now = request.state.db, request.app.state.clock()
    form = await read_form(request, max_part_size=MAX_SOURCE_BYTES, allow_nul=True)
    source = form.text("source").replace("\r\n", "\n")
    try:
        draft, _version = await open_draft(db, consultation, request.state.user, now)
    except FormError as error:
        return _refused(request, error)
    try:
        edit_text(draft, source, now)
    except FormError as error:
        return await _draft_page(
            request,
            consultation,
            errors=error.fields,
            status_code=422,
            text_form=True,
            source=source,
        )
    return redirect_after_post(
        request, str(request.app.url_path_for("version_draft", slug=consultation.slug))
    )


async def publish(request: Request) -> Response:
    """Publish the next version; refused with the list while conflicts wait for a decision."""
    consultation = await _consultation(request)
    db, now = request.state.db, request.app.state.clock()
    draft: VersionDraft
    try:
        draft, version = await open_draft(db, consultation, request.state.user, now)
    except FormError as error:
        return _refused(request, error)
    try:
        published = await publish_draft(db, consultation, draft, version, request.state.user, now)
    except FormError as error:
        return await _draft_page(request, consultation, errors=error.fields, status_code=422)
    return redirect_after_post(
        request,
        str(
            request.app.url_path_for(
                "version_changes", slug=consultation.slug, number=published.number
            )
        ),
    )


async def changes(request: Request) -> Response:
    """What changed in a version, word by word, and which amendment or edit changed it."""
    consultation = await _consultation(request)
    db = request.state.db
    version = await get_version(db, consultation, request.path_params["number"])
    if version.number < 2:
        raise NotFound(str(version.number))
    previous = await get_version(db, consultation, version.number - 1)
    comparisons = await compare_versions(db, previous, version)
    redlines = await redlines_of(db, version)
    origins = sorted(
        {
            piece[2]
            for lines in redlines.values()
            for line in lines
            for piece in line
            if isinstance(piece[2], int) and piece[2] > 0
        }
    )
    return render(
        request,
        "revisions/changes.html",
        {
            "consultation": consultation,
            "version": version,
            "previous": previous,
            "comparisons": [c for c in comparisons if c.status != "unchanged"],
            "redlines": redlines,
            "origins": origins,
        },
    )


def _number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 6 else None


async def compare(request: Request) -> Response:
    """Any two versions compared, by article and by word."""
    consultation = await _consultation(request)
    db = request.state.db
    versions = await list_versions(db, consultation)
    if not versions:
        raise NotFound(consultation.slug)
    numbers = [v.number for v in versions]
    older_number = _number(request.query_params.get("from")) or numbers[0]
    newer_number = _number(request.query_params.get("to")) or numbers[-1]
    if older_number not in numbers or newer_number not in numbers:
        raise NotFound(f"{older_number}-{newer_number}")
    by_number = {v.number: v for v in versions}
    older, newer = by_number[older_number], by_number[newer_number]
    comparisons = await compare_versions(db, older, newer)
    return render(
        request,
        "revisions/compare.html",
        {
            "consultation": consultation,
            "versions": versions,
            "older": older,
            "newer": newer,
            "comparisons": [c for c in comparisons if c.status != "unchanged"],
            "unchanged": sum(1 for c in comparisons if c.status == "unchanged"),
        },
    )


NEXT = "/consultations/{slug}/versions/next"

routes = [
    route(NEXT, draft_page, OFFICIAL, name="version_draft"),
    route(NEXT, save_selection, OFFICIAL, ["POST"], name="version_draft_save", rate_limit="post"),
    route(f"{NEXT}/text", text_form, OFFICIAL, name="version_draft_text"),
    route(
        f"{NEXT}/text", save_text, OFFICIAL, ["POST"], name="version_text_save", rate_limit="post"
    ),
    route(
        f"{NEXT}/publish", publish, OFFICIAL, ["POST"], name="version_publish", rate_limit="post"
    ),
    route(
        "/consultations/{slug}/versions/{number:int}/changes",
        changes,
        PUBLIC,
        name="version_changes",
        cache=True,
    ),
    route("/consultations/{slug}/compare", compare, PUBLIC, name="version_compare", cache=True),
]
