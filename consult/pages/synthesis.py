"""Synthesis pages: a report (whole consultation or one article), a run's progress, and the
form that splits a group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consult.answers.inbox import StateCounts, counts_by_article
from consult.bills.models import Provision, ProvisionKind
from consult.bills.services import latest_version, table_of_contents
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution
from consult.contributions.votes import Tally, article_tally
from consult.errors import NotFound
from consult.pages.synthesis_map import ClusterMap, cluster_map
from consult.questionnaires.results import (
    Results,
    questionnaire_results,
    results_are_public,
    results_json,
)
from consult.questionnaires.services import load_questionnaire
from consult.synthesis.edits import cluster_members
from consult.synthesis.models import RunStatus, SynthesisCluster, SynthesisRun
from consult.synthesis.opinions import GroupFigures, group_figures
from consult.synthesis.pipeline import CONSULTATION_SCOPE
from consult.synthesis.report import ArticleSummary, ScopeReport, load_report, report_json
from consult.synthesis.runs import (
    STALLED_AFTER,
    active_run,
    get_run,
    is_stalled,
    latest_draft_run,
    latest_report_run,
    recent_runs,
)


@dataclass(frozen=True)
class ArticleLine:
    """One article in the consultation's synthesis: its groups, its votes, its answers."""

    article: Provision
    summary: ArticleSummary | None
    tally: Tally
    counts: StateCounts


@dataclass(frozen=True)
class ReportPage:
    """A synthesis report: the consultation's themes, with a line per article, or one article's
    groups. Officials see the latest draft and the tools to review and publish it."""

    consultation: Consultation
    report: ScopeReport | None
    articles: dict[str, Provision]
    article: Provision | None
    scope: str
    map: ClusterMap | None
    is_official: bool
    lines: list[ArticleLine] = field(default_factory=list)
    active: SynthesisRun | None = None
    runs: list[SynthesisRun] = field(default_factory=list)
    published_now: bool = False
    """The official has just published this synthesis (a confirmation to show)."""
    opinion_figures: Mapping[int, GroupFigures] = field(default_factory=dict)
    """Officials reviewing an article: group id -> how the opinion groups voted on its
    contributions (counts only)."""
    questions: Results | None = None
    """A questionnaire's figures, its choices crossed with the groups of this run's open
    answers (the whole consultation's report of a questionnaire)."""


@dataclass(frozen=True)
class RunPage:
    """A run's progress, or its outcome."""

    consultation: Consultation
    run: SynthesisRun
    stalled: bool = False
    """No sign of life from its worker for too long: officials may resume it now."""


@dataclass(frozen=True)
class SplitPage:
    """The contributions of a group, to tick those that leave it for a new one."""

    consultation: Consultation
    cluster: SynthesisCluster
    members: list[Contribution]
    report_url: str
    errors: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)


async def article_names(db: AsyncSession, consultation: Consultation) -> dict[str, Provision]:
    """Article key -> provision of the latest version, in bill order."""
    version = await latest_version(db, consultation)
    if version is None:
        return {}
    return {
        entry.provision.key: entry.provision
        for entry in await table_of_contents(db, version)
        if entry.provision.kind is ProvisionKind.ARTICLE
    }


async def _report_run(
    db: AsyncSession, consultation: Consultation, run_id: int | None, is_official: bool
) -> SynthesisRun | None:
    """The run a report shows: `run_id`, or the latest. The public reads published runs only;
    officials also read drafts (the latest one by default)."""
    if run_id is None:
        if is_official:
            return await latest_draft_run(db, consultation.id)
        return await latest_report_run(db, consultation.id)
    run = await get_run(db, consultation.id, run_id)
    if run is None or run.status is not RunStatus.SUCCEEDED or not (is_official or run.published):
        raise NotFound(str(run_id))
    return run


async def scope_report(
    db: AsyncSession,
    consultation: Consultation,
    scope: str,
    run_id: int | None,
    *,
    is_official: bool = False,
) -> tuple[ScopeReport | None, dict[str, Provision]]:
    """The report of `scope` (an article key, or the whole consultation) in the run asked
    for or the latest one, articles in bill order; NotFound for an unknown article or run."""
    articles = await article_names(db, consultation)
    if scope != CONSULTATION_SCOPE and scope not in articles:
        raise NotFound(scope)
    run = await _report_run(db, consultation, run_id, is_official)
    report = await load_report(db, run, scope) if run is not None else None
    if report is not None and report.articles:
        order = {key: index for index, key in enumerate(articles)}
        report.articles.sort(key=lambda s: order.get(s.scope, len(order)))
    return report, articles


async def _article_lines(
    db: AsyncSession,
    consultation: Consultation,
    articles: Mapping[str, Provision],
    report: ScopeReport,
) -> list[ArticleLine]:
    """Every article of the bill with its groups, its votes and how far it is answered."""
    summaries = {s.scope: s for s in report.articles}
    counts = await counts_by_article(db, consultation)
    return [
        ArticleLine(
            provision,
            summaries.get(key),
            await article_tally(db, consultation, key),
            counts.get(key, StateCounts()),
        )
        for key, provision in articles.items()
    ]


async def _opinion_figures(db: AsyncSession, report: ScopeReport) -> dict[int, GroupFigures]:
    """How the opinion groups voted on the contributions of each of an article's groups, its
    "other" group included."""
    groups = [*report.clusters, *([report.other] if report.other else [])]
    return await group_figures(db, report.run.id, [group.id for group in groups])


async def report_page(
    db: AsyncSession,
    consultation: Consultation,
    scope: str,
    run_id: int | None,
    *,
    is_official: bool,
    now: datetime,
    published_now: bool = False,
) -> ReportPage:
    """A report page; officials also see the run under way and the recent runs."""
    report, articles = await scope_report(db, consultation, scope, run_id, is_official=is_official)
    whole = scope == CONSULTATION_SCOPE
    runs_shown = is_official and whole
    return ReportPage(
        consultation=consultation,
        report=report,
        articles=articles,
        article=articles.get(scope),
        scope=scope,
        map=cluster_map(report) if report is not None else None,
        is_official=is_official,
        lines=await _article_lines(db, consultation, articles, report) if report and whole else [],
        active=await active_run(db, consultation.id) if runs_shown else None,
        runs=list(await recent_runs(db, consultation.id)) if runs_shown else [],
        published_now=published_now,
        opinion_figures=(
            await _opinion_figures(db, report) if report and is_official and not whole else {}
        ),
        questions=(
            await _questions(db, consultation, report, now, is_official=is_official)
            if whole
            else None
        ),
    )


async def _questions(
    db: AsyncSession,
    consultation: Consultation,
    report: ScopeReport | None,
    now: datetime,
    *,
    is_official: bool,
) -> Results | None:
    """A questionnaire's results crossed with the report's groups (None for a bill, and for
    the public while answers are taken: figures would sway those still answering)."""
    if report is None or not consultation.is_questionnaire:
        return None
    if not (is_official or results_are_public(consultation.phase_at(now))):
        return None
    questionnaire = await load_questionnaire(db, consultation)
    if questionnaire is None:
        return None
    return await questionnaire_results(db, questionnaire, report.run)


async def report_document(
    db: AsyncSession,
    consultation: Consultation,
    scope: str,
    run_id: int | None,
    *,
    is_official: bool,
    now: datetime,
) -> dict[str, Any] | None:
    """A report as JSON (schema in docs/synthesis.md), None when there is none yet; the whole
    report of a questionnaire carries its closed questions' figures and crossings, as its page."""
    report, _articles = await scope_report(db, consultation, scope, run_id, is_official=is_official)
    if report is None:
        return None
    document = report_json(report, consultation.slug)
    if consultation.is_questionnaire and scope == CONSULTATION_SCOPE:
        questions = await _questions(db, consultation, report, now, is_official=is_official)
        document["questions"] = results_json(questions) if questions is not None else None
    return document


async def run_page(
    db: AsyncSession,
    consultation: Consultation,
    run_id: int,
    now: datetime,
    stalled_after: timedelta = STALLED_AFTER,
) -> RunPage:
    """A run of this consultation (NotFound otherwise), and whether it is stalled."""
    run = await get_run(db, consultation.id, run_id)
    if run is None:
        raise NotFound(str(run_id))
    return RunPage(consultation, run, is_stalled(run, now, stalled_after))


async def split_page(
    db: AsyncSession,
    consultation: Consultation,
    cluster: SynthesisCluster,
    report_url: str,
    *,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> SplitPage:
    """The split form of a group."""
    members = await cluster_members(db, cluster)
    return SplitPage(consultation, cluster, members, report_url, errors or {}, values or {})
