"""Officials' workspace: the inbox of a consultation, answers, and moving it through its phases."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from consult.answers.inbox import (
    InboxFilters,
    all_campaigns,
    article_inbox,
    counts_by_article,
    total_of,
)
from consult.answers.models import AnswerScope
from consult.answers.services import (
    AnswerTarget,
    OverrideNeeded,
    answer_of,
    covering_answers,
    find_target,
    own_answer_count,
    save_answer,
)
from consult.audit.services import record_event
from consult.bills.services import article_provisions, latest_version
from consult.consultations.models import Consultation, Phase
from consult.consultations.services import get_consultation, next_phases, start_phase_now
from consult.contributions.listing import contributions_by_id
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.notifications.services import queue_answer_notifications
from consult.web.errors import error_response
from consult.web.forms import read_form, redirect_after_post, safe_next
from consult.web.permissions import OFFICIAL
from consult.web.routing import after_commit, route
from consult.web.templating import render

# Members listed on an answer form; the count covers them all.
LISTED_MEMBERS = 20


async def _consultation(request: Request) -> Consultation:
    return await get_consultation(
        request.state.db, request.path_params["slug"], request.state.user, request.app.state.clock()
    )


async def inbox(request: Request) -> Response:
    """Every article with its answered and unanswered contributions, and the campaigns."""
    consultation = await _consultation(request)
    db = request.state.db
    version = await latest_version(db, consultation)
    articles = await article_provisions(db, version) if version else {}
    counts = await counts_by_article(db, consultation)
    return render(
        request,
        "answers/inbox.html",
        {
            "consultation": consultation,
            "articles": articles,
            "counts": counts,
            "total": total_of(counts),
            "campaigns": await all_campaigns(db, consultation),
            "phase": consultation.phase_at(request.app.state.clock()),
            "next_phases": next_phases(consultation, request.app.state.clock()),
        },
    )


async def inbox_article(request: Request) -> Response:
    """An article's clusters, campaigns and contributions, filtered, with their answers."""
    consultation = await _consultation(request)
    db = request.state.db
    version = await latest_version(db, consultation)
    articles = await article_provisions(db, version) if version else {}
    key = request.path_params["key"]
    if key not in articles:
        raise NotFound(key)
    filters = InboxFilters.parse(request.query_params)
    return render(
        request,
        "answers/article.html",
        {
            "consultation": consultation,
            "article": articles[key],
            "inbox": await article_inbox(db, consultation, key, filters),
            "filters": filters,
            "page_query": lambda **changes: urlencode(filters.query(**changes)),
        },
        block="inbox_list",
    )


async def _target(request: Request, consultation: Consultation) -> AnswerTarget:
    scope = request.path_params["scope"]
    if scope not in {s.value for s in AnswerScope}:
        raise NotFound(scope)
    return await find_target(
        request.state.db, consultation, scope, request.path_params["target_id"]
    )


def _default_next(request: Request, consultation: Consultation, target: AnswerTarget) -> str:
    if target.article_key:
        return str(
            request.app.url_path_for(
                "inbox_article", slug=consultation.slug, key=target.article_key
            )
        )
    return str(request.app.url_path_for("inbox", slug=consultation.slug))


async def _form_page(
    request: Request,
    consultation: Consultation,
    target: AnswerTarget,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    db = request.state.db
    answer = await answer_of(db, target)
    members = await contributions_by_id(db, list(target.members[:LISTED_MEMBERS]))
    own_answers = (
        await own_answer_count(db, list(target.members))
        if target.scope is not AnswerScope.CONTRIBUTION
        else 0
    )
    covering = (
        [
            a
            for a in await covering_answers(db, target.id)
            if a.scope is not AnswerScope.CONTRIBUTION
        ]
        if target.scope is AnswerScope.CONTRIBUTION
        else []
    )
    version = await latest_version(db, consultation)
    articles = await article_provisions(db, version) if version else {}
    next_url = safe_next(
        (values or {}).get("next") or request.query_params.get("next"),
        _default_next(request, consultation, target),
    )
    return render(
        request,
        "answers/form.html",
        {
            "consultation": consultation,
            "target": target,
            "article": articles.get(target.article_key),
            "answer": answer,
            "members": members,
            "reach": len(target.members),
            "own_answers": own_answers,
            "covering": covering,
            "values": values
            or ({"state": answer.state.value, "reason": answer.reason} if answer else {}),
            "errors": errors or {},
            "next_url": next_url,
        },
        block="answer_form",
        status_code=status_code,
    )


async def answer_form(request: Request) -> Response:
    """The answer to a contribution, cluster or campaign: who it reaches, draft or publish."""
    consultation = await _consultation(request)
    return await _form_page(request, consultation, await _target(request, consultation))


async def save(request: Request) -> Response:
    """Save the answer as a draft or publish it; 422 with the form when something is missing."""
    consultation = await _consultation(request)
    target = await _target(request, consultation)
    form = await read_form(request)
    try:
        saved = await save_answer(
            request.state.db,
            target,
            state=form.text("state"),
            reason=form.text("reason"),
            publish=form.text("action") == "publish",
            override=form.text("override") == "1",
            author=request.state.user,
            now=request.app.state.clock(),
        )
    except FormError as error:
        values: dict[str, Any] = dict(form)
        if isinstance(error, OverrideNeeded):
            values["needs_override"] = "1"
        return await _form_page(
            request, consultation, target, values=values, errors=error.fields, status_code=422
        )
    if saved.published_now and await queue_answer_notifications(
        request.state.db, saved.answer, request.app.state.settings, request.app.state.clock()
    ):
        jobs = request.app.state.jobs
        answer_id = saved.answer.id
        after_commit(
            request,
            lambda: jobs.enqueue("send_notifications", job_id=f"notifications:{answer_id}"),
        )
    return redirect_after_post(
        request, safe_next(form.text("next"), _default_next(request, consultation, target))
    )


async def start_phase(request: Request) -> Response:
    """Close the consultation, mark it answered or publish its feedback, now."""
    consultation = await _consultation(request)
    form = await read_form(request)
    now = request.app.state.clock()
    try:
        phase = Phase(form.text("phase"))
    except ValueError:
        return error_response(request, 422, _("Choose the phase to start."))
    try:
        previous = await start_phase_now(request.state.db, consultation, phase, now)
    except FormError as error:
        return error_response(request, 422, error.fields["phase"])
    await record_event(
        request.state.db,
        request.state.user.id,
        "consultation.phase",
        target=f"consultation:{consultation.id}",
        details={"from": previous.value, "to": phase.value},
    )
    return redirect_after_post(
        request, str(request.app.url_path_for("consultation", slug=consultation.slug))
    )


ANSWER_PATH = "/consultations/{slug}/answers/{scope}/{target_id:int}"

routes = [
    route("/consultations/{slug}/inbox", inbox, OFFICIAL, name="inbox"),
    route(
        "/consultations/{slug}/inbox/articles/{key}",
        inbox_article,
        OFFICIAL,
        name="inbox_article",
    ),
    route(ANSWER_PATH, answer_form, OFFICIAL, name="answer_form"),
    route(ANSWER_PATH, save, OFFICIAL, ["POST"], name="answer_save", rate_limit="post"),
    route(
        "/consultations/{slug}/phase",
        start_phase,
        OFFICIAL,
        ["POST"],
        name="consultation_phase",
        rate_limit="post",
    ),
]
