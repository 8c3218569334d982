"""Participation on an article: annotate, amend, argue, reply, cite, vote."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from consult import i18n
from consult.answers.services import outcome_of
from consult.bills.models import BillVersion
from consult.bills.operations import Operation, OperationKind
from consult.bills.services import get_version
from consult.consultations.services import accepts_contributions, get_consultation
from consult.contributions.article_context import (
    ArticleContext,
    ClosedForContributions,
    load_article_context,
)
from consult.contributions.listing import (
    amendment_footprints,
    contributions_by_id,
    get_contribution,
)
from consult.contributions.views import describe_amendment, overlapping_groups
from consult.contributions.votes import article_tally, cast_vote, tally_of, votes_of
from consult.contributions.writing import (
    MAX_BODY,
    check_amendment,
    create_amendment,
    create_annotation,
    create_argument,
    create_reply,
    create_source,
)
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.jobs import InProcessQueue, embedder_for
from consult.revisions.services import changes_by_contribution
from consult.synthesis.similar import (
    SimilarContribution,
    SimilarContributionFinder,
    find_similar_contributions,
    query_text,
)
from consult.web.antispam import FORM_TOKEN_FIELD, filled_by_a_person
from consult.web.forms import FormData, looks_automated, read_form, redirect_after_post
from consult.web.permissions import AUTHENTICATED, PUBLIC
from consult.web.routes.articles import render_article, texts_written_on
from consult.web.routing import after_commit, route
from consult.web.templating import is_partial, render


async def _context(request: Request) -> ArticleContext:
    db = request.state.db
    consultation = await get_consultation(
        db, request.path_params["slug"], request.state.user, request.app.state.clock()
    )
    version = await get_version(db, consultation, None)
    return await load_article_context(db, consultation, version, request.path_params["key"])


async def _read(request: Request) -> FormData:
    """The posted form, refused when it looks automated."""
    form = await read_form(request)
    settings, now = request.app.state.settings, request.app.state.clock()
    if looks_automated(form) or not filled_by_a_person(settings, form.text(FORM_TOKEN_FIELD), now):
        raise FormError(
            {
                "form": _(
                    "Your contribution could not be accepted. Reload the page, then send it again."
                )
            }
        )
    return form


def _done(request: Request, context: ArticleContext, contribution_id: int) -> Response:
    """Queue the new contribution's embedding, then go back to the article, newest first, so
    the new contribution is at the top of the list."""
    jobs = request.app.state.jobs
    after_commit(
        request,
        lambda: jobs.enqueue(
            "embed_contribution", contribution_id, job_id=f"embed:{contribution_id}"
        ),
    )
    url = request.app.state.url_for(
        "article", slug=context.consultation.slug, key=context.article.key
    )
    # `posted` makes every such address new, so the browser loads it even when only the
    # fragment would otherwise differ from the current address.
    target = f"{url}?sort=newest&posted={contribution_id}#c{contribution_id}"
    if is_partial(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return redirect_after_post(request, target)


async def _post(request: Request, form_name: str, create: Any) -> Response:
    """Shared flow: read, create, then redirect, or re-render the page with errors (422)."""
    context = await _context(request)
    form: dict[str, str] = {}
    try:
        data = await _read(request)
        form = dict(data)
        contribution = await create(context, data)
    except FormError as error:
        return await render_article(
            request, context, form_name=form_name, values=form, errors=error.fields, status_code=422
        )
    return _done(request, context, contribution.id)


SIMILAR_FORMS = ("annotate", "amend")


def _similar_finder(request: Request) -> SimilarContributionFinder:
    """This process's similar-contribution indexes, made on first use."""
    state = request.app.state
    finder: SimilarContributionFinder | None = getattr(state, "similar_contributions", None)
    if finder is None:
        # In-process jobs already hold the configured embedder: share its model rather than
        # load a second copy. With arq workers, the web process loads its own.
        jobs = state.jobs
        shared = jobs.context if isinstance(jobs, InProcessQueue) else {"settings": state.settings}
        finder = SimilarContributionFinder(state.session_factory, lambda: embedder_for(shared))
        state.similar_contributions = finder
    return finder


async def _similar_to(
    request: Request, context: ArticleContext, form: FormData
) -> tuple[list[SimilarContribution] | None, dict[int | str, Any]]:
    """Published contributions like the text being written, and the reader's votes on them."""
    if not accepts_contributions(context.consultation, request.app.state.clock()):
        raise ClosedForContributions()
    for name in ("body", "new_text"):
        if len(form.text(name)) > MAX_BODY:
            raise FormError(
                {
                    name: _("This text has {length} characters; the limit is {limit}.").format(
                        length=len(form.text(name)), limit=MAX_BODY
                    )
                }
            )
    db = request.state.db
    found = await find_similar_contributions(
        db,
        _similar_finder(request),
        context.consultation.id,
        context.article.key,
        query_text(form.text("body"), form.text("new_text")),
    )
    ids = [item.contribution.id for item in found or []]
    return found, await votes_of(db, request.state.user, context.consultation, ids)


async def _show_similar_on_preview(
    request: Request, context: ArticleContext, form_name: str, form: FormData
) -> None:
    """Put the similar contributions on the preview step, for people without JavaScript."""
    found, votes = await _similar_to(request, context, form)
    # render_article builds the page's context itself; what only the preview step shows
    # travels with the request, where the form template looks for it.
    request.state.similar_preview = {"form": form_name, "similar": found, "votes": votes}


async def _preview(request: Request, form_name: str, create: Any) -> Response:
    """Check a contribution exactly as publishing would, undo it, and show it again with the
    contributions it resembles; 422 with the errors when it would be refused."""
    context = await _context(request)
    values: dict[str, str] = {}
    try:
        form = await _read(request)
        values = dict(form)
        savepoint = await request.state.db.begin_nested()
        try:
            await create(context, form)
        finally:
            await savepoint.rollback()
        await _show_similar_on_preview(request, context, form_name, form)
    except FormError as error:
        return await render_article(
            request,
            context,
            form_name=form_name,
            values=values,
            errors=error.fields,
            status_code=422,
        )
    return await render_article(request, context, form_name=form_name, values=values)


async def similar(request: Request) -> Response:
    """Published contributions like the annotation or amendment being written, so that its
    author can support one instead of writing it again (asked by htmx while they type)."""
    context = await _context(request)
    form = await read_form(request)
    form_name = form.text("form") if form.text("form") in SIMILAR_FORMS else SIMILAR_FORMS[0]
    shown: dict[str, Any] = {"consultation": context.consultation, "similar_form": form_name}
    try:
        found, votes = await _similar_to(request, context, form)
    except FormError as error:
        message = next(iter(error.fields.values()))
        return render(
            request,
            "contributions/_similar.html",
            {**shown, "similar": [], "similar_votes": {}, "similar_error": message},
            status_code=422,
        )
    return render(
        request,
        "contributions/_similar.html",
        {**shown, "similar": found, "similar_votes": votes, "similar_error": None},
    )


async def annotate(request: Request) -> Response:
    """Comment on a passage of the article; `action=preview` checks the annotation and shows
    similar contributions without saving it."""
    db, user, now = request.state.db, request.state.user, request.app.state.clock()

    async def create(context: ArticleContext, form: FormData) -> Any:
        return await create_annotation(
            db,
            context,
            user,
            alinea=form.text("alinea"),
            quote=form.text("quote"),
            comment=form.text("body"),
            now=now,
            prefix=form.text("prefix"),
            suffix=form.text("suffix"),
            start=int(form.text("start")) if form.text("start").isdigit() else None,
        )

    if (await read_form(request)).text("action") == "preview":
        return await _preview(request, "annotate", create)
    return await _post(request, "annotate", create)


def operation_from(form: FormData) -> Operation:
    """The typed operation described by the amendment form."""
    raw_kind = form.text("operation")
    try:
        kind = OperationKind(raw_kind)
    except ValueError as error:
        raise FormError({"operation": _("Choose what the amendment does.")}) from error
    alinea_raw = form.text("alinea").strip()
    occurrence_raw = form.text("occurrence", "1").strip() or "1"
    return Operation(
        kind=kind,
        alinea=int(alinea_raw) if alinea_raw.isdigit() else None,
        old_text=form.text("old_text").strip(),
        occurrence=int(occurrence_raw) if occurrence_raw.isdigit() else 0,
        new_text=form.text("new_text").strip(),
    )


async def amend(request: Request) -> Response:
    """Propose an amendment; `action=preview` shows it without saving."""
    db, user, now = request.state.db, request.state.user, request.app.state.clock()
    context = await _context(request)
    values: dict[str, str] = {}
    try:
        form = await _read(request)
        values = dict(form)
        operation = operation_from(form)
        if form.text("action") == "preview":
            check_amendment(operation, context)
            await _show_similar_on_preview(request, context, "amend", form)
            return await render_article(
                request, context, form_name="amend", values=values, preview=operation
            )
        contribution = await create_amendment(
            db, context, user, operation=operation, rationale=form.text("body"), now=now
        )
    except FormError as error:
        return await render_article(
            request, context, form_name="amend", values=values, errors=error.fields, status_code=422
        )
    return _done(request, context, contribution.id)


async def argue(request: Request) -> Response:
    """Argue for, against or neutrally on the article or one of its amendments."""
    db, user, now = request.state.db, request.state.user, request.app.state.clock()

    async def create(context: ArticleContext, form: FormData) -> Any:
        target = form.text("amendment")
        return await create_argument(
            db,
            context,
            user,
            stance=form.text("stance"),
            body=form.text("body"),
            now=now,
            amendment_id=int(target) if target.isdigit() else None,
        )

    return await _post(request, "argue", create)


async def cite(request: Request) -> Response:
    """Add a source: a link and a note."""
    db, user, now = request.state.db, request.state.user, request.app.state.clock()

    async def create(context: ArticleContext, form: FormData) -> Any:
        return await create_source(
            db, context, user, url=form.text("url"), note=form.text("body"), now=now
        )

    return await _post(request, "cite", create)


async def reply(request: Request) -> Response:
    """Answer a contribution in its thread."""
    db, user, now = request.state.db, request.state.user, request.app.state.clock()
    parent_id = request.path_params["contribution_id"]

    async def create(context: ArticleContext, form: FormData) -> Any:
        return await create_reply(
            db, context, user, parent_id=parent_id, body=form.text("body"), now=now
        )

    return await _post(request, f"reply-{parent_id}", create)


async def vote_article(request: Request) -> Response:
    """Vote pour, mitigé or contre on the article, change the vote or withdraw it."""
    db, user, now = request.state.db, request.state.user, request.app.state.clock()
    context = await _context(request)
    form = await read_form(request)
    try:
        await cast_vote(
            db,
            user,
            context.consultation,
            now=now,
            value=form.text("value") or None,
            article_key=context.article.key,
        )
    except FormError as error:
        return await render_article(request, context, errors=error.fields, status_code=422)
    if is_partial(request):
        # Only the vote widget changes: render its block with just what it shows.
        return render(
            request,
            "articles/show.html",
            {
                "consultation": context.consultation,
                "context": context,
                "article_tally": await article_tally(db, context.consultation, context.article.key),
                "my_votes": await votes_of(db, user, context.consultation, [], context.article.key),
                "is_open": True,
            },
            block="article_votes",
        )
    return redirect_after_post(
        request,
        request.app.state.url_for(
            "article", slug=context.consultation.slug, key=context.article.key
        ),
    )


async def vote_contribution(request: Request) -> Response:
    """Vote on a contribution; htmx gets back just its vote widget with fresh counts."""
    db, user, now = request.state.db, request.state.user, request.app.state.clock()
    context = await _context(request)
    contribution = await get_contribution(
        db, context.consultation, request.path_params["contribution_id"]
    )
    if contribution.article_key != context.article.key:
        raise HTTPException(404)
    form = await read_form(request)
    try:
        value = await cast_vote(
            db,
            user,
            context.consultation,
            now=now,
            value=form.text("value") or None,
            contribution=contribution,
        )
    except FormError as error:
        return await render_article(request, context, errors=error.fields, status_code=422)
    if is_partial(request):
        await db.refresh(contribution)
        # A vote cast from the similar contributions shown beside a form answers with the
        # widget under that list's own element id (the same contribution may be listed twice).
        similar_form = request.query_params.get("similar")
        in_similar = similar_form in SIMILAR_FORMS
        return render(
            request,
            "contributions/_similar.html" if in_similar else "contributions/vote.html",
            {
                "vote_only": True,
                "similar_form": similar_form,
                "consultation": context.consultation,
                "article_key": context.article.key,
                "target": contribution,
                "tally": tally_of(contribution),
                "current": value,
                "is_open": True,
            },
        )
    return redirect_after_post(
        request,
        request.app.state.url_for(
            "article", slug=context.consultation.slug, key=context.article.key
        )
        + f"#c{contribution.id}",
    )


async def permalink(request: Request) -> Response:
    """A contribution's own page, with its thread, and its amendment in full."""
    db, now = request.state.db, request.app.state.clock()
    consultation = await get_consultation(db, request.path_params["slug"], request.state.user, now)
    contribution = await get_contribution(db, consultation, request.path_params["contribution_id"])
    version = await get_version(db, consultation, None)
    try:
        context = await load_article_context(db, consultation, version, contribution.article_key)
    except NotFound:
        # The article is gone from the latest version: show it as it was written on.
        version = await db.get(BillVersion, contribution.version_id)
        context = await load_article_context(db, consultation, version, contribution.article_key)
    amendment = None
    competing = []
    if contribution.operation:
        language = i18n.get_language()
        footprints = await amendment_footprints(db, consultation, contribution.article_key)
        others = await contributions_by_id(
            db, overlapping_groups([contribution], footprints)[contribution.id]
        )
        texts = await texts_written_on(db, context, [contribution, *others])
        amendment = describe_amendment(contribution, *texts[contribution.version_id], language)
        competing = [describe_amendment(o, *texts[o.version_id], language) for o in others]
    return render(
        request,
        "contributions/show.html",
        {
            "consultation": consultation,
            "context": context,
            "contribution": contribution,
            "amendment": amendment,
            "competing": competing,
            "tally": tally_of(contribution),
            "my_votes": await votes_of(db, request.state.user, consultation, [contribution.id]),
            "outcome": await outcome_of(db, contribution.id),
            "changed_words": (await changes_by_contribution(db, [contribution.id])).get(
                contribution.id, []
            ),
        },
    )


ARTICLE = "/consultations/{slug}/articles/{key}"
CONTRIBUTION = "/consultations/{slug}/contributions/{contribution_id:int}"

routes = [
    route(f"{ARTICLE}/annotations", annotate, AUTHENTICATED, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/amendments", amend, AUTHENTICATED, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/arguments", argue, AUTHENTICATED, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/sources", cite, AUTHENTICATED, ["POST"], rate_limit="contribute"),
    route(f"{ARTICLE}/votes", vote_article, AUTHENTICATED, ["POST"], rate_limit="contribute"),
    # Asked while typing: a POST keeps drafts out of addresses and logs, and the budget of
    # unsafe requests (not the much smaller one for publishing) bounds the embedding work.
    route(f"{ARTICLE}/similar-contributions", similar, AUTHENTICATED, ["POST"], rate_limit="post"),
    route(
        "/consultations/{slug}/articles/{key}/contributions/{contribution_id:int}/replies",
        reply,
        AUTHENTICATED,
        ["POST"],
        rate_limit="contribute",
    ),
    route(
        "/consultations/{slug}/articles/{key}/contributions/{contribution_id:int}/votes",
        vote_contribution,
        AUTHENTICATED,
        ["POST"],
        rate_limit="contribute",
    ),
    route(CONTRIBUTION, permalink, PUBLIC, name="contribution"),
]
