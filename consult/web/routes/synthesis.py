"""Synthesis: officials start a run and watch it; everyone reads its reports (HTML, JSON, PDF)."""

from __future__ import annotations

from datetime import timedelta

from starlette.responses import JSONResponse, Response

from consult.consultations.models import Consultation
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.input import whole_number
from consult.jobs import synthesize
from consult.pages.synthesis import report_document, report_page, run_page, split_page
from consult.synthesis.edits import editable_cluster, merge_clusters, rename_cluster, split_cluster
from consult.synthesis.models import RunStatus, SynthesisCluster, SynthesisRun
from consult.synthesis.pipeline import CONSULTATION_SCOPE, SynthesisParams
from consult.synthesis.review import publish_run, summarise_group, summarise_run
from consult.synthesis.runs import get_run, run_job_id, runs_to_resume, start_run
from consult.web.context import RequestContext
from consult.web.forms import read_form
from consult.web.permissions import CONSULTATION_OFFICIAL, PUBLIC
from consult.web.routing import route

BASE = "/consultations/{slug}/synthesis"


def _scope(ctx: RequestContext) -> str:
    """The article of the path, or the whole consultation."""
    return str(ctx.request.path_params.get("key", CONSULTATION_SCOPE))


def _run_asked(ctx: RequestContext) -> int | None:
    """`?run=ID`: a past run's report rather than the latest (NotFound when malformed)."""
    raw = ctx.query.get("run", "")
    run_id = whole_number(raw)
    if raw and run_id is None:
        raise NotFound(raw)
    return run_id


async def report(ctx: RequestContext) -> Response:
    """The synthesis of the whole consultation (its themes, a line per article) or of one
    article (its groups); officials read the draft, and review and publish it here."""
    consultation = await ctx.consultation()
    page = await report_page(
        ctx.db,
        consultation,
        _scope(ctx),
        _run_asked(ctx),
        is_official=await ctx.is_official_of(consultation),
        now=ctx.now,
        published_now=ctx.query.get("published") == "1",
    )
    return ctx.render("synthesis/report.html", page)


async def report_as_json(ctx: RequestContext) -> Response:
    """A synthesis report as JSON (schema in docs/synthesis.md)."""
    consultation = await ctx.consultation()
    official = await ctx.is_official_of(consultation)
    document = await report_document(
        ctx.db, consultation, _scope(ctx), _run_asked(ctx), is_official=official, now=ctx.now
    )
    if document is None:
        return JSONResponse({"error": "no synthesis has been published yet"}, status_code=404)
    return JSONResponse(document)


async def report_as_pdf(ctx: RequestContext) -> Response:
    """A synthesis report as a PDF."""
    consultation, scope = await ctx.consultation(), _scope(ctx)
    official = await ctx.is_official_of(consultation)
    page = await report_page(
        ctx.db, consultation, scope, _run_asked(ctx), is_official=official, now=ctx.now
    )
    if page.report is None:
        raise NotFound(scope)
    html = ctx.render_document("synthesis/print.html", page)
    name = f"synthese-{consultation.slug}{'-' + scope if scope else ''}-{page.report.run.id}.pdf"
    return Response(
        await ctx.services.pdfs.render(html, str(ctx.request.base_url)),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


async def _queue_run(
    ctx: RequestContext, consultation: Consultation, model_id: str, params: SynthesisParams
) -> Response:
    """Create a run (or find the one under way), queue it after commit, go to its page."""
    run, created = await start_run(
        ctx.db,
        consultation.id,
        model_id=model_id,
        params=params,
        requested_by_id=ctx.member.id,
        now=ctx.now,
    )
    if created:
        ctx.enqueue(synthesize, run.id, job_id=run_job_id(run.id))
    return _to_run_page(ctx, consultation, run)


def _to_run_page(ctx: RequestContext, consultation: Consultation, run: SynthesisRun) -> Response:
    return ctx.redirect(ctx.url_for("synthesis_run", slug=consultation.slug, run_id=run.id))


async def start(ctx: RequestContext) -> Response:
    """Start a synthesis run (or show the one already under way)."""
    # The model's exact id and version are recorded by the worker that runs it.
    model_id = ctx.settings.embedding_model or ""
    return await _queue_run(ctx, await ctx.consultation(), model_id, SynthesisParams())


def _stalled_after(ctx: RequestContext) -> timedelta:
    return timedelta(seconds=ctx.settings.synthesis_stalled_seconds)


async def show_run(ctx: RequestContext) -> Response:
    """A run's progress (polled by htmx while it is under way) or its outcome."""
    consultation, run_id = await ctx.consultation(), ctx.path_id("run_id")
    page = await run_page(ctx.db, consultation, run_id, ctx.now, _stalled_after(ctx))
    return ctx.render("synthesis/run.html", page, block="progress")


async def resume(ctx: RequestContext) -> Response:
    """Resume a stalled run now, on any worker, on the input it started with (a run that is
    not stalled is left as it is)."""
    consultation = await ctx.consultation()
    run = await get_run(ctx.db, consultation.id, ctx.path_id("run_id"))
    if run is None:
        raise NotFound(ctx.path("run_id"))
    for run_id, job_id in await runs_to_resume(ctx.db, ctx.now, _stalled_after(ctx), run.id):
        ctx.enqueue(synthesize, run_id, job_id=job_id)
    return _to_run_page(ctx, consultation, run)


async def retry(ctx: RequestContext) -> Response:
    """Start a new run after a failed one, with the same parameters."""
    consultation = await ctx.consultation()
    failed = await get_run(ctx.db, consultation.id, ctx.path_id("run_id"))
    if failed is None:
        raise NotFound(ctx.path("run_id"))
    if failed.status is not RunStatus.FAILED:
        return _to_run_page(ctx, consultation, failed)
    params = SynthesisParams.from_json(failed.params)
    return await _queue_run(ctx, consultation, failed.model_id, params)


def _report_url(ctx: RequestContext, consultation: Consultation, group: SynthesisCluster) -> str:
    """The report a group is shown on, in its own run, at the group."""
    if group.scope == CONSULTATION_SCOPE:
        url = ctx.url_for("synthesis", slug=consultation.slug)
    else:
        url = ctx.url_for("synthesis_article", slug=consultation.slug, key=group.scope)
    return f"{url}?run={group.run_id}#group-{group.id}"


async def _cluster(ctx: RequestContext) -> tuple[Consultation, SynthesisCluster]:
    consultation = await ctx.consultation()
    cluster = await editable_cluster(ctx.db, consultation.id, ctx.path_id("cluster_id"))
    return consultation, cluster


async def _succeeded_run(ctx: RequestContext) -> tuple[Consultation, SynthesisRun]:
    consultation = await ctx.consultation()
    run = await get_run(ctx.db, consultation.id, ctx.path_id("run_id"))
    if run is None or run.status is not RunStatus.SUCCEEDED:
        raise NotFound(ctx.path("run_id"))
    return consultation, run


async def publish(ctx: RequestContext) -> Response:
    """Publish a reviewed synthesis: the public sees it from now on."""
    consultation, run = await _succeeded_run(ctx)
    await publish_run(ctx.db, run, ctx.member, ctx.now)
    url = ctx.url_for("synthesis", slug=consultation.slug)
    return ctx.redirect(f"{url}?run={run.id}&published=1")


async def summarise(ctx: RequestContext) -> Response:
    """The ministry's summary of the whole consultation, shown at the top of its synthesis."""
    consultation, run = await _succeeded_run(ctx)
    form = await read_form(ctx.request)
    try:
        await summarise_run(ctx.db, run, form.text("summary"), ctx.member, ctx.now)
    except FormError as error:
        return ctx.error(422, error.first_message)
    url = ctx.url_for("synthesis", slug=consultation.slug)
    return ctx.redirect(f"{url}?run={run.id}")


async def summarise_cluster(ctx: RequestContext) -> Response:
    """The ministry's summary of one group."""
    consultation, cluster = await _cluster(ctx)
    form = await read_form(ctx.request)
    try:
        await summarise_group(ctx.db, cluster, form.text("summary"), ctx.member, ctx.now)
    except FormError as error:
        return ctx.error(422, error.first_message)
    return ctx.redirect(_report_url(ctx, consultation, cluster))


async def rename(ctx: RequestContext) -> Response:
    """Give a cluster the ministry's title."""
    consultation, cluster = await _cluster(ctx)
    form = await read_form(ctx.request)
    try:
        await rename_cluster(ctx.db, cluster, form.text("title"), ctx.member, ctx.now)
    except FormError as error:
        return ctx.error(422, error.first_message)
    return ctx.redirect(_report_url(ctx, consultation, cluster))


async def merge(ctx: RequestContext) -> Response:
    """Move every contribution of another cluster of the scope into this one."""
    consultation, cluster = await _cluster(ctx)
    form = await read_form(ctx.request)
    source_id = form.number("source")
    try:
        if source_id is None:
            raise NotFound("source")
        source = await editable_cluster(ctx.db, consultation.id, source_id)
        await merge_clusters(ctx.db, cluster, source, ctx.member, ctx.now)
    except (FormError, NotFound) as error:
        message = error.first_message if isinstance(error, FormError) else ""
        return ctx.error(422, message or _("Choose the group to merge."))
    return ctx.redirect(_report_url(ctx, consultation, cluster))


async def split_form(ctx: RequestContext) -> Response:
    """Choose the contributions that leave a cluster to form a new one."""
    consultation, cluster = await _cluster(ctx)
    back = _report_url(ctx, consultation, cluster)
    page = await split_page(ctx.db, consultation, cluster, back)
    return ctx.render("synthesis/split.html", page)


async def split(ctx: RequestContext) -> Response:
    """Form a new cluster from the contributions ticked."""
    consultation, cluster = await _cluster(ctx)
    form = await read_form(ctx.request)
    chosen = form.numbers("member")
    back = _report_url(ctx, consultation, cluster)
    try:
        await split_cluster(ctx.db, cluster, chosen, form.text("title"), ctx.member, ctx.now)
    except FormError as error:
        values = {"title": form.text("title"), "members": set(chosen)}
        page = await split_page(
            ctx.db, consultation, cluster, back, errors=error.fields, values=values
        )
        return ctx.render("synthesis/split.html", page, status_code=422)
    return ctx.redirect(back)


ARTICLE = f"{BASE}/articles/{{key}}"
CLUSTER = f"{BASE}/clusters/{{cluster_id:id}}"
RUN = f"{BASE}/runs/{{run_id:id}}"

routes = [
    route(BASE, report, PUBLIC, name="synthesis"),
    route(
        f"{CLUSTER}/rename",
        rename,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="cluster_rename",
        rate_limit="post",
    ),
    route(
        f"{CLUSTER}/merge",
        merge,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="cluster_merge",
        rate_limit="post",
    ),
    route(f"{CLUSTER}/split", split_form, CONSULTATION_OFFICIAL, name="cluster_split_form"),
    route(
        f"{CLUSTER}/split",
        split,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="cluster_split",
        rate_limit="post",
    ),
    route(f"{BASE}/report.json", report_as_json, PUBLIC, name="synthesis_json"),
    route(f"{BASE}/report.pdf", report_as_pdf, PUBLIC, name="synthesis_pdf", rate_limit="post"),
    route(ARTICLE, report, PUBLIC, name="synthesis_article"),
    route(f"{ARTICLE}/report.json", report_as_json, PUBLIC, name="synthesis_article_json"),
    route(
        f"{ARTICLE}/report.pdf",
        report_as_pdf,
        PUBLIC,
        name="synthesis_article_pdf",
        rate_limit="post",
    ),
    route(f"{BASE}/runs", start, CONSULTATION_OFFICIAL, ["POST"], name="synthesis_start"),
    route(RUN, show_run, CONSULTATION_OFFICIAL, name="synthesis_run"),
    route(f"{RUN}/retry", retry, CONSULTATION_OFFICIAL, ["POST"], name="synthesis_retry"),
    route(f"{RUN}/resume", resume, CONSULTATION_OFFICIAL, ["POST"], name="synthesis_resume"),
    route(f"{RUN}/publish", publish, CONSULTATION_OFFICIAL, ["POST"], name="synthesis_publish"),
    route(f"{RUN}/summary", summarise, CONSULTATION_OFFICIAL, ["POST"], name="synthesis_summary"),
    route(
        f"{CLUSTER}/summary",
        summarise_cluster,
        CONSULTATION_OFFICIAL,
        ["POST"],
        name="cluster_summary",
        rate_limit="post",
    ),
]
