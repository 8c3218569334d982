"""Publishing a version: its confirmation, the reason while open, choices kept, group answers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.bills.models import BillVersion
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.demo.seed import DEMO_SLUG
from consult.synthesis.models import SynthesisCluster, SynthesisMembership
from tests.support.seeding import REASON, read_in_english
from tests.support.site import Site
from tests.support.synthesis import start_and_finish

BASE = f"/consultations/{DEMO_SLUG}"
ARTICLE = f"{BASE}/articles/art-1"
CONFIRM = f"{BASE}/versions/next/publish"
WHY = "Le texte doit partir au Conseil d’État avant la clôture."


@pytest.fixture
def site(demo: Site) -> Site:
    return read_in_english(demo)


def _newest(site: Site) -> int:
    return int(site.scalar(select(func.max(Contribution.id))))


def _amend(site: Site, old: str, new: str) -> int:
    data = {
        "occurrence": "1",
        "body": "Plus clair ainsi.",
        "action": "publish",
        "operation": "replace_words",
        "alinea": "1",
        "old_text": old,
        "new_text": new,
    }
    assert site.client.post(f"{ARTICLE}/amendments", data=data).status_code == 303
    return _newest(site)


def _answer(site: Site, contribution_id: int, state: str = "accepted") -> None:
    response = site.client.post(
        f"{BASE}/answers/contribution/{contribution_id}",
        data={"state": state, "reason": REASON, "action": "publish", "override": "1"},
    )
    assert response.status_code == 303, response.text


def _versions(site: Site) -> int:
    return int(site.scalar(select(func.count()).select_from(BillVersion)))


def _figure(page: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}"><span class="figure-number">(\d+)<', page)
    assert match, element_id
    return int(match.group(1))


def _competing(site: Site) -> tuple[int, int, Site]:
    """Two competing amendments on article 1 by one citizen, both answered accepted, with the
    official logged in."""
    citizen = site.user()
    site.login(citizen)
    first = _amend(site, "garantir", "assurer")
    second = _amend(site, "garantir à toute personne", "reconnaître à chacun")
    site.client.post("/account/logout")
    site.login(site.user(Role.OFFICIAL))
    _answer(site, first)
    _answer(site, second)
    return first, second, site


def test_the_confirmation_shows_what_changes_and_whom_it_concerns(site: Site) -> None:
    citizen = site.user()
    site.login(citizen)
    taken = _amend(site, "garantir", "assurer")
    site.client.post("/account/logout")
    site.login(site.user(Role.OFFICIAL))
    _answer(site, taken)
    # "Review and publish" keeps the picks and goes to the confirmation.
    picked = site.client.post(
        f"{BASE}/versions/next", data={"amendment": str(taken), "then": "confirm"}
    )
    assert picked.status_code == 303 and picked.headers["location"] == CONFIRM
    page = site.client.get(CONFIRM)
    assert page.status_code == 200
    assert "Publish version 2 of the bill?" in page.text
    assert _figure(page.text, "figure-articles") == 1
    assert _figure(page.text, "figure-taken-in") == 1
    assert f'href="{ARTICLE}"' in page.text
    assert f"Amendment #{taken}" in page.text
    others = site.scalar(
        select(func.count(func.distinct(Contribution.author_id))).where(
            Contribution.article_key == "art-1",
            Contribution.visibility == Visibility.VISIBLE,
            Contribution.author_id.is_not(None),
            Contribution.author_id != citizen.id,
        )
    )
    assert "to 1 contributor whose amendment it takes in" in page.text
    affected = re.search(r'id="announce-affected">to (\d+) other contributor', page.text)
    assert affected and int(affected.group(1)) == others
    assert _versions(site) == 1  # nothing published by looking


def test_publishing_while_open_needs_a_reason_kept_in_the_log_and_shown(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    page = site.client.get(CONFIRM)
    assert "Why publish it before contributions close?" in page.text
    refused = site.client.post(CONFIRM, data={"number": "2", "reason": "   "})
    assert refused.status_code == 422
    assert "still open to contributions" in refused.text
    assert 'href="#field-reason"' in refused.text
    assert _versions(site) == 1
    too_long = site.client.post(CONFIRM, data={"number": "2", "reason": "x" * 2001})
    assert too_long.status_code == 422 and _versions(site) == 1

    published = site.client.post(CONFIRM, data={"number": "2", "reason": WHY})
    assert published.status_code == 303
    assert published.headers["location"] == f"{BASE}/versions/2/changes"
    (details,) = [
        d
        for (d,) in site.rows(
            select(AuditEvent.details).where(AuditEvent.action == "version.publish")
        )
    ]
    assert details["reason_while_open"] == WHY
    changes = site.client.get(f"{BASE}/versions/2/changes")
    assert "Published while contributions were still open." in changes.text
    assert "Le texte doit partir au Conseil d’État avant la clôture." in changes.text

    # Once contributions are closed, no reason is asked for.
    assert site.client.post(f"{BASE}/phase", data={"phase": "closed"}).status_code == 303
    page = site.client.get(CONFIRM)
    assert "Why publish it before contributions close?" not in page.text
    assert site.client.post(CONFIRM, data={"number": "3"}).status_code == 303
    assert _versions(site) == 3
    last = site.rows(
        select(AuditEvent.details)
        .where(AuditEvent.action == "version.publish")
        .order_by(AuditEvent.id)
    )[-1][0]
    assert last["reason_while_open"] == ""
    assert "Published while contributions" not in site.client.get(f"{BASE}/versions/3/changes").text


def test_settled_conflicts_are_kept_through_publishing(site: Site) -> None:
    first, second, site = _competing(site)
    picked = {"amendment": [str(first), str(second)]}
    assert site.client.post(f"{BASE}/versions/next", data=picked).status_code == 303
    page = site.client.get(f"{BASE}/versions/next")
    key = re.search(r'name="conflict:([^"]+)"', page.text)
    assert key
    # The choice and "Review and publish" in one press: the choice is not lost.
    chosen = {**picked, f"conflict:{key.group(1)}": str(second), "then": "confirm"}
    assert site.client.post(f"{BASE}/versions/next", data=chosen).status_code == 303
    confirm = site.client.get(CONFIRM)
    assert "conflicts wait for a choice" not in confirm.text
    assert "conflict waits for a choice" not in confirm.text
    # A later save of the picks that does not repeat the choice keeps it.
    assert site.client.post(f"{BASE}/versions/next", data=picked).status_code == 303
    page = site.client.get(f"{BASE}/versions/next")
    assert re.search(rf'value="{second}" checked', page.text)
    # The accepted amendment that lost says why, before and after publishing.
    explanation = f"it changes the same words as amendment #{second}, which you kept"
    assert explanation in page.text
    assert explanation in site.client.get(CONFIRM).text
    published = site.client.post(CONFIRM, data={"number": "2", "reason": WHY})
    assert published.status_code == 303, published.text
    changes = site.client.get(f"{BASE}/versions/2/changes")
    assert "<ins>reconnaître </ins>" in changes.text or "reconnaître" in changes.text
    assert f'id="lost-{first}"' in changes.text
    assert f"it changed the same words as amendment #{second}, which the ministry kept" in (
        changes.text
    )


def test_unsettled_conflicts_refuse_publishing_with_the_list(site: Site) -> None:
    first, second, site = _competing(site)
    picked = {"amendment": [str(first), str(second)], "then": "confirm"}
    assert site.client.post(f"{BASE}/versions/next", data=picked).status_code == 303
    confirm = site.client.get(CONFIRM)
    assert "1 conflict waits for a choice" in confirm.text
    assert 'action="' + CONFIRM not in confirm.text  # no final button yet
    refused = site.client.post(CONFIRM, data={"number": "2", "reason": WHY})
    assert refused.status_code == 422 and f"Keep amendment #{first}" in refused.text
    assert _versions(site) == 1


def _group_with_amendments(site: Site, run_id: int) -> tuple[int, list[int]]:
    clusters = site.rows(
        select(SynthesisCluster.id)
        .where(
            SynthesisCluster.run_id == run_id,
            SynthesisCluster.position >= 0,  # not an "other" group
            SynthesisCluster.scope != "",  # a group of one article, not a theme
        )
        .order_by(SynthesisCluster.id)
    )
    for (cluster_id,) in clusters:
        amendments = [
            i
            for (i,) in site.rows(
                select(Contribution.id)
                .join(SynthesisMembership, SynthesisMembership.contribution_id == Contribution.id)
                .where(
                    SynthesisMembership.cluster_id == cluster_id,
                    Contribution.kind == ContributionKind.AMENDMENT,
                )
            )
        ]
        if len(amendments) >= 2:
            return cluster_id, sorted(amendments)
    raise AssertionError("no group holds two amendments")


def test_a_group_answer_does_not_make_its_amendments_accepted_candidates(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    cluster_id, amendments = _group_with_amendments(site, run_id)
    done = site.client.post(
        f"{BASE}/answers/cluster/{cluster_id}",
        data={"state": "accepted", "reason": REASON, "action": "publish"},
    )
    assert done.status_code == 303, done.text
    page = site.client.get(f"{BASE}/versions/next")
    assert "0 accepted amendments" in page.text
    grouped = page.text.split('id="grouped-candidates"', 1)
    assert len(grouped) == 2, "the group's amendments are offered apart"
    for amendment in amendments:
        assert f'value="{amendment}"' in grouped[1]
        assert not re.search(rf'value="{amendment}" checked', page.text)
    dashboard = site.client.get(f"{BASE}/dashboard")
    assert "0 amendments answered as accepted." in dashboard.text

    # One answered accepted on its own is an accepted amendment; a group's one goes into the
    # text only when picked.
    own, picked = amendments[0], amendments[1]
    _answer(site, own)
    page = site.client.get(f"{BASE}/versions/next")
    assert "1 accepted amendment" in page.text
    assert f'value="{own}"' in page.text.split('id="grouped-candidates"', 1)[0]
    saved = site.client.post(f"{BASE}/versions/next", data={"amendment": str(picked)})
    assert saved.status_code == 303
    assert re.search(rf'value="{picked}" checked', site.client.get(f"{BASE}/versions/next").text)
