"""Moderation: reporting a contribution, the moderators' queue and decisions, the public log,
a suspended account asking for a review."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from starlette.responses import Response

from consult.contributions.listing import get_contribution
from consult.contributions.models import Contribution
from consult.errors import FormError
from consult.i18n import gettext as _
from consult.jobs import send_notifications
from consult.moderation.services import (
    AlreadyReported,
    OwnContribution,
    decide,
    reinstate_account,
    report_contribution,
    request_review,
    suspend_account,
)
from consult.pages.moderation import QueueFilters, log_page, queue_page, report_page
from consult.web.context import RequestContext
from consult.web.forms import FormData, read_form
from consult.web.permissions import AUTHENTICATED, CONSULTATION_MODERATOR, PARTICIPANT, PUBLIC
from consult.web.routing import route


async def report_form(ctx: RequestContext) -> Response:
    """A contribution's report form on a page of its own (or what became of my report)."""
    consultation = await ctx.consultation()
    page = await report_page(ctx.db, consultation, ctx.path_id("contribution_id"), ctx.member)
    return ctx.render("moderation/report.html", page)


async def _send_report(
    ctx: RequestContext, contribution: Contribution, form: FormData
) -> tuple[int, dict[str, str], str]:
    """Record the report; its outcome as (status, form errors, message)."""
    try:
        await report_contribution(
            ctx.db,
            contribution,
            ctx.member,
            reason=form.text("reason"),
            details=form.text("details"),
            threshold=ctx.settings.reports_to_hide,
            now=ctx.now,
        )
    except OwnContribution:
        return 403, {}, _("You cannot report your own contribution.")
    except AlreadyReported:
        return 409, {}, _("You have already reported this contribution: it counts once.")
    except FormError as error:
        return 422, error.fields, ""
    return 200, {}, _("Thank you: your report was sent to the moderators.")


async def report(ctx: RequestContext) -> Response:
    """Report a contribution to the moderators, once; enough reports hide it pending review.
    htmx gets the answer in place of the form; without it, the report's page."""
    consultation = await ctx.consultation()
    contribution = await get_contribution(ctx.db, consultation, ctx.path_id("contribution_id"))
    form = await read_form(ctx.request)
    status, errors, message = await _send_report(ctx, contribution, form)
    if status == 200 and not ctx.is_partial:
        mine = ctx.url_for("report_form", slug=consultation.slug, contribution_id=contribution.id)
        return ctx.redirect(mine)
    page = await report_page(
        ctx.db, consultation, contribution.id, ctx.member, values=dict(form), errors=errors
    )
    if ctx.is_partial:
        shown = page if errors else replace(page, message=message)
        return ctx.render("moderation/_report.html", shown, status_code=status)
    refusal = replace(page, message=message) if status in (403, 409) else page
    return ctx.render("moderation/report.html", refusal, status_code=status)


async def queue(ctx: RequestContext) -> Response:
    """The moderators' queue of the consultation."""
    filters = QueueFilters.from_query(ctx.query)
    page = await queue_page(ctx.db, await ctx.consultation(), filters)
    return ctx.render("moderation/queue.html", page)


async def _refused(ctx: RequestContext, key: str, error: FormError) -> Response:
    page = await queue_page(
        ctx.db, await ctx.consultation(), QueueFilters(), errors={key: error.first_message}
    )
    return ctx.render("moderation/queue.html", page, status_code=422)


def _back_to_queue(ctx: RequestContext, anchor: str = "") -> Response:
    url = ctx.url_for("moderation_queue", slug=ctx.path("slug"))
    return ctx.redirect(f"{url}{anchor}")


async def decide_on(ctx: RequestContext) -> Response:
    """Hide or restore a contribution, or every copy of its letter, with a public reason."""
    consultation = await ctx.consultation()
    contribution = await get_contribution(ctx.db, consultation, ctx.path_id("contribution_id"))
    form = await read_form(ctx.request)
    try:
        await decide(
            ctx.db,
            consultation,
            contribution,
            ctx.member,
            action=form.text("action"),
            reason=form.text("reason"),
            all_copies=form.text("copies") == "all",
            now=ctx.now,
        )
    except FormError as error:
        return await _refused(ctx, f"c{contribution.id}", error)
    return _back_to_queue(ctx, f"#q{contribution.id}")


async def suspend(ctx: RequestContext) -> Response:
    """Suspend the account of a participant of this consultation."""
    return await _decide_on_account(ctx, suspend_account)


async def reinstate(ctx: RequestContext) -> Response:
    """Lift a suspension decided from this consultation's queue."""
    return await _decide_on_account(ctx, reinstate_account)


async def _decide_on_account(
    ctx: RequestContext, decide: Callable[..., Awaitable[object]]
) -> Response:
    """Suspend or reinstate the path's account with the form's public reason; its owner is
    told by email."""
    form = await read_form(ctx.request)
    account_id = ctx.path_id("user_id")
    consultation = await ctx.consultation()
    try:
        await decide(
            ctx.db, consultation, account_id, ctx.member, reason=form.text("reason"), now=ctx.now
        )
    except FormError as error:
        return await _refused(ctx, f"u{account_id}", error)
    ctx.enqueue(send_notifications, job_id="notifications:account")
    return _back_to_queue(ctx)


async def log(ctx: RequestContext) -> Response:
    """The public moderation log of the consultation."""
    return ctx.render("moderation/log.html", await log_page(ctx.db, await ctx.consultation()))


async def review(ctx: RequestContext) -> Response:
    """A suspended account's owner asks for a review (once per suspension)."""
    form = await read_form(ctx.request)
    try:
        await request_review(ctx.db, ctx.member, form.text("review"), ctx.now)
    except FormError as error:
        return ctx.error(422, error.first_message)
    return ctx.redirect(ctx.url_for("profile") + "?review=sent")


CONTRIBUTION = "/consultations/{slug}/contributions/{contribution_id:id}"
QUEUE = "/consultations/{slug}/moderation"

routes = [
    route(f"{CONTRIBUTION}/report", report_form, AUTHENTICATED),
    route(f"{CONTRIBUTION}/reports", report, PARTICIPANT, ["POST"], rate_limit="post"),
    route(QUEUE, queue, CONSULTATION_MODERATOR, name="moderation_queue"),
    route(f"{QUEUE}/log", log, PUBLIC, name="moderation_log", cache=True),
    route(
        f"{QUEUE}/contributions/{{contribution_id:id}}",
        decide_on,
        CONSULTATION_MODERATOR,
        ["POST"],
        name="moderation_decide",
    ),
    route(
        f"{QUEUE}/accounts/{{user_id:id}}/suspension",
        suspend,
        CONSULTATION_MODERATOR,
        ["POST"],
        name="moderation_suspend",
    ),
    route(
        f"{QUEUE}/accounts/{{user_id:id}}/reinstatement",
        reinstate,
        CONSULTATION_MODERATOR,
        ["POST"],
        name="moderation_reinstate",
    ),
    route("/account/review", review, AUTHENTICATED, ["POST"], name="suspension_review"),
]
