"""Synthesis: officials start a run and watch it; everyone reads its reports (HTML, JSON, PDF)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from consult.bills.services import latest_version, table_of_contents
from consult.consultations.models import Consultation
from consult.consultations.services import get_consultation
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.synthesis.edits import (
    cluster_members,
    editable_cluster,
    merge_clusters,
    rename_cluster,
    split_cluster,
)
from consult.synthesis.models import RunStatus, SynthesisCluster, SynthesisRun
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
from consult.web.errors import error_response
from consult.web.forms import read_form, redirect_after_post
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


def _report_url(request: Request, consultation: Consultation, scope: str) -> str:
    if scope == CONSULTATION_SCOPE:
        return str(request.app.url_path_for("synthesis", slug=consultation.slug))
    return str(request.app.url_path_for("synthesis_article", slug=consultation.slug, key=scope))


async def _cluster(request: Request) -> tuple[Consultation, SynthesisCluster]:
    consultation = await _consultation(request)
    cluster = await editable_cluster(
        request.state.db, consultation.id, request.path_params["cluster_id"]
    )
    return consultation, cluster


async def rename_cluster_route(request: Request) -> Response:
    """Give a cluster the ministry's title."""
    consultation, cluster = await _cluster(request)
    form = await read_form(request)
    try:
        await rename_cluster(
            request.state.db,
            cluster,
            form.text("title"),
            request.state.user,
            request.app.state.clock(),
        )
    except FormError as error:
        return error_response(request, 422, next(iter(error.fields.values())))
    return redirect_after_post(request, _report_url(request, consultation, cluster.scope))


async def merge_cluster_route(request: Request) -> Response:
    """Move every contribution of another cluster of the scope into this one."""
    consultation, cluster = await _cluster(request)
    form = await read_form(request)
    raw = form.text("source")
    try:
        if not raw.isdigit():
            raise FormError({"merge": _("Choose the group to merge.")})
        source = await editable_cluster(request.state.db, consultation.id, int(raw))
        await merge_clusters(
            request.state.db, cluster, source, request.state.user, request.app.state.clock()
        )
    except (FormError, NotFound) as error:
        message = error.fields["merge"] if isinstance(error, FormError) else ""
        return error_response(request, 422, message or _("Choose the group to merge."))
    return redirect_after_post(request, _report_url(request, consultation, cluster.scope))


async def _split_page(
    request: Request,
    consultation: Consultation,
    cluster: SynthesisCluster,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    members = await cluster_members(request.state.db, cluster)
    return render(
        request,
        "synthesis/split.html",
        {
            "consultation": consultation,
            "cluster": cluster,
            "members": members,
            "report_url": _report_url(request, consultation, cluster.scope),
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status_code,
    )


async def split_form(request: Request) -> Response:
    """Choose the contributions that leave a cluster to form a new one."""
    consultation, cluster = await _cluster(request)
    return await _split_page(request, consultation, cluster)


async def split_route(request: Request) -> Response:
    """Form a new cluster from the contributions ticked."""
    consultation, cluster = await _cluster(request)
    form = await read_form(request)
    chosen = [int(v) for v in form.every("member") if v.isdigit() and len(v) < 12]
    try:
        await split_cluster(
            request.state.db,
            cluster,
            chosen,
            form.text("title"),
            request.state.user,
            request.app.state.clock(),
        )
    except FormError as error:
        values = {"title": form.text("title"), "members": set(chosen)}
        return await _split_page(
            request, consultation, cluster, errors=error.fields, values=values, status_code=422
        )
    return redirect_after_post(request, _report_url(request, consultation, cluster.scope))


CLUSTER = f"{BASE}/clusters/{{cluster_id:int}}"

routes = [
    route(BASE, consultation_report, PUBLIC, name="synthesis"),
    route(
        f"{CLUSTER}/rename",
        rename_cluster_route,
        OFFICIAL,
        ["POST"],
        name="cluster_rename",
        rate_limit="post",
    ),
    route(
        f"{CLUSTER}/merge",
        merge_cluster_route,
        OFFICIAL,
        ["POST"],
        name="cluster_merge",
        rate_limit="post",
    ),
    route(f"{CLUSTER}/split", split_form, OFFICIAL, name="cluster_split_form"),
    route(
        f"{CLUSTER}/split", split_route, OFFICIAL, ["POST"], name="cluster_split", rate_limit="post"
    ),
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
