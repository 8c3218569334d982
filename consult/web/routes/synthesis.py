"""Synthesis: officials start a run and watch it; everyone reads its reports (HTML, JSON, PDF)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from consult.bills.services import latest_version, table_of_contents
from consult.consultations.models import Consultation
from consult.consultations.services import get_consultation
from consult.errors import NotFound
from consult.synthesis.models import RunStatus, SynthesisRun
from consult.synthesis.pipeline import CONSULTATION_SCOPE, SynthesisParams
from consult.synthesis.report import ScopeReport, load_report, report_json
from consult.synthesis.runs import (
    active_run,
    get_run,
    latest_report_run,
    recent_runs,
    run_job_id,
    start_run,
)
from consult.web.forms import redirect_after_post
from consult.web.pdf import render_pdf
from consult.web.permissions import OFFICIAL, PUBLIC
from consult.web.routing import after_commit, route
from consult.web.synthesis_map import cluster_map
from consult.web.templating import base_context, render

BASE = "/consultations/{slug}/synthesis"


async def _consultation(request: Request) -> Consultation:
    return await get_consultation(
        request.state.db, request.path_params["slug"], request.state.user, request.app.state.clock()
    )


async def _article_names(request: Request, consultation: Consultation) -> dict[str, Any]:
    """Article key -> provision of the latest version, in bill order."""
    version = await latest_version(request.state.db, consultation)
    if version is None:
        return {}
    return {
        entry.provision.key: entry.provision
        for entry in await table_of_contents(request.state.db, version)
        if entry.provision.kind.value == "article"
    }


async def _report_run(request: Request, consultation: Consultation) -> SynthesisRun | None:
    """The run a report shows: `?run=ID` (a successful run) or the latest successful one."""
    db = request.state.db
    wanted = request.query_params.get("run", "")
    if wanted:
        if not wanted.isdigit():
            raise NotFound(wanted)
        run = await get_run(db, consultation.id, int(wanted))
        if run is None or run.status is not RunStatus.SUCCEEDED:
            raise NotFound(wanted)
        return run
    return await latest_report_run(db, consultation.id)


async def _scope_report(
    request: Request, scope: str
) -> tuple[Consultation, ScopeReport | None, dict[str, Any]]:
    consultation = await _consultation(request)
    articles = await _article_names(request, consultation)
    if scope != CONSULTATION_SCOPE and scope not in articles:
        raise NotFound(scope)
    run = await _report_run(request, consultation)
    report = await load_report(request.state.db, run, scope) if run is not None else None
    if report is not None and report.articles:
        order = {key: index for index, key in enumerate(articles)}
        report.articles.sort(key=lambda s: order.get(s.scope, len(order)))
    return consultation, report, articles


def _is_official(request: Request) -> bool:
    return OFFICIAL.allows(request.state.user)


async def _page(request: Request, scope: str) -> Response:
    consultation, report, articles = await _scope_report(request, scope)
    db = request.state.db
    context: dict[str, Any] = {
        "consultation": consultation,
        "report": report,
        "articles": articles,
        "article": articles.get(scope),
        "scope": scope,
        "map": cluster_map(report) if report is not None else None,
        "is_official": _is_official(request),
    }
    if context["is_official"] and scope == CONSULTATION_SCOPE:
        context["active"] = await active_run(db, consultation.id)
        context["runs"] = await recent_runs(db, consultation.id)
    return render(request, "synthesis/report.html", context)


async def consultation_report(request: Request) -> Response:
    """The synthesis of the whole consultation, with one line per article."""
    return await _page(request, CONSULTATION_SCOPE)


async def article_report(request: Request) -> Response:
    """The synthesis of one article."""
    return await _page(request, request.path_params["key"])


async def _json(request: Request, scope: str) -> Response:
    consultation, report, _articles = await _scope_report(request, scope)
    if report is None:
        return JSONResponse({"error": "no synthesis has been published yet"}, status_code=404)
    return JSONResponse(report_json(report, consultation.slug))


async def consultation_json(request: Request) -> Response:
    """The consultation's synthesis as JSON."""
    return await _json(request, CONSULTATION_SCOPE)


async def article_json(request: Request) -> Response:
    """One article's synthesis as JSON."""
    return await _json(request, request.path_params["key"])


async def _pdf(request: Request, scope: str) -> Response:
    consultation, report, articles = await _scope_report(request, scope)
    if report is None:
        raise NotFound(scope)
    html = request.app.state.templates.get_template("synthesis/print.html").render(
        **base_context(request),
        consultation=consultation,
        report=report,
        articles=articles,
        article=articles.get(scope),
        scope=scope,
        map=cluster_map(report),
    )
    name = f"synthese-{consultation.slug}{'-' + scope if scope else ''}-{report.run.id}.pdf"
    return Response(
        await render_pdf(html, str(request.base_url)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


async def consultation_pdf(request: Request) -> Response:
    """The consultation's synthesis as a PDF."""
    return await _pdf(request, CONSULTATION_SCOPE)


async def article_pdf(request: Request) -> Response:
    """One article's synthesis as a PDF."""
    return await _pdf(request, request.path_params["key"])


async def _queue_run(
    request: Request, consultation: Consultation, model_id: str, params: SynthesisParams
) -> Response:
    """Create a run (or find the one under way), queue it after commit, go to its page."""
    run, created = await start_run(
        request.state.db,
        consultation.id,
        model_id=model_id,
        params=params,
        requested_by_id=request.state.user.id,
        now=request.app.state.clock(),
    )
    if created:
        run_id = run.id
        after_commit(
            request,
            lambda: request.app.state.jobs.enqueue("synthesize", run_id, job_id=run_job_id(run_id)),
        )
    return _to_run_page(request, consultation, run)


def _to_run_page(request: Request, consultation: Consultation, run: SynthesisRun) -> Response:
    return redirect_after_post(
        request, request.url_for("synthesis_run", slug=consultation.slug, run_id=run.id).path
    )


async def start(request: Request) -> Response:
    """Start a synthesis run (or show the one already under way)."""
    consultation = await _consultation(request)
    # The model's exact id and version are recorded by the worker that runs it.
    model_id = request.app.state.settings.embedding_model or ""
    return await _queue_run(request, consultation, model_id, SynthesisParams())


async def _run_of(request: Request) -> tuple[Consultation, SynthesisRun]:
    consultation = await _consultation(request)
    run = await get_run(request.state.db, consultation.id, request.path_params["run_id"])
    if run is None:
        raise NotFound(str(request.path_params["run_id"]))
    return consultation, run


async def show_run(request: Request) -> Response:
    """A run's progress (polled by htmx while it is under way) or its outcome."""
    consultation, run = await _run_of(request)
    return render(
        request,
        "synthesis/run.html",
        {"consultation": consultation, "run": run},
        block="progress",
    )


async def retry(request: Request) -> Response:
    """Start a new run after a failed one, with the same parameters."""
    consultation, failed = await _run_of(request)
    if failed.status is not RunStatus.FAILED:
        return _to_run_page(request, consultation, failed)
    params = SynthesisParams.from_json(failed.params)
    return await _queue_run(request, consultation, failed.model_id, params)


routes = [
    route(BASE, consultation_report, PUBLIC, name="synthesis"),
    route(f"{BASE}/report.json", consultation_json, PUBLIC, name="synthesis_json"),
    route(f"{BASE}/report.pdf", consultation_pdf, PUBLIC, name="synthesis_pdf", rate_limit="post"),
    route(f"{BASE}/articles/{{key}}", article_report, PUBLIC, name="synthesis_article"),
    route(
        f"{BASE}/articles/{{key}}/report.json", article_json, PUBLIC, name="synthesis_article_json"
    ),
    route(
        f"{BASE}/articles/{{key}}/report.pdf",
        article_pdf,
        PUBLIC,
        name="synthesis_article_pdf",
        rate_limit="post",
    ),
    route(f"{BASE}/runs", start, OFFICIAL, ["POST"], name="synthesis_start"),
    route(f"{BASE}/runs/{{run_id:int}}", show_run, OFFICIAL, name="synthesis_run"),
    route(f"{BASE}/runs/{{run_id:int}}/retry", retry, OFFICIAL, ["POST"], name="synthesis_retry"),
]
