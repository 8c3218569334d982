"""Officials' workspace: the inbox of a consultation, answers, and moving it through its phases."""

from __future__ import annotations

from starlette.responses import Response

from consult.answers.inbox import InboxFilters
from consult.answers.services import AnswerDecision, AnswerTarget, OverrideNeeded, find_target
from consult.consultations.models import Consultation, Phase
from consult.consultations.services import start_phase_now
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.jobs import send_notifications
from consult.notifications.services import answer_and_announce
from consult.pages.answers import AnswerInput, answer_form_page, inbox_article_page, inbox_page
from consult.web.context import RequestContext
from consult.web.forms import read_form, safe_next, with_query
from consult.web.permissions import CONSULTATION_OFFICIAL
from consult.web.routing import route


def _answered(ctx: RequestContext) -> str | None:
    """What was just saved, when an answer form sent the official back here."""
    answered = ctx.query.get("answered")
    return answered if answered in ("draft", "published") else None


async def inbox(ctx: RequestContext) -> Response:
    """Every article with its answered and unanswered contributions, and the campaigns."""
    page = await inbox_page(ctx.db, await ctx.consultation(), ctx.now, _answered(ctx))
    return ctx.render("answers/inbox.html", page)


async def inbox_article(ctx: RequestContext) -> Response:
    """An article's groups, campaigns and contributions, filtered, with their answers."""
    filters = InboxFilters.parse(ctx.query)
    consultation = await ctx.consultation()
    page = await inbox_article_page(ctx.db, consultation, ctx.path("key"), filters, _answered(ctx))
    return ctx.render("answers/article.html", page, block="inbox_list")


async def _target(ctx: RequestContext) -> tuple[Consultation, AnswerTarget]:
    consultation = await ctx.consultation()
    target = await find_target(ctx.db, consultation, ctx.path("scope"), ctx.path_id("target_id"))
    return consultation, target


def _back(ctx: RequestContext, target: AnswerTarget, asked: str | None) -> str:
    """Where the official goes after answering: the local page asked for, else the inbox."""
    slug = ctx.path("slug")
    if target.article_key:
        default = ctx.url_for("inbox_article", slug=slug, key=target.article_key)
    else:
        default = ctx.url_for("inbox", slug=slug)
    return safe_next(asked, default)


async def answer_form(ctx: RequestContext) -> Response:
    """The answer to a contribution, cluster or campaign: who it reaches, draft or publish."""
    consultation, target = await _target(ctx)
    next_url = _back(ctx, target, ctx.query.get("next"))
    page = await answer_form_page(ctx.db, consultation, target, next_url=next_url)
    return ctx.render("answers/form.html", page, block="answer_form")


async def save(ctx: RequestContext) -> Response:
    """Save the answer as a draft or publish it; 422 with the form when something is missing."""
    consultation, target = await _target(ctx)
    form = await read_form(ctx.request)
    try:
        decision = AnswerDecision(
            state=form.text("state"),
            reason=form.text("reason"),
            publish=form.text("action") == "publish",
            override=form.text("override") == "1",
        )
        announced = await answer_and_announce(
            ctx.db, target, decision, author=ctx.member, now=ctx.now, settings=ctx.settings
        )
    except FormError as error:
        values = dict(form)
        if isinstance(error, OverrideNeeded):
            values["needs_override"] = "1"
        sent = AnswerInput(values, error.fields)
        next_url = _back(ctx, target, form.text("next") or ctx.query.get("next"))
        page = await answer_form_page(ctx.db, consultation, target, next_url=next_url, sent=sent)
        return ctx.render("answers/form.html", page, block="answer_form", status_code=422)
    if announced.emails:
        answer_id = announced.saved.answer.id
        ctx.enqueue(send_notifications, job_id=f"notifications:{answer_id}")
    # The page the official goes back to confirms what was saved.
    outcome = "published" if announced.saved.answer.published_at else "draft"
    return ctx.redirect(with_query(_back(ctx, target, form.text("next")), answered=outcome))


async def start_phase(ctx: RequestContext) -> Response:
    """Close the consultation, mark it answered or publish its feedback, now."""
    consultation = await ctx.consultation()
    form = await read_form(ctx.request)
    try:
        phase = Phase(form.text("phase"))
    except ValueError:
        return ctx.error(422, _("Choose the phase to start."))
    try:
        await start_phase_now(ctx.db, consultation, phase, ctx.now, ctx.member)
    except FormError as error:
        return ctx.error(422, error.first_message)
    return ctx.redirect(ctx.url_for("consultation", slug=consultation.slug))


ANSWER_PATH = "/consultations/{slug}/answers/{scope}/{target_id:id}"

routes = [
    route("/consultations/{slug}/inbox", inbox, CONSULTATION_OFFICIAL, name="inbox"),
    route(
        "/consultations/{slug}/inbox/articles/{key}",
        inbox_article,
        CONSULTATION_OFFICIAL,
        name="inbox_article",
    ),
    route(ANSWER_PATH, answer_form, CONSULTATION_OFFICIAL, name="answer_form"),
    route(
        ANSWER_PATH, save, CONSULTATION_OFFICIAL, ["POST"], name="answer_save", rate_limit="post"
    ),
    route(
        "/consultations/{slug}/phase",
        start_phase,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="consultation_phase",
        rate_limit="post",
    ),
]
