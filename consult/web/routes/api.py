"""The read-only JSON API: consultations, versions, contributions with their fate, answers,
feedback counts and the provenance of changes. Described by ``/api/v1/openapi.json``.

Path and query parameters are validated here rather than by the router, so that a malformed
value is a JSON error (400 or 404) like every other answer of the API, never an HTML page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from consult.answers.inbox import counts_by_article, total_of
from consult.answers.models import Answer, ContributionOutcome
from consult.bills.models import BillVersion
from consult.bills.services import article_alineas, bill_of_version, list_versions
from consult.consultations.models import Consultation
from consult.consultations.services import get_consultation, list_consultations
from consult.contributions.models import Contribution, ContributionKind
from consult.errors import NotFound
from consult.opendata.tables import Pseudonyms
from consult.revisions.models import VersionChange
from consult.web.api_schema import openapi_document
from consult.web.permissions import PUBLIC
from consult.web.routing import route

MAX_PER_PAGE = 200
# Identifiers and numbers beyond this are no row of ours (and beyond a database integer).
_MAX_ID = 2**31 - 1


class BadRequest(ValueError):
    """A query parameter the API cannot use."""


def _json(data: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status_code, headers={"Cache-Control": "no-store"})


def _error(message: str, status_code: int) -> JSONResponse:
    return _json({"error": message}, status_code)


def _positive(raw: str | None, name: str, default: int, maximum: int = _MAX_ID) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"{name} must be a whole number from 1 to {maximum}")
    return int(raw)


def _path_number(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= _MAX_ID:
        raise NotFound(raw)
    return int(raw)


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


async def _consultation(request: Request) -> Consultation:
    return await get_consultation(
        request.state.db, request.path_params["slug"], request.state.user, request.app.state.clock()
    )


def _handle(handler: Any) -> Any:
    """Turn NotFound and BadRequest into JSON errors."""

    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except NotFound:
            return _error("not found", 404)
        except BadRequest as error:
            return _error(str(error), 400)
        return response

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def _summary(request: Request, consultation: Consultation) -> dict[str, Any]:
    now = request.app.state.clock()
    base = str(request.base_url).rstrip("/")
    return {
        "slug": consultation.slug,
        "title": consultation.title,
        "ministry": consultation.ministry,
        "phase": consultation.phase_at(now).value,
        "languages": list(consultation.languages),
        "links": {
            "self": f"{base}/api/v1/consultations/{consultation.slug}",
            "html": f"{base}/consultations/{consultation.slug}",
            "open_data": f"{base}/consultations/{consultation.slug}/export.zip",
        },
    }


@_handle
async def openapi(request: Request) -> Response:
    """The OpenAPI description of this API."""
    return _json(openapi_document(str(request.base_url).rstrip("/")))


@_handle
async def consultations(request: Request) -> Response:
    """Every public consultation."""
    found = await list_consultations(
        request.state.db, request.state.user, request.app.state.clock()
    )
    return _json({"consultations": [_summary(request, c) for c in found]})


@_handle
async def consultation(request: Request) -> Response:
    """One consultation with its schedule, its versions and its counts."""
    found = await _consultation(request)
    db = request.state.db
    versions = await list_versions(db, found)
    counts = total_of(await counts_by_article(db, found))
    return _json(
        {
            **_summary(request, found),
            "summary": found.summary,
            "phases": [
                {"phase": p.phase.value, "starts_at": _iso(p.starts_at)} for p in found.phases
            ],
            "versions": [
                {"number": v.number, "published_at": _iso(v.published_at)} for v in versions
            ],
            "contributions": counts.total,
            "answered": counts.answered,
        }
    )


async def _version(request: Request, consultation: Consultation) -> BillVersion:
    number = _path_number(request, "number")
    version: BillVersion | None = await request.state.db.scalar(
        select(BillVersion).where(
            BillVersion.consultation_id == consultation.id, BillVersion.number == number
        )
    )
    if version is None:
        raise NotFound(str(number))
    return version


@_handle
async def version(request: Request) -> Response:
    """The text of one version, article by article."""
    found = await _consultation(request)
    chosen = await _version(request, found)
    bill = await bill_of_version(request.state.db, chosen)
    alineas = article_alineas(bill)
    return _json(
        {
            "number": chosen.number,
            "published_at": _iso(chosen.published_at),
            "articles": [
                {
                    "key": a.key,
                    "number": a.number,
                    "heading": a.heading,
                    "alineas": alineas[a.key],
                }
                for a in bill.articles()
            ],
        }
    )


def _answer(answer: Answer) -> dict[str, Any]:
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


def _contribution(
    c: Contribution, version_number: int, answer: Answer | None, pseudonyms: Pseudonyms
) -> dict[str, Any]:
    visible = c.is_visible
    return {
        "id": c.id,
        "article_key": c.article_key,
        "version": version_number,
        "kind": c.kind.value,
        "stance": c.stance.value if c.stance else None,
        "parent_id": c.parent_id,
        "alinea": c.alinea,
        "quote": c.quote_exact if visible else None,
        "operation": c.operation,
        "old_text": c.old_text if visible else "",
        "new_text": c.new_text if visible else "",
        "body": c.body if visible else "",
        "author": pseudonyms.of(c.author_id, c.author_pseudonym),
        "created_at": _iso(c.created_at),
        "votes": {"for": c.votes_for, "mixed": c.votes_mixed, "against": c.votes_against},
        "visibility": c.visibility.value,
        "answer": _answer(answer) if answer is not None else None,
    }


def _contributions_query(found: Consultation) -> Any:
    return (
        select(Contribution, BillVersion.number, Answer)
        .join(BillVersion, BillVersion.id == Contribution.version_id)
        .outerjoin(ContributionOutcome, ContributionOutcome.contribution_id == Contribution.id)
        .outerjoin(Answer, Answer.id == ContributionOutcome.answer_id)
        .where(Contribution.consultation_id == found.id)
    )


@_handle
async def contributions(request: Request) -> Response:
    """Contributions, oldest first, with the answer that stands for each."""
    found = await _consultation(request)
    query = request.query_params
    page = _positive(query.get("page"), "page", 1)
    per_page = _positive(query.get("per_page"), "per_page", 50, MAX_PER_PAGE)
    kind = query.get("kind") or None
    if kind is not None and kind not in {k.value for k in ContributionKind}:
        raise BadRequest("kind must be one of " + ", ".join(k.value for k in ContributionKind))
    article = query.get("article") or None
    conditions = [Contribution.consultation_id == found.id]
    if kind:
        conditions.append(Contribution.kind == ContributionKind(kind))
    if article:
        conditions.append(Contribution.article_key == article)
    db = request.state.db
    total = int(await db.scalar(select(func.count()).where(*conditions)) or 0)
    rows = (
        await db.execute(
            _contributions_query(found)
            .where(*conditions)
            .order_by(Contribution.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ).all()
    pseudonyms = Pseudonyms(request.app.state.settings.secret_key)
    return _json(
        {
            "page": page,
            "per_page": per_page,
            "total": total,
            "items": [_contribution(c, n, a, pseudonyms) for c, n, a in rows],
        }
    )


@_handle
async def contribution(request: Request) -> Response:
    """One contribution with its fate."""
    found = await _consultation(request)
    contribution_id = _path_number(request, "contribution_id")
    row = (
        await request.state.db.execute(
            _contributions_query(found).where(Contribution.id == contribution_id)
        )
    ).first()
    if row is None:
        raise NotFound(str(contribution_id))
    c, number, answer = row
    return _json(
        _contribution(c, number, answer, Pseudonyms(request.app.state.settings.secret_key))
    )


@_handle
async def answers(request: Request) -> Response:
    """Published answers, oldest first."""
    found = await _consultation(request)
    query = request.query_params
    page = _positive(query.get("page"), "page", 1)
    per_page = _positive(query.get("per_page"), "per_page", 50, MAX_PER_PAGE)
    published = (Answer.consultation_id == found.id, Answer.published_at.is_not(None))
    db = request.state.db
    total = int(await db.scalar(select(func.count()).select_from(Answer).where(*published)) or 0)
    rows = (
        await db.scalars(
            select(Answer)
            .where(*published)
            .order_by(Answer.published_at, Answer.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ).all()
    return _json(
        {"page": page, "per_page": per_page, "total": total, "items": [_answer(a) for a in rows]}
    )


def _counts(line: Any) -> dict[str, Any]:
    return {
        "received": line.total,
        "answered": line.answered,
        "unanswered": line.unanswered,
        "states": dict(sorted(line.by_state.items())),
    }


@_handle
async def feedback(request: Request) -> Response:
    """Contributions received and what became of them, per article and in all."""
    found = await _consultation(request)
    counts = await counts_by_article(request.state.db, found)
    return _json(
        {
            "total": _counts(total_of(counts)),
            "articles": [{"key": key, **_counts(line)} for key, line in sorted(counts.items())],
        }
    )


@_handle
async def changes(request: Request) -> Response:
    """The words a version inserted and deleted, each with its amendment or the ministry."""
    found = await _consultation(request)
    chosen = await _version(request, found)
    rows = (
        await request.state.db.scalars(
            select(VersionChange)
            .where(VersionChange.version_id == chosen.id)
            .order_by(VersionChange.id)
        )
    ).all()
    return _json(
        {
            "version": chosen.number,
            "changes": [
                {
                    "article_key": c.article_key,
                    "alinea": c.alinea,
                    "kind": c.kind,
                    "text": c.text,
                    "contribution_id": c.contribution_id,
                    "answer_id": c.answer_id,
                    "by": "amendment" if c.contribution_id else "ministry",
                }
                for c in rows
            ],
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
]
