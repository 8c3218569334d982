"""Questionnaires: answering (once, edited while open), importing the questions, the results,
and importing answers collected elsewhere."""

from __future__ import annotations

from typing import Literal

from starlette.responses import Response

from consult.consultations.models import Consultation
from consult.consultations.services import accepts_contributions
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.jobs import embed_contribution
from consult.pages.questionnaires import (
    answers_import_page,
    questionnaire_import_page,
    questionnaire_page,
    results_page,
)
from consult.questionnaires.answers_import import import_answers
from consult.questionnaires.format import (
    MAX_SOURCE_CHARS,
    ParsedQuestionnaire,
    QuestionnaireParseError,
    parse_questionnaire,
)
from consult.questionnaires.services import (
    ResponseConflict,
    load_questionnaire,
    publish_questionnaire,
    read_given,
    save_response,
)
from consult.web.antispam import form_token, sent_by_a_person
from consult.web.context import RequestContext
from consult.web.forms import FormData, read_form
from consult.web.permissions import CONSULTATION_OFFICIAL, PARTICIPANT, PUBLIC
from consult.web.routing import route

QUESTIONNAIRE = "/consultations/{slug}/questionnaire"
MAX_UPLOAD_BYTES = MAX_SOURCE_CHARS * 4 + 64 * 1024
MAX_CSV_BYTES = 64 * 1024 * 1024


async def _page(
    ctx: RequestContext,
    consultation: Consultation,
    *,
    form: FormData | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    page = await questionnaire_page(
        ctx.db,
        consultation,
        ctx.user,
        consultation.phase_at(ctx.now),
        is_official=await ctx.is_official_of(consultation),
        now_open=accepts_contributions(consultation, ctx.now),
        sent=None if form is None else {k: form.every(k) or [v] for k, v in form.items()},
        # After a conflict the form carries the saved revision: sending it again replaces it.
        revision=None if form is None or status_code == 409 else form.number("revision") or 0,
        errors=errors,
        saved_now=ctx.query.get("saved") == "1",
        form_token=form_token(ctx.settings, ctx.now),
    )
    block = "questionnaire" if form is not None else None
    return ctx.render("questionnaires/show.html", page, block=block, status_code=status_code)


async def show(ctx: RequestContext) -> Response:
    """The questions, and for a participant the form with their answers so far."""
    return await _page(ctx, await ctx.consultation())


async def answer(ctx: RequestContext) -> Response:
    """Save the participant's answers (first time or edit); the form again with what is wrong
    (422), or with a conflict (409) when the response changed meanwhile."""
    consultation = await ctx.consultation()
    questionnaire = await load_questionnaire(ctx.db, consultation)
    if questionnaire is None:
        raise NotFound(consultation.slug)
    form = await read_form(ctx.request)
    try:
        if not await sent_by_a_person(ctx.db, ctx.settings, form, ctx.now):
            raise FormError({"form": _("Your answers could not be accepted. Send them again.")})
        given = read_given(
            questionnaire, {name: form.every(name) or [form.text(name)] for name in form}
        )
        revision = form.number("revision") or 0
        _saved, changed = await save_response(
            ctx.db, questionnaire, ctx.member, given, revision=revision, now=ctx.now
        )
    except FormError as error:
        status = 409 if isinstance(error, ResponseConflict) else 422
        return await _page(ctx, consultation, form=form, errors=error.fields, status_code=status)
    for contribution_id in changed:
        ctx.enqueue(embed_contribution, contribution_id, job_id=f"embed:{contribution_id}")
    return ctx.redirect(ctx.url_for("questionnaire", slug=consultation.slug) + "?saved=1")


async def import_form(ctx: RequestContext) -> Response:
    """The paste-or-upload form for the questions."""
    page = await questionnaire_import_page(ctx.db, await ctx.consultation())
    return ctx.render("questionnaires/import.html", page)


async def _read_source(
    ctx: RequestContext,
) -> tuple[str, Literal["markdown", "json"], ParsedQuestionnaire | None, str | None]:
    form = await read_form(ctx.request, max_part_size=MAX_UPLOAD_BYTES, allow_nul=True)
    source_format: Literal["markdown", "json"] = (
        "json" if form.text("format") == "json" else "markdown"
    )
    text = form.text("source")
    upload = form.uploads.get("file")
    if upload is not None:
        source_format = "json" if upload.filename.lower().endswith(".json") else "markdown"
        try:
            text = upload.content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            message = _("The file is not valid UTF-8 text (byte {position}).").format(
                position=exc.start + 1
            )
            return "", source_format, None, message
    try:
        return text, source_format, parse_questionnaire(text, source_format), None
    except QuestionnaireParseError as error:
        return text, source_format, None, str(error)


async def preview(ctx: RequestContext) -> Response:
    """Read the questions and show them, or the line at fault."""
    return await _parse_then(ctx, publish=False)


async def publish(ctx: RequestContext) -> Response:
    """Read the questions again and publish them."""
    return await _parse_then(ctx, publish=True)


async def _parse_then(ctx: RequestContext, *, publish: bool) -> Response:
    consultation = await ctx.consultation()
    text, source_format, parsed, error = await _read_source(ctx)
    if parsed is not None and publish:
        try:
            await publish_questionnaire(
                ctx.db,
                consultation,
                parsed,
                source_text=text,
                source_format=source_format,
                published_by=ctx.member,
            )
            return ctx.redirect(ctx.url_for("questionnaire", slug=consultation.slug))
        except FormError as refused:
            error, parsed = refused.first_message, None
    page = await questionnaire_import_page(
        ctx.db, consultation, source=text, source_format=source_format, error=error, parsed=parsed
    )
    status = 422 if parsed is None else 200
    return ctx.render(
        "questionnaires/import.html", page, block="questionnaire_import", status_code=status
    )


async def results(ctx: RequestContext) -> Response:
    """Counts and charts per question, crossed with the groups of the open answers."""
    consultation = await ctx.consultation()
    official = await ctx.is_official_of(consultation)
    page = await results_page(
        ctx.db, consultation, consultation.phase_at(ctx.now), is_official=official
    )
    return ctx.render("questionnaires/results.html", page)


async def answers_import_form(ctx: RequestContext) -> Response:
    """The form that imports answers from a CSV file."""
    consultation = await ctx.consultation()
    if not consultation.is_questionnaire:
        raise NotFound(consultation.slug)
    return ctx.render(
        "questionnaires/answers_import.html", await answers_import_page(ctx.db, consultation)
    )


async def answers_import(ctx: RequestContext) -> Response:
    """Import the rows of the uploaded CSV file; say what was imported and what was not."""
    consultation = await ctx.consultation()
    questionnaire = await load_questionnaire(ctx.db, consultation)
    if questionnaire is None:
        raise NotFound(consultation.slug)
    form = await read_form(ctx.request, max_part_size=MAX_CSV_BYTES, allow_nul=False)
    upload = form.uploads.get("file")
    try:
        if upload is None or not upload.content:
            raise FormError({"file": _("Choose a CSV file.")})
        text = upload.content.decode("utf-8-sig")
        report = await import_answers(
            ctx.db, questionnaire, text, now=ctx.now, actor_id=ctx.member.id
        )
    except (FormError, UnicodeDecodeError) as error:
        message = (
            error.first_message
            if isinstance(error, FormError)
            else _("The file is not valid UTF-8 text.")
        )
        page = await answers_import_page(ctx.db, consultation, error=message)
        return ctx.render("questionnaires/answers_import.html", page, status_code=422)
    for contribution_id in report.contributions:
        ctx.enqueue(embed_contribution, contribution_id, job_id=f"embed:{contribution_id}")
    page = await answers_import_page(ctx.db, consultation, report=report)
    return ctx.render("questionnaires/answers_import.html", page)


routes = [
    route(QUESTIONNAIRE, show, PUBLIC, name="questionnaire", cache=True),
    route(
        QUESTIONNAIRE,
        answer,
        PARTICIPANT,
        ["POST"],
        name="questionnaire_answer",
        rate_limit="contribute",
    ),
    route(
        f"{QUESTIONNAIRE}/import",
        import_form,
        CONSULTATION_OFFICIAL,
        name="questionnaire_import_form",
    ),
    route(
        f"{QUESTIONNAIRE}/preview",
        preview,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="questionnaire_preview",
    ),
    route(
        f"{QUESTIONNAIRE}/versions",
        publish,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="questionnaire_publish",
    ),
    route(f"{QUESTIONNAIRE}/results", results, PUBLIC, name="questionnaire_results", cache=True),
    route(
        f"{QUESTIONNAIRE}/answers/import",
        answers_import_form,
        CONSULTATION_OFFICIAL,
        name="questionnaire_answers_import_form",
    ),
    route(
        f"{QUESTIONNAIRE}/answers/import",
        answers_import,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="questionnaire_answers_import",
        rate_limit="post",
    ),
]
