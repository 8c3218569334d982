"""An official starts a synthesis, follows it, and everyone reads its reports."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.demo.seed import DEMO_SLUG
from consult.jobs import synthesize
from consult.synthesis.models import (
    CopyKind,
    RunStage,
    RunStatus,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.synthesis.runs import SYNTHESISED_KINDS
from tests.support.pdf import pdf_text
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


def stored_text(contribution: Contribution) -> str:
    """A contribution's own text as a report quotes it: its body, and an amendment's wording."""
    return "\n\n".join(part for part in (contribution.body, contribution.new_text) if part)


@pytest.mark.each_database
def test_official_runs_a_synthesis_and_every_count_matches_the_database(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    page = site.client.get(BASE)
    assert "No synthesis has been published" in page.text
    assert "Start a synthesis" in page.text

    run_id = start_and_finish(site, publish=False)
    progress = site.client.get(f"{BASE}/runs/{run_id}")
    assert progress.status_code == 200
    assert "Complete" in progress.text and "Read the report" in progress.text
    assert 'hx-trigger="every 2s"' not in progress.text  # polling stops once finished

    contributions = visible_synthesised(site)
    by_id = {c.id: c for c in contributions}
    memberships = rows(site, SynthesisMembership, run_id)
    clusters = {c.id: c for c in rows(site, SynthesisCluster, run_id)}
    # Each contribution is in exactly one group per level: one theme, one group of its article.
    by_scope: dict[str, list[int]] = {}
    for m in memberships:
        by_scope.setdefault(m.scope, []).append(m.contribution_id)
    assert sorted(by_scope[""]) == sorted(by_id)
    for c in contributions:
        assert by_scope[c.article_key].count(c.id) == 1
    members_of: dict[int, list[int]] = {}
    for m in memberships:
        members_of.setdefault(m.cluster_id, []).append(m.contribution_id)
    for cluster in clusters.values():
        members = members_of[cluster.id]
        assert cluster.contributions == len(members)
        assert set(cluster.quotes) <= set(members)
        if cluster.scope:
            # An article group never holds two articles, and never a theme's worth.
            assert {by_id[i].article_key for i in members} == {cluster.scope}
            if cluster.position >= 0:
                theme = clusters[cluster.theme_id or 0]
                assert theme.scope == "" and set(members) <= set(members_of[theme.id])
        # Stances are counted per target, never added across targets.
        expected: dict[int | None, dict[str, int]] = {}
        for i in members:
            argument = by_id[i]
            if argument.kind is ContributionKind.ARGUMENT and argument.stance is not None:
                stances = expected.setdefault(argument.parent_id, {})
                stances[argument.stance.value] = stances.get(argument.stance.value, 0) + 1
        assert {t["target"]: t["stances"] for t in cluster.targets} == expected
    # A theme's contributions are exactly those of the article groups it gathers.
    for theme in (c for c in clusters.values() if c.scope == "" and c.position >= 0):
        gathered = [c for c in clusters.values() if c.theme_id == theme.id]
        assert gathered, "every theme gathers article groups"
        assert sorted(members_of[theme.id]) == sorted(i for g in gathered for i in members_of[g.id])
    # the demo's signed letter is one campaign with every signature kept
    campaigns = rows(site, SynthesisCampaign, run_id)
    assert len(campaigns) >= 1 and campaigns[0].copies >= 60

    # The draft is the official's to review; the public sees nothing until it is published.
    draft = site.client.get(BASE)
    assert "Draft." in draft.text and "Publish this synthesis" in draft.text
    assert "Copy-paste campaigns" in draft.text and '<svg viewBox="0 0 640 400"' in draft.text
    with site.anonymously() as anonymous:
        assert "No synthesis has been published" in anonymous.get(BASE).text
        assert anonymous.get(f"{BASE}/report.json").status_code == 404
        assert anonymous.get(f"{BASE}?run={run_id}").status_code == 404
    published = site.client.post(f"{BASE}/runs/{run_id}/publish", follow_redirects=True)
    assert "The synthesis is published" in published.text and "Draft." not in published.text
    with site.anonymously() as anonymous:
        public = anonymous.get(BASE).text
    assert "Publish this synthesis" not in public and "Answer this group" not in public
    themes = [c for c in clusters.values() if c.scope == "" and c.position >= 0]
    assert themes, "the demo consultation forms themes"
    for theme in themes:
        assert f'id="group-{theme.id}"' in public


def test_quotes_are_the_stored_texts_and_say_what_they_argue_about(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    texts = {c.id: c for c in visible_synthesised(site)}
    document = site.client.get(f"{BASE}/articles/art-13/report.json").json()
    assert document["level"] == "article" and document["groups"]
    for group in [*document["groups"], *([document["other"]] if document["other"] else [])]:
        for quote in group["quotes"]:
            contribution = texts[quote["contribution_id"]]
            assert quote["text"] == stored_text(contribution)
            assert quote["about"] == contribution.parent_id


def test_the_json_report_states_its_inputs_and_matches_the_page(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    document = site.client.get(f"{BASE}/report.json").json()
    assert document["schema"] == 2 and document["run"]["id"] == run_id
    assert document["level"] == "themes" and document["run"]["published_at"]
    assert document["run"]["model"] == "hashing:v1:256"
    assert len(document["run"]["input_hash"]) == 64 and document["run"]["seed"] == 0
    assert document["run"]["stages"]["clusterer"]["reducer"]["name"] == "umap"
    total = sum(c["contributions"] for c in document["groups"]) + (
        document["other"]["contributions"] if document["other"] else 0
    )
    assert total == document["contributions"] == len(visible_synthesised(site))
    for theme in document["groups"]:
        assert theme["groups"], "a theme lists the article groups it gathers"
        assert sum(g["contributions"] for g in theme["groups"]) == theme["contributions"]
    assert document["articles"] and all(
        a["article"].startswith("art-") for a in document["articles"]
    )

    article = document["articles"][0]["article"]
    one = site.client.get(f"{BASE}/articles/{article}/report.json").json()
    assert (
        one["scope"] == article and one["contributions"] == document["articles"][0]["contributions"]
    )


def test_the_seed_reaches_every_random_step_and_the_report_states_it(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))

    def run_with(seed: int) -> dict[str, Any]:
        async def start(session: AsyncSession) -> int:
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
                params=SynthesisParams(seed=seed),
                requested_by_id=None,
                now=site.clock(),
            )
            return run.id

        run_id = site.db(start)
        site.enqueue_job(synthesize, run_id)
        site.drain_jobs()
        return dict(site.client.get(f"{BASE}/articles/art-13/report.json?run={run_id}").json())

    def groups(document: dict[str, Any]) -> list[Any]:
        return [
            (g["title"], [q["contribution_id"] for q in g["quotes"]]) for g in document["groups"]
        ]

    first, again, other = run_with(3), run_with(3), run_with(11)
    assert first["run"]["seed"] == again["run"]["seed"] == 3 and other["run"]["seed"] == 11
    assert first["run"]["params"]["seed"] == 3
    assert groups(first) == groups(again)
    # The map is drawn from the same seed as the groups (a different seed moves it).
    assert [g["map"] for g in first["groups"]] == [g["map"] for g in again["groups"]]


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

    def strip(document: Any) -> Any:
        """The report without what names the run and its rows in the database."""
        if isinstance(document, dict):
            return {k: strip(v) for k, v in document.items() if k not in ("run", "id", "group")}
        if isinstance(document, list):
            return [strip(item) for item in document]
        return document

    assert strip(one) == strip(two)
    start_and_finish(site)
    assert site.scalar(embeddings) == count


def test_the_pdf_report_is_rendered(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    pdf = site.client.get(f"{BASE}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and len(pdf.content) > 5000
    text = "".join(pdf_text(pdf.content).split())  # lines break anywhere in a table cell
    assert "Byarticle" in text and "Votesonthearticle" in text and "amendmentsaccepted" in text
    article = site.client.get(f"{BASE}/articles/art-13/report.pdf")
    assert article.status_code == 200 and article.content.startswith(b"%PDF-")


def test_a_reports_pdf_is_rendered_once_and_again_for_a_new_run(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    first_run = start_and_finish(site)
    pdfs = site.services.pdfs
    first = site.client.get(f"{BASE}/report.pdf")
    assert pdfs.kept.hits == 0 and len(pdfs.kept) == 1
    again = site.client.get(f"{BASE}/report.pdf")
    assert again.content == first.content and pdfs.kept.hits == 1
    # A new published run is another document: never the PDF of the one before.
    second_run = start_and_finish(site)
    newer = site.client.get(f"{BASE}/report.pdf")
    assert f"-{second_run}.pdf" in newer.headers["content-disposition"]
    assert newer.content != first.content and len(pdfs.kept) == 2
    # Asked for by number, the earlier run's report is still the earlier PDF.
    earlier = site.client.get(f"{BASE}/report.pdf", params={"run": first_run})
    assert earlier.content == first.content


def test_a_bills_synthesis_still_speaks_of_articles_and_amendments(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    whole = site.client.get(BASE).text
    assert "By article" in whole and "Votes on the article" in whole
    assert "Amendments accepted" in whole and re.search(r"\d+ amendments? accepted", whole)
    assert "Closed questions" not in whole and "By open question" not in whole
    assert "annotation, amendment and argument" in whole
    article = site.client.get(f"{BASE}/articles/art-13").text
    assert "Read the article and its contributions" in article
    assert f'href="/consultations/{DEMO_SLUG}/articles/art-13"' in article
    assert "Read the answers to this question" not in article
    assert re.search(r"\d+ amendments? accepted", article)
    document = site.client.get(f"{BASE}/report.json").json()
    assert "questions" not in document and document["amendments"]["listed"] >= 0


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


def test_a_stalled_run_can_be_resumed_by_an_official_from_its_page(site: Site) -> None:
    """A run whose worker died (running, heartbeat old) shows a button that resumes it now,
    on any worker; a run that beats shows none, and resuming it changes nothing."""
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site, publish=False)
    beaten = site.clock() - timedelta(seconds=30)

    async def running_since(session: AsyncSession, moment: datetime = beaten) -> None:
        run = await session.get(SynthesisRun, run_id)
        assert run is not None
        run.status, run.stage, run.heartbeat_at = RunStatus.RUNNING, RunStage.CLUSTERING, moment

    site.db(running_since)
    url = f"{BASE}/runs/{run_id}"
    assert "Resume now" not in site.client.get(url).text
    assert site.client.post(f"{url}/resume").status_code == 303
    site.drain_jobs()
    assert site.scalar(select(SynthesisRun.status).where(SynthesisRun.id == run_id)) == "running"

    site.clock.advance(seconds=80)  # 110 s without a heartbeat: stalled
    page = site.client.get(url)
    assert "Resume now" in page.text and f'action="{url}/resume"' in page.text
    with site.anonymously():
        citizen = site.user(Role.CITIZEN)
        site.login(citizen)
        assert site.client.post(f"{url}/resume").status_code == 403
    assert site.client.post(f"{url}/resume").status_code == 303
    site.drain_jobs()
    done = site.scalar(select(SynthesisRun).where(SynthesisRun.id == run_id))
    assert (done.status, done.attempts) == (RunStatus.SUCCEEDED, 2)
    assert "Resume now" not in site.client.get(url).text


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
    start_and_finish(site, slug="bibliotheques")
    page = site.client.get("/consultations/bibliotheques/synthesis/articles/art-1")
    # A single contribution forms no group: it is listed as it is, and said to be.
    assert "too few or too different to form groups" in page.text
    assert "Ouvrir les bibliothèques le dimanche." in page.text
    document = site.client.get("/consultations/bibliotheques/synthesis/report.json").json()
    assert document["too_small"] and document["groups"] == [] and document["outliers"] == 1
    assert json.dumps(document)


def test_a_letter_posted_many_times_shows_once_in_the_discussion(site: Site) -> None:
    article = f"/consultations/{DEMO_SLUG}/articles/art-13"
    letter = "Je m’oppose à l’article 13 du projet de loi"
    # Before any published synthesis, every copy is listed as it came.
    before = site.client.get(f"{article}?sort=newest").text
    assert before.count(letter) >= 10
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    (campaign,) = [c for c in rows(site, SynthesisCampaign, run_id) if "art-13" in c.article_keys]
    page = site.client.get(f"{article}?sort=newest").text
    assert page.count(letter) == 1
    assert f"?campaign={campaign.id}#contributions" in page
    assert f"by {campaign.distinct_authors} authors" in page
    every = site.client.get(f"{article}?campaign={campaign.id}").text
    assert "copies of one letter" in every and "Back to the discussion" in every
    shown = every.count('class="contribution kind-')
    assert shown == min(campaign.copies, 20)  # a page of them


REPOSTED = (
    "Les horaires des bibliothèques municipales doivent s’étendre au dimanche et aux soirées, "
    "avec du personnel en plus, pour que les gens qui travaillent puissent y aller aussi."
)


def test_a_text_its_author_posted_again_is_shown_apart_from_campaigns(site: Site) -> None:
    citizen = site.user(Role.CITIZEN)
    site.login(citizen)
    article = f"/consultations/{DEMO_SLUG}/articles/art-2"
    for _ in range(3):
        posted = site.client.post(f"{article}/arguments", data={"stance": "pour", "body": REPOSTED})
        assert posted.status_code in (200, 303)
        site.clock.advance(hours=1)  # posted again later, not a double click
    mine = [c for c in visible_synthesised(site) if c.body == REPOSTED]
    assert len(mine) == 3 and {c.author_id for c in mine} == {citizen.id}

    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    stored = rows(site, SynthesisCampaign, run_id)
    (repost,) = [c for c in stored if c.kind is CopyKind.REPOST]
    assert repost.copies == 3 and repost.distinct_authors == 1
    assert repost.representative_id in {c.id for c in mine}
    # the demo's letter is still a campaign, and the campaigns are numbered first
    campaigns = [c for c in stored if c.kind is CopyKind.CAMPAIGN]
    assert campaigns and max(c.position for c in campaigns) < repost.position

    # The reports list it apart, with its count; its copies count once in their group.
    whole = site.client.get(BASE).text
    assert "1 text posted again by its author" in whole
    report = site.client.get(f"{BASE}/articles/art-2").text
    assert 'id="reposts-heading"' in report and "Repost 1" in report
    assert "Posted 3 times by its author" in report
    reposts_section = report[report.index('id="reposts-heading"') :]
    assert "Campaign 1" not in reposts_section
    document = site.client.get(f"{BASE}/articles/art-2/report.json").json()
    assert document["reposts"]["count"] == 1
    (listed,) = document["reposts"]["listed"]
    assert listed["copies"] == 3 and listed["distinct_authors"] == 1
    assert listed["representative"]["text"] == REPOSTED
    assert all(c["distinct_authors"] >= 3 for c in document["campaigns"]["listed"])
    memberships = [m for m in rows(site, SynthesisMembership, run_id) if m.scope == "art-2"]
    (holder_id,) = {m.cluster_id for m in memberships if m.contribution_id in {c.id for c in mine}}
    holder = next(c for c in rows(site, SynthesisCluster, run_id) if c.id == holder_id)
    members = [m.contribution_id for m in memberships if m.cluster_id == holder_id]
    assert holder.contributions == len(members)
    # Texts grouped: the threads' first contributions, the copies of one text counting once.
    parents = {c.id: c.parent_id for c in visible_synthesised(site)}
    roots = [m for m in members if parents[m] not in members]
    group_of = dict(
        site.rows(
            select(SynthesisCampaignMember.contribution_id, SynthesisCampaignMember.campaign_id)
            .join(SynthesisCampaign)
            .where(SynthesisCampaign.run_id == run_id)
        )
    )
    assert holder.items == len({group_of.get(r, -r) for r in roots}) < len(roots)

    # The article's discussion shows it once, with every copy a link away.
    page = site.client.get(f"{article}?sort=newest").text
    assert page.count("Les horaires des bibliothèques municipales") == 1
    assert "Posted 3 times by its author on this article" in page
    assert f"?campaign={repost.id}#contributions" in page
    every = site.client.get(f"{article}?campaign={repost.id}").text
    assert "The 3 copies of one text, posted again by its author." in every
    assert every.count("Les horaires des bibliothèques municipales") == 3
    # The officials' inbox lists campaigns only; a repost is answered copy by copy.
    inbox = site.client.get(f"/consultations/{DEMO_SLUG}/answers").text
    assert f"target_id={repost.id}" not in inbox
    refused = site.client.get(
        f"/consultations/{DEMO_SLUG}/answers/campaign/{repost.id}", follow_redirects=False
    )
    assert refused.status_code == 404


def test_officials_summarise_the_consultation_and_a_group_and_the_public_reads_them(
    site: Site,
) -> None:
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site, publish=False)
    groups = [c for c in rows(site, SynthesisCluster, run_id) if c.scope.startswith("art-")]
    group = next(c for c in groups if not c.is_other)
    other = next(c for c in groups if c.is_other)
    run_summary = f"{BASE}/runs/{run_id}/summary"
    saved = site.client.post(run_summary, data={"summary": "  **Three** ideas stand out.  "})
    assert saved.status_code == 303
    said = "Libraries should open on Sundays, say most of them."
    assert (
        site.client.post(f"{BASE}/clusters/{group.id}/summary", data={"summary": said}).status_code
        == 303
    )
    # Too long, or on the contributions in no group: refused, and what was saved is kept.
    too_long = site.client.post(run_summary, data={"summary": "x" * 5_001})
    assert too_long.status_code == 422 and "at most 5000 characters" in too_long.text
    refused = site.client.post(f"{BASE}/clusters/{other.id}/summary", data={"summary": "Non."})
    assert refused.status_code == 422 and "no summary" in refused.text
    assert site.client.post(f"{BASE}/runs/{run_id}/publish").status_code == 303
    site.client.post("/account/logout")
    site.client.cookies.clear()
    report = site.client.get(BASE).text
    assert (
        "<strong>Three</strong> ideas stand out." in report and "Written by the ministry." in report
    )
    article = site.client.get(f"{BASE}/articles/{group.scope}").text
    assert said in article and "Summary written by the ministry." in article
    assert "Save the summary" not in article  # the public reads, never edits
