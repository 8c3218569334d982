"""The read-only JSON API: consultations, versions, contributions with their fate, answers,
feedback counts and the provenance of changes. Described by ``/api/v1/openapi.json``.

What the public may read is decided in :mod:`consult.opendata.public`, shared with the
open-data export; here the parameters are read and the answers written as JSON.

Path and query parameters are validated here rather than by the router, so that a malformed
value is a JSON error (400 or 404) like every other answer of the API, never an HTML page.
"""

from __future__ import annotations

import functools
from datetime import datetime

from starlette.responses import JSONResponse, Response

from consult.answers.inbox import StateCounts, counts_by_article, total_of
from consult.consultations.models import Consultation
from consult.consultations.services import list_consultations
from consult.contributions.models import ContributionKind
from consult.errors import NotFound
from consult.input import whole_number
from consult.opendata.public import (
    ContributionFilters,
    ContributionWithAnswer,
    Page,
    Pseudonyms,
    PublicAnswer,
    PublicChange,
    consultation_record,
    contribution_page,
    one_contribution,
    published_answer_page,
    version_changes,
    version_text,
)
from consult.questionnaires.models import Question, QuestionKind
from consult.questionnaires.results import (
    QuestionResult,
    questionnaire_results,
    results_are_public,
)
from consult.questionnaires.services import load_questionnaire
from consult.web.api_schema import MAX_PER_PAGE, openapi_document
from consult.web.context import Handler, RequestContext
from consult.web.permissions import PUBLIC
from consult.web.routing import route

JsonObject = dict[str, object]

# Identifiers and page numbers beyond a database integer name no row.
_MAX_NUMBER = 2**31 - 1
_MAX_DIGITS = len(str(_MAX_NUMBER))


class BadRequest(ValueError):
    """A query parameter the API cannot use."""


def _json(data: object, status_code: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status_code, headers={"Cache-Control": "no-store"})


def _error(message: str, status_code: int) -> JSONResponse:
    return _json({"error": message}, status_code)


def _json_errors(handler: Handler) -> Handler:
    """``handler`` with NotFound as a JSON 404 and BadRequest as a JSON 400."""

    @functools.wraps(handler)
    async def answering_in_json(ctx: RequestContext) -> Response:
        # No row is named with a NUL, and PostgreSQL refuses one in a query: a 404, not a 500.
        if any("\x00" in str(value) for value in ctx.request.path_params.values()):
            return _error("not found", 404)
        try:
            return await handler(ctx)
        except NotFound:
            return _error("not found", 404)
        except BadRequest as error:
            return _error(str(error), 400)

    return answering_in_json


def _positive(ctx: RequestContext, name: str, default: int, maximum: int) -> int:
    """The query parameter ``name``, a whole number from 1 to ``maximum`` (BadRequest if not)."""
    raw = ctx.query.get(name)
    if not raw:
        return default
    number = whole_number(raw, _MAX_DIGITS)
    if number is None or not 1 <= number <= maximum:
        raise BadRequest(f"{name} must be a whole number from 1 to {maximum}")
    return number


def _paging(ctx: RequestContext) -> tuple[int, int]:
    """The page asked for and its length."""
    return _positive(ctx, "page", 1, _MAX_NUMBER), _positive(ctx, "per_page", 50, MAX_PER_PAGE)


def _path_number(ctx: RequestContext, name: str) -> int:
    """A number of the path; anything else names no row (NotFound)."""
    number = whole_number(ctx.path(name), _MAX_DIGITS)
    if number is None or not 1 <= number <= _MAX_NUMBER:
        raise NotFound(ctx.path(name))
    return number


def _filters(ctx: RequestContext) -> ContributionFilters:
    """The kind and the article a list of contributions is narrowed to."""
    kind = ctx.query.get("kind") or None
    kinds = [k.value for k in ContributionKind]
    if kind is not None and kind not in kinds:
        raise BadRequest("kind must be one of " + ", ".join(kinds))
    article = ctx.query.get("article") or None
    # No key holds a NUL, and PostgreSQL refuses one in a query.
    if article is not None and "\x00" in article:
        raise BadRequest("article must be an article key, such as art-3")
    return ContributionFilters(ContributionKind(kind) if kind else None, article)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _summary(ctx: RequestContext, consultation: Consultation) -> JsonObject:
    base = str(ctx.request.base_url).rstrip("/")
    slug = consultation.slug
    return {
        "slug": slug,
        "kind": consultation.kind.value,
        "title": consultation.title,
        "ministry": consultation.ministry,
        "phase": consultation.phase_at(ctx.now).value,
        "languages": list(consultation.languages),
        "links": {
            "self": base + ctx.url_for("api_consultation", slug=slug),
            "html": base + ctx.url_for("consultation", slug=slug),
            "open_data": base + ctx.url_for("open_data", slug=slug),
        },
    }


def _answer(answer: PublicAnswer) -> JsonObject:
    return {
        "id": answer.id,
        "scope": answer.scope.value,
        "contribution_id": answer.contribution_id,
        "cluster_id": answer.cluster_id,
        "campaign_id": answer.campaign_id,
        "article_key": answer.article_key,
        "subject": answer.subject,
        "state": answer.state.value,
        "reason": answer.reason,
        "reach": answer.reach,
        "published_at": _iso(answer.published_at),
    }


def _contribution(item: ContributionWithAnswer) -> JsonObject:
    c = item.contribution
    return {
        "id": c.id,
        "article_key": c.article_key,
        "version": c.version,
        "kind": c.kind.value,
        "stance": c.stance.value if c.stance else None,
        "parent_id": c.parent_id,
        "alinea": c.alinea,
        "quote": c.quote,
        "operation": c.operation,
        "old_text": c.old_text,
        "new_text": c.new_text,
        "body": c.body,
        "url": c.url,
        "author": c.author,
        "created_at": _iso(c.created_at),
        "votes": {"for": c.votes_for, "mixed": c.votes_mixed, "against": c.votes_against},
        "visibility": c.visibility.value,
        "answer": _answer(item.answer) if item.answer is not None else None,
    }


def _change(change: PublicChange) -> JsonObject:
    return {
        "article_key": change.article_key,
        "alinea": change.alinea,
        "kind": change.kind,
        "text": change.text,
        "contribution_id": change.contribution_id,
        "answer_id": change.answer_id,
        "by": change.origin.value,
    }


def _page(page: Page[object], items: list[JsonObject]) -> JsonObject:
    return {"page": page.number, "per_page": page.per_page, "total": page.total, "items": items}


def _counts(line: StateCounts) -> JsonObject:
    return {
        "received": line.total,
        "answered": line.answered,
        "unanswered": line.unanswered,
        "states": dict(sorted(line.by_state.items())),
    }


@_json_errors
async def openapi(ctx: RequestContext) -> Response:
    """The OpenAPI description of this API."""
    return _json(openapi_document(str(ctx.request.base_url).rstrip("/")))


@_json_errors
async def consultations(ctx: RequestContext) -> Response:
    """Every public consultation."""
    found = await list_consultations(ctx.db, ctx.user, ctx.now)
    return _json({"consultations": [_summary(ctx, c) for c in found]})


@_json_errors
async def consultation(ctx: RequestContext) -> Response:
    """One consultation with its schedule, its versions and its counts."""
    record = await consultation_record(ctx.db, await ctx.consultation())
    found = record.consultation
    return _json(
        {
            **_summary(ctx, found),
            "summary": found.summary,
            "phases": [
                {"phase": p.phase.value, "starts_at": _iso(p.starts_at)} for p in found.phases
            ],
            "versions": [
                {"number": v.number, "published_at": _iso(v.published_at)} for v in record.versions
            ],
            "contributions": record.counts.total,
            "answered": record.counts.answered,
        }
    )


@_json_errors
async def version(ctx: RequestContext) -> Response:
    """The text of one version, article by article."""
    found = await ctx.consultation()
    text = await version_text(ctx.db, found, _path_number(ctx, "number"))
    articles = [
        {"key": a.key, "number": a.number, "heading": a.heading, "alineas": list(a.alineas)}
        for a in text.articles
    ]
    return _json(
        {"number": text.number, "published_at": _iso(text.published_at), "articles": articles}
    )


@_json_errors
async def changes(ctx: RequestContext) -> Response:
    """The words a version inserted and deleted, each with its amendment or the ministry."""
    found = await ctx.consultation()
    made = await version_changes(ctx.db, found, _path_number(ctx, "number"))
    return _json({"version": made.version, "changes": [_change(c) for c in made.changes]})


@_json_errors
async def contributions(ctx: RequestContext) -> Response:
    """Contributions, oldest first, with the answer that stands for each."""
    found = await ctx.consultation()
    number, per_page = _paging(ctx)
    filters = _filters(ctx)
    pseudonyms = Pseudonyms(ctx.settings.secret_key)
    page = await contribution_page(ctx.db, found, pseudonyms, filters, number, per_page)
    return _json(_page(page, [_contribution(item) for item in page.items]))


@_json_errors
async def contribution(ctx: RequestContext) -> Response:
    """One contribution with its fate."""
    found = await ctx.consultation()
    contribution_id = _path_number(ctx, "contribution_id")
    pseudonyms = Pseudonyms(ctx.settings.secret_key)
    item = await one_contribution(ctx.db, found, contribution_id, pseudonyms)
    return _json(_contribution(item))


@_json_errors
async def answers(ctx: RequestContext) -> Response:
    """Published answers, oldest first."""
    found = await ctx.consultation()
    number, per_page = _paging(ctx)
    page = await published_answer_page(ctx.db, found, number, per_page)
    return _json(_page(page, [_answer(a) for a in page.items]))


@_json_errors
async def feedback(ctx: RequestContext) -> Response:
    """Contributions received and what became of them, per article and in all."""
    counts = await counts_by_article(ctx.db, await ctx.consultation())
    return _json(
        {
            "total": _counts(total_of(counts)),
            "articles": [{"key": key, **_counts(line)} for key, line in sorted(counts.items())],
        }
    )


def _question(result: QuestionResult | Question, public: bool) -> JsonObject:
    q = result.question if isinstance(result, QuestionResult) else result
    scale = None
    if q.kind is QuestionKind.SCALE:
        scale = {
            "min": q.scale_min,
            "max": q.scale_max,
            "min_label": q.min_label,
            "max_label": q.max_label,
        }
    figures = None
    if public and isinstance(result, QuestionResult):
        figures = {"answered": result.answered, "counts": [bar.count for bar in result.bars]}
    return {
        "key": q.key,
        "section": q.section,
        "kind": q.kind.value,
        "prompt": q.prompt,
        "help": q.help,
        "options": list(q.options),
        "scale": scale,
        "results": figures,
    }


@_json_errors
async def questionnaire(ctx: RequestContext) -> Response:
    """The questions of a questionnaire consultation, with their figures once it is closed."""
    found = await load_questionnaire(ctx.db, await ctx.consultation())
    if found is None:
        raise NotFound("questionnaire")
    public = results_are_public(found.consultation.phase_at(ctx.now))
    results = await questionnaire_results(ctx.db, found, None) if public else None
    questions = results.questions if results is not None else found.questions
    return _json(
        {
            "introduction": found.introduction,
            "respondents": results.respondents if results is not None else None,
            "questions": [_question(q, public) for q in questions],
        }
    )


API = "/api/v1"
ONE = f"{API}/consultations/{{slug}}"

routes = [
    route(f"{API}/openapi.json", openapi, PUBLIC, name="api_openapi"),
    route(f"{API}/consultations", consultations, PUBLIC, name="api_consultations"),
    route(ONE, consultation, PUBLIC, name="api_consultation"),
    route(f"{ONE}/versions/{{number}}", version, PUBLIC, name="api_version"),
    route(f"{ONE}/versions/{{number}}/changes", changes, PUBLIC, name="api_changes"),
    route(f"{ONE}/contributions", contributions, PUBLIC, name="api_contributions"),
    route(
        f"{ONE}/contributions/{{contribution_id}}", contribution, PUBLIC, name="api_contribution"
    ),
    route(f"{ONE}/answers", answers, PUBLIC, name="api_answers"),
    route(f"{ONE}/feedback", feedback, PUBLIC, name="api_feedback"),
    route(f"{ONE}/questionnaire", questionnaire, PUBLIC, name="api_questionnaire"),
]
