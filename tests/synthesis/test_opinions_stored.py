"""Opinion groups are computed once per synthesis run and stored with it: the report, the
officials' review of each article and the open data read them, as they were when the run read
the votes; the demo's voters hold opinions that form groups."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.models import Role
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, Vote
from consult.demo.seed import DEMO_SLUG
from consult.jobs import pipeline_for
from consult.synthesis.models import (
    RunStage,
    RunStatus,
    SynthesisMembership,
    SynthesisOpinions,
    SynthesisOpinionTarget,
    SynthesisRun,
)
from consult.synthesis.opinions import stored_opinions, summarise, vote_matrix
from consult.synthesis.runs import execute_run
from tests.support.opinions import plant_camps
from tests.support.seeding import queue_demo_run, read_in_english
from tests.support.site import Site, make_settings
from tests.support.synthesis import run_rows, start_and_finish

BASE = f"/consultations/{DEMO_SLUG}/synthesis"


@pytest.fixture
def site(demo: Site) -> Site:
    """The demo consultation, read in English."""
    return read_in_english(demo)


async def _computed(session: AsyncSession) -> Any:
    """The groups of the votes as they are now, computed directly."""
    consultation = await session.scalar(select(Consultation).where(Consultation.slug == DEMO_SLUG))
    assert consultation is not None
    return summarise(*await vote_matrix(session, consultation.id))


async def _forget_votes(session: AsyncSession) -> None:
    await session.execute(delete(Vote))


@pytest.mark.each_database
def test_a_run_stores_the_groups_its_report_shows_and_later_votes_do_not_change_them(
    site: Site,
) -> None:
    planted = site.db(plant_camps)
    computed = site.db(_computed)
    assert computed is not None and [g.participants for g in computed.groups] == [20, 20]
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)

    async def stored(session: AsyncSession) -> Any:
        return await stored_opinions(session, run_id)

    found, opinions = site.db(stored)
    assert found
    # Everything the computation found, read back from the run's rows (floats included).
    assert opinions is not None
    assert opinions.groups == computed.groups and opinions.targets == computed.targets
    assert (opinions.participants, opinions.voters) == (computed.participants, computed.voters)
    assert opinions.silhouette == computed.silhouette

    before = site.client.get(f"{BASE}/report.json").json()["opinions"]
    # Every vote withdrawn after the run: its report still shows the groups it counted.
    site.db(_forget_votes)
    after = site.client.get(f"{BASE}/report.json").json()["opinions"]
    assert after == before
    assert [g["participants"] for g in after["groups"]] == [20, 20]
    assert after["bridging"][0]["contribution_id"] == planted.bridge
    assert after["bridging"][0]["agreement_by_group"] == [round(21 / 22, 4)] * 2
    html = site.client.get(BASE).text
    assert "Group 1: 20 people" in html and f"Amendment no. {planted.bridge}" in html
    # Nothing stored says who is in which group: counts per group only.
    stored_columns = {
        c.name for t in (SynthesisOpinions, SynthesisOpinionTarget) for c in t.__table__.columns
    }
    assert not stored_columns & {"voter_id", "user_id", "participant_id", "labels", "members"}


@pytest.mark.each_database
def test_a_second_run_on_the_same_votes_stores_the_same_groups(site: Site) -> None:
    site.db(plant_camps)
    site.login(site.user(Role.OFFICIAL))
    first, second = start_and_finish(site), start_and_finish(site)

    def groups(run_id: int) -> tuple[Any, ...]:
        (row,) = run_rows(site, SynthesisOpinions, run_id)
        return (row.votes, row.voters, row.participants, row.targets, row.silhouette, row.groups)

    def targets(run_id: int) -> list[tuple[Any, ...]]:
        rows = sorted(run_rows(site, SynthesisOpinionTarget, run_id), key=lambda t: t.rank)
        return [
            tuple(getattr(t, c.name) for c in SynthesisOpinionTarget.__table__.columns)[1:]
            for t in rows
        ]

    assert groups(first)[2] == 40
    assert groups(first) == groups(second)
    assert len(targets(first)) == 11 and targets(first) == targets(second)


def _figures_of(html: str, contribution_id: int) -> str:
    """The line of the officials' opinion figures that names this contribution."""
    found = re.search(
        rf'<li><a href="[^"]*/contributions/{contribution_id}">[^<]*</a> · bridging rank'
        r".*?</ul>",
        html,
        re.S,
    )
    assert found, f"no opinion figures for contribution {contribution_id}"
    return re.sub(r"<[^>]+>", "", found.group(0))


@pytest.mark.each_database
def test_officials_reviewing_an_article_see_each_texts_support_per_group_citizens_do_not(
    site: Site,
) -> None:
    planted = site.db(plant_camps)
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site, publish=False)
    article = site.scalar(select(Contribution.article_key).where(Contribution.id == planted.bridge))
    page = site.client.get(f"{BASE}/articles/{article}?run={run_id}")
    assert page.status_code == 200
    html = page.text
    assert "How the opinion groups voted" in html
    assert "Group 1: 20 people, Group 2: 20 people" in html
    # The amendment every group supports: first of the 11 texts ranked, 20 pour in each group.
    line = _figures_of(html, planted.bridge)
    assert "bridging rank 1 of 11" in line
    assert line.count("For 20 · Mixed 0 · Against 0") == 2
    # A divisive amendment on the same article, if any: all pour in one group, all contre in
    # the other.
    members = {
        row[0]
        for row in site.rows(
            select(SynthesisMembership.contribution_id).where(
                SynthesisMembership.run_id == run_id, SynthesisMembership.scope == article
            )
        )
    }
    for divisive in set(planted.divisive) & members:
        line = _figures_of(html, divisive)
        assert "For 20 · Mixed 0 · Against 0" in line and "For 0 · Mixed 0 · Against 20" in line

    # Published, the same article's report for a citizen shows no opinion figures, and no
    # page says which group anyone is in.
    site.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs/{run_id}/publish")
    voter = planted.voters[0]
    with site.anonymously() as reader:
        public = reader.get(f"{BASE}/articles/{article}").text
        assert "How the opinion groups voted" not in public and "bridging rank" not in public
        for url in (BASE, f"/consultations/{DEMO_SLUG}/contributions/{planted.bridge}"):
            text = reader.get(url).text
            assert voter.display_name not in text and "your group" not in text.lower()


def test_the_demo_voters_form_opinion_groups_and_the_report_names_what_brings_them_together(
    site: Site,
) -> None:
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    opinions = site.client.get(f"{BASE}/report.json").json()["opinions"]
    assert opinions is not None
    sizes = [g["participants"] for g in opinions["groups"]]
    assert len(sizes) >= 2 and min(sizes) >= 5
    # The texts that bring them together are supported by most of every group.
    assert all(rate > 0.5 for rate in opinions["bridging"][0]["agreement_by_group"])
    # And some text divides them: one group mostly for it, another mostly not.
    divided = opinions["dividing"][0]["agreement_by_group"]
    assert max(divided) > 0.6 and min(divided) < 0.3
    html = site.client.get(BASE).text
    assert "What brings the groups together, what divides them" in html
    assert f"Group 1: {sizes[0]} people" in html


@pytest.fixture
def factory(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """Sessions on the demo consultation as just seeded."""
    return fresh_demo_sessions


@pytest.mark.anyio
async def test_a_resumed_run_keeps_the_groups_of_its_first_attempt(
    fresh_demo_url: str, factory: async_sessionmaker[AsyncSession]
) -> None:
    pipeline = pipeline_for({"settings": make_settings(fresh_demo_url)})
    run_id = await queue_demo_run(factory)

    def stop(stage: RunStage, done: int, total: int) -> None:
        if stage is RunStage.CLUSTERING:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await execute_run(factory, pipeline, run_id, listener=stop)
    async with factory() as session:
        first = await session.get(SynthesisOpinions, run_id)
        assert first is not None and len(first.groups) >= 2
        kept = (first.computed_at, first.votes, first.groups)
        # The votes change while the run waits to be resumed.
        await session.execute(delete(Vote))
        await session.commit()
    assert await execute_run(factory, pipeline, run_id) is RunStatus.SUCCEEDED
    async with factory() as session:
        run = await session.get(SynthesisRun, run_id)
        assert run is not None and run.attempts == 2
        again = await session.get(SynthesisOpinions, run_id)
        assert again is not None and (again.computed_at, again.votes, again.groups) == kept
