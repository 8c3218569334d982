"""An official starts a synthesis, follows it, and everyone reads its reports."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.demo.seed import DEMO_SLUG
from consult.synthesis.models import (
    RunStage,
    RunStatus,
    SynthesisCampaign,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.synthesis.runs import SYNTHESISED_KINDS
from tests.support.seeding import read_in_english
from tests.support.site import Site, htmx_headers
from tests.support.synthesis import run_rows as rows
from tests.support.synthesis import start_and_finish

BASE = f"/consultations/{DEMO_SLUG}/synthesis"


@pytest.fixture
def site(demo: Site) -> Site:
    """Here, the site holds the demo consultation, read in English (the assertions quote the
    English texts)."""
    return read_in_english(demo)


def visible_synthesised(site: Site) -> list[Contribution]:
    query = select(Contribution).where(
        Contribution.visibility == Visibility.VISIBLE, Contribution.kind.in_(SYNTHESISED_KINDS)
    )
    return [contribution for (contribution,) in site.rows(query)]


@pytest.mark.each_database
def test_official_runs_a_synthesis_and_every_count_matches_the_database(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    page = site.client.get(BASE)
    assert "No synthesis has been published" in page.text
    assert "Start a synthesis" in page.text

    run_id = start_and_finish(site)
    progress = site.client.get(f"{BASE}/runs/{run_id}")
    assert progress.status_code == 200
    assert "Complete" in progress.text and "Read the report" in progress.text
    assert 'hx-trigger="every 2s"' not in progress.text  # polling stops once finished

    contributions = visible_synthesised(site)
    memberships = rows(site, SynthesisMembership, run_id)
    clusters = rows(site, SynthesisCluster, run_id)
    # each contribution is once in the consultation scope and once in its article's scope
    by_scope: dict[str, list[int]] = {}
    for m in memberships:
        by_scope.setdefault(m.scope, []).append(m.contribution_id)
    assert sorted(by_scope[""]) == sorted(c.id for c in contributions)
    for c in contributions:
        assert by_scope[c.article_key].count(c.id) == 1
    # cluster sizes add up, vote splits are the sums of their members' counters
    by_id = {c.id: c for c in contributions}
    members_of: dict[int, list[int]] = {}
    for m in memberships:
        members_of.setdefault(m.cluster_id, []).append(m.contribution_id)
    for cluster in clusters:
        members = members_of[cluster.id]
        assert cluster.contributions == len(members)
        assert cluster.votes_for == sum(by_id[i].votes_for for i in members)
        assert cluster.votes_against == sum(by_id[i].votes_against for i in members)
        assert set(cluster.quotes) <= set(members)
    # the demo's signed letter is one campaign with every signature kept
    campaigns = rows(site, SynthesisCampaign, run_id)
    assert len(campaigns) >= 1 and campaigns[0].copies >= 60

    report = site.client.get(BASE)
    assert report.status_code == 200
    assert "Copy-paste campaigns" in report.text and '<svg viewBox="0 0 640 400"' in report.text
    whole = [c for c in clusters if c.scope == "" and c.position >= 0]
    assert whole, "the demo consultation forms clusters"
    for cluster in whole:
        for quote_id in cluster.quotes:
            body = by_id[quote_id].body.split("\n")[0][:40]
            assert f"/contributions/{quote_id}" in report.text
            assert body.replace("'", "&#39;").replace('"', "&#34;")[:20] in report.text


def test_the_json_report_states_its_inputs_and_matches_the_page(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    document = site.client.get(f"{BASE}/report.json").json()
    assert document["schema"] == 1 and document["run"]["id"] == run_id
    assert document["run"]["model"] == "hashing:v1:256"
    assert len(document["run"]["input_hash"]) == 64 and document["run"]["seed"] == 0
    assert document["run"]["params"]["cluster"]["reducer"]
    total = sum(c["contributions"] for c in document["clusters"]) + (
        document["other"]["contributions"] if document["other"] else 0
    )
    assert total == document["contributions"] == len(visible_synthesised(site))
    texts = {c.id: c for c in visible_synthesised(site)}
    for cluster in document["clusters"]:
        assert 1 <= len(cluster["quotes"]) <= 5
        for quote in cluster["quotes"]:
            assert texts[quote["contribution_id"]].body.split()[0] in quote["text"]
    assert document["articles"] and all(
        a["article"].startswith("art-") for a in document["articles"]
    )

    article = document["articles"][0]["article"]
    one = site.client.get(f"{BASE}/articles/{article}/report.json").json()
    assert (
        one["scope"] == article and one["contributions"] == document["articles"][0]["contributions"]
    )


@pytest.mark.each_database
def test_same_input_gives_the_same_report_and_embeds_nothing_again(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    first = start_and_finish(site)
    second = start_and_finish(site)
    assert first != second

    from consult.synthesis.models import Embedding

    embeddings = select(func.count()).select_from(Embedding)
    count = site.scalar(embeddings)
    one = site.client.get(f"{BASE}/report.json?run={first}").json()
    two = site.client.get(f"{BASE}/report.json?run={second}").json()
    assert one["run"]["input_hash"] == two["run"]["input_hash"]

    def strip(document: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in document.items() if key != "run"}

    assert strip(one) == strip(two)
    start_and_finish(site)
    assert site.scalar(embeddings) == count


def test_the_pdf_report_is_rendered(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    pdf = site.client.get(f"{BASE}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 5000
    article = site.client.get(f"{BASE}/articles/art-13/report.pdf")
    assert article.status_code == 200 and article.content.startswith(b"%PDF-")


def test_progress_is_polled_while_the_run_is_under_way(site: Site) -> None:
    official = site.user(Role.OFFICIAL)
    site.login(official)

    async def queue_run(session: AsyncSession) -> int:
        from consult.consultations.models import Consultation
        from consult.synthesis.pipeline import SynthesisParams
        from consult.synthesis.runs import start_run

        consultation = await session.scalar(
            select(Consultation).where(Consultation.slug == DEMO_SLUG)
        )
        assert consultation is not None
        run, _ = await start_run(
            session,
            consultation.id,
            model_id="",
            params=SynthesisParams(),
            requested_by_id=official.id,
            now=site.clock(),
        )
        return run.id

    run_id = site.db(queue_run)
    page = site.client.get(f"{BASE}/runs/{run_id}")
    assert 'hx-trigger="every 2s"' in page.text and "<progress" in page.text
    fragment = site.client.get(f"{BASE}/runs/{run_id}", headers=htmx_headers())
    assert fragment.text.lstrip().startswith('<div id="run-progress"')
    assert "<h1>" not in fragment.text
    # starting again while one is queued shows the same run instead of a second one
    again = site.client.post(f"{BASE}/runs")
    assert again.headers["location"].endswith(f"/runs/{run_id}")
    report = site.client.get(BASE)
    assert "A synthesis is under way" in report.text


def test_a_failed_run_shows_its_stage_and_error_and_can_be_retried(site: Site) -> None:
    official = site.user(Role.OFFICIAL)
    site.login(official)
    run_id = start_and_finish(site)

    async def break_run(session: AsyncSession) -> None:
        run = await session.get(SynthesisRun, run_id)
        assert run is not None
        run.status, run.stage, run.error = (
            RunStatus.FAILED,
            RunStage.CLUSTERING,
            "MemoryError: out of memory",
        )

    site.db(break_run)
    page = site.client.get(f"{BASE}/runs/{run_id}")
    assert (
        "Grouping similar contributions" in page.text and "MemoryError: out of memory" in page.text
    )
    retried = site.client.post(f"{BASE}/runs/{run_id}/retry")
    assert retried.status_code == 303
    new_id = int(retried.headers["location"].rsplit("/", 1)[-1])
    assert new_id != run_id
    site.drain_jobs()
    assert "Complete" in site.client.get(f"{BASE}/runs/{new_id}").text


def test_citizens_read_reports_but_cannot_start_or_watch_runs(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    site.client.post("/account/logout")
    assert site.client.get(BASE).status_code == 200
    assert "Start a synthesis" not in site.client.get(BASE).text
    assert site.client.post(f"{BASE}/runs").status_code in (303, 401, 403)
    assert site.client.get(f"{BASE}/runs/{run_id}").status_code in (303, 401, 403)
    site.login(site.user(Role.CITIZEN))
    assert site.client.post(f"{BASE}/runs").status_code == 403
    assert site.client.get(f"{BASE}/runs/{run_id}").status_code == 403
    assert site.client.post(f"{BASE}/runs/{run_id}/retry").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/articles/art-999",
        "/articles/art-999/report.json",
        "/runs/999999",
        "?run=abc",
        "?run=999999",
        "/report.json?run=-1",
    ],
)
def test_unknown_things_are_404_not_500(site: Site, path: str) -> None:
    site.login(site.user(Role.OFFICIAL))
    assert site.client.get(BASE + path).status_code == 404


def test_before_any_run_reports_say_so(site: Site) -> None:
    assert "No synthesis has been published" in site.client.get(BASE).text
    assert site.client.get(f"{BASE}/report.json").status_code == 404
    assert site.client.get(f"{BASE}/report.pdf").status_code == 404
    assert "No synthesis covers this article" in site.client.get(f"{BASE}/articles/art-1").text


def test_hidden_contributions_and_replies_are_left_out(site: Site) -> None:

    async def hide_one(session: AsyncSession) -> int:
        target = await session.scalar(
            select(Contribution).where(Contribution.kind == ContributionKind.ARGUMENT).limit(1)
        )
        assert target is not None
        target.visibility = Visibility.HIDDEN
        return target.id

    hidden = site.db(hide_one)
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    members = {m.contribution_id for m in rows(site, SynthesisMembership, run_id)}
    assert hidden not in members
    assert members == {c.id for c in visible_synthesised(site)}


def test_a_consultation_with_few_contributions_says_it_is_too_small(library: Site) -> None:
    site = read_in_english(library)
    site.login(site.user(Role.OFFICIAL))
    site.client.post(
        "/consultations/bibliotheques/articles/art-1/arguments",
        data={"stance": "pour", "body": "Ouvrir les bibliothèques le dimanche."},
    )
    response = site.client.post("/consultations/bibliotheques/synthesis/runs")
    assert response.status_code == 303
    site.drain_jobs()
    page = site.client.get("/consultations/bibliotheques/synthesis")
    assert "too few to form groups" in page.text
    document = site.client.get("/consultations/bibliotheques/synthesis/report.json").json()
    assert document["too_small"] and document["clusters"] == [] and document["outliers"] == 1
    assert json.dumps(document)
