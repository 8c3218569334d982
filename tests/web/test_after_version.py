"""After a new version: passages never highlight words they did not comment on, and votes
cast on an earlier version say so."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.contributions.models import Contribution, Vote
from consult.demo.seed import DEMO_SLUG
from consult.revisions.models import AnchorStatus, ContributionAnchor
from tests.support.seeding import REASON, read_in_english
from tests.support.site import Site

BASE = f"/consultations/{DEMO_SLUG}"
ARTICLE_5 = f"{BASE}/articles/art-5"
WHY = "Le texte doit partir au Conseil d’État avant la clôture."


@pytest.fixture
def site(demo: Site) -> Site:
    return read_in_english(demo)


def _demo(site: Site, ref: str) -> int:
    return int(site.scalar(select(Contribution.id).where(Contribution.external_ref == ref)))


def _version_two_with(site: Site, amendment: int) -> None:
    """Version 2 takes `amendment`, answered accepted by the demo's ministry."""
    site.login(site.user(Role.OFFICIAL))
    answered = site.client.post(
        f"{BASE}/answers/contribution/{amendment}",
        data={"state": "accepted", "reason": REASON, "action": "publish", "override": "1"},
    )
    assert answered.status_code == 303, answered.text
    picked = site.client.post(f"{BASE}/versions/next", data={"amendment": str(amendment)})
    assert picked.status_code == 303
    published = site.client.post(
        f"{BASE}/versions/next/publish", data={"number": "2", "reason": WHY}
    )
    assert published.status_code == 303, published.text
    site.client.post("/account/logout")


@pytest.mark.each_database
def test_an_annotation_on_changed_words_is_shown_as_it_was(site: Site) -> None:
    """Demo annotation on « vingt et un jours à compter de la publication du projet de texte »
    (article 5), after version 2 takes « trente jours »: it does not highlight « trente jours
    à compter… », words it never commented on; it says the passage changed."""
    annotation = _demo(site, "c035")
    _version_two_with(site, _demo(site, "c038"))
    ((status,),) = site.rows(
        select(ContributionAnchor.status).where(ContributionAnchor.contribution_id == annotation)
    )
    assert status is AnchorStatus.OUTDATED
    page = site.client.get(f"{ARTICLE_5}?sort=newest")
    assert page.status_code == 200
    assert "trente jours" in page.text
    marked = re.findall(r'<mark class="passage">([^<]*)</mark>', page.text)
    assert not any("trente" in passage for passage in marked), marked
    assert "Outdated: the passage changed." in page.text
    # The annotation on words kept (« entre le 14 juillet et le 31 août ») still follows them.
    kept = _demo(site, "c037")
    ((status,),) = site.rows(
        select(ContributionAnchor.status).where(ContributionAnchor.contribution_id == kept)
    )
    assert status is AnchorStatus.EXACT
    assert any("entre le 14 juillet et le 31 août" in passage for passage in marked)


def test_votes_cast_on_an_earlier_version_are_labelled_with_it(site: Site) -> None:
    citizen = site.user()
    site.login(citizen)
    assert site.client.post(f"{ARTICLE_5}/votes", data={"value": "pour"}).status_code in (200, 303)
    site.client.post("/account/logout")
    before = int(
        site.scalar(
            select(func.count()).where(Vote.article_key == "art-5", Vote.contribution_id.is_(None))
        )
    )
    assert before >= 1
    assert "votes on version 1" not in site.client.get(ARTICLE_5).text
    assert "vote on version 1" not in site.client.get(ARTICLE_5).text

    site.clock.advance(minutes=1)
    _version_two_with(site, _demo(site, "c038"))
    page = site.client.get(ARTICLE_5).text
    label = (
        "of which 1 vote on version 1" if before == 1 else f"of which {before} votes on version 1"
    )
    assert label in page, page[page.find('class="tally"') :][:600]

    # A vote cast (again) on version 2 is no longer counted as one on version 1.
    site.clock.advance(minutes=1)
    site.login(citizen)
    assert site.client.post(f"{ARTICLE_5}/votes", data={"value": "contre"}).status_code in (
        200,
        303,
    )
    page = site.client.get(ARTICLE_5).text
    left = before - 1
    if left:
        assert f"of which {left} vote" in page
    else:
        assert "on version 1" not in page
