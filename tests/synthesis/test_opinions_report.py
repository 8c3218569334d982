"""The synthesis report shows what brings the opinion groups together and what divides them,
with counts only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from consult.accounts.models import Role
from consult.demo.seed import DEMO_SLUG
from tests.support.opinions import plant_camps
from tests.support.seeding import read_in_english
from tests.support.site import Site
from tests.support.synthesis import start_and_finish

BASE = f"/consultations/{DEMO_SLUG}/synthesis"


@pytest.fixture
def site(demo: Site) -> Site:
    """The demo consultation, read in English."""
    return read_in_english(demo)


def _keys(document: Any) -> set[str]:
    if isinstance(document, dict):
        return set(document) | {k for v in document.values() for k in _keys(v)}
    if isinstance(document, list):
        return {k for v in document for k in _keys(v)}
    return set()


@pytest.mark.each_database
def test_the_report_shows_the_bridging_amendment_and_the_group_sizes_only(site: Site) -> None:
    planted = site.db(plant_camps)
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)

    document = site.client.get(f"{BASE}/report.json").json()
    opinions = document["opinions"]
    assert opinions["participants"] == 40 and opinions["voters"] == 40
    assert [g["participants"] for g in opinions["groups"]] == [20, 20]
    first = opinions["bridging"][0]
    assert first["contribution_id"] == planted.bridge
    # Each camp: 20 votes, 20 pour -> (20 + 1) / (20 + 2); consensus the product of both.
    assert first["agreement_by_group"] == [round(21 / 22, 4)] * 2
    assert first["votes_by_group"] == [20, 20]
    assert first["consensus"] == round((21 / 22) ** 2, 4)
    # A divisive amendment: one camp all pour, the other all contre.
    divisive = {t["contribution_id"]: t for t in opinions["dividing"]}
    assert set(divisive) <= set(planted.divisive) and len(divisive) == 5
    assert sorted(next(iter(divisive.values()))["agreement_by_group"]) == [
        round(1 / 22, 4),
        round(21 / 22, 4),
    ]
    # What each group supports: the divisive amendments of its camp.
    assert all(len(g["supports"]) == 5 and len(g["rejects"]) == 5 for g in opinions["groups"])
    # Counts only: nothing names a participant.
    assert not _keys(opinions) & {"voter", "voter_id", "participant", "user", "members", "labels"}
    text = json.dumps(opinions)
    assert "votant" not in text.lower()

    page = site.client.get(BASE)
    assert page.status_code == 200
    html = page.text
    assert "What brings the groups together, what divides them" in html
    assert "Group 1</li>" not in html  # sizes are written in full
    assert "Group 1: 20 people" in html and "Group 2: 20 people" in html
    assert f"Amendment no. {planted.bridge}" in html
    assert "95 %" in html and "5 %" in html  # 21/22 and 1/22
    for voter in planted.voters:
        assert voter.display_name not in html
        assert voter.email not in html


def test_too_few_voters_form_no_groups(site: Site) -> None:
    """The demo's own votes, less than the 20 voters with 7 votes asked, after all votes on
    contributions are removed: no section."""
    from sqlalchemy import delete

    from consult.contributions.models import Vote

    async def only_articles(session: Any) -> None:
        await session.execute(delete(Vote).where(Vote.contribution_id.is_not(None)))
        await session.execute(delete(Vote).where(Vote.voter_id % 3 != 0))

    site.db(only_articles)
    site.login(site.user(Role.OFFICIAL))
    start_and_finish(site)
    assert site.client.get(f"{BASE}/report.json").json()["opinions"] is None
    assert "What brings the groups together" not in site.client.get(BASE).text
