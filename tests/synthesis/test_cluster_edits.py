"""Officials rename, merge and split the groups of a synthesis; the report keeps the history."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.demo.seed import DEMO_SLUG
from consult.synthesis.models import SynthesisCluster, SynthesisMembership
from tests.support.seeding import read_in_english
from tests.support.site import Site
from tests.support.synthesis import run_rows as rows
from tests.support.synthesis import start_and_finish

BASE = f"/consultations/{DEMO_SLUG}/synthesis"


@pytest.fixture
def site(demo: Site) -> Site:
    """Here, the site holds the demo consultation, read in English (the assertions quote the
    English texts)."""
    return read_in_english(demo)


def _article_clusters(site: Site, run_id: int) -> tuple[str, list[SynthesisCluster]]:
    """The article with the most groups, and its groups (no "other")."""
    clusters = [
        c for c in rows(site, SynthesisCluster, run_id) if not c.is_other and not c.is_theme
    ]
    by_scope: dict[str, list[SynthesisCluster]] = {}
    for cluster in clusters:
        by_scope.setdefault(cluster.scope, []).append(cluster)
    scope = max(by_scope, key=lambda s: len(by_scope[s]))
    assert len(by_scope[scope]) >= 2
    return scope, sorted(by_scope[scope], key=lambda c: c.position)


def _members(site: Site, cluster_id: int) -> list[int]:
    return [
        m
        for (m,) in site.rows(
            select(SynthesisMembership.contribution_id)
            .where(SynthesisMembership.cluster_id == cluster_id)
            .order_by(SynthesisMembership.contribution_id),
        )
    ]


def _scope_members(site: Site, run_id: int, scope: str) -> list[int]:
    return sorted(
        m
        for (m,) in site.rows(
            select(SynthesisMembership.contribution_id).where(
                SynthesisMembership.run_id == run_id, SynthesisMembership.scope == scope
            ),
        )
    )


def _cluster(site: Site, cluster_id: int) -> SynthesisCluster:
    async def read(session: AsyncSession) -> SynthesisCluster:
        cluster = await session.get(SynthesisCluster, cluster_id)
        assert cluster is not None
        return cluster

    return site.db(read)


@pytest.mark.each_database
def test_rename_merge_and_split_keep_every_contribution_once_and_leave_a_history(
    site: Site,
) -> None:
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    scope, clusters = _article_clusters(site, run_id)
    before = _scope_members(site, run_id, scope)
    first, second = clusters[0], clusters[1]
    report_url = f"{BASE}/articles/{scope}"

    renamed = site.client.post(
        f"{BASE}/clusters/{first.id}/rename", data={"title": "Le droit d’être informé"}
    )
    # Back to the group, in the run being reviewed.
    assert renamed.status_code == 303
    assert renamed.headers["location"] == f"{report_url}?run={run_id}#group-{first.id}"
    page = site.client.get(report_url)
    assert "Le droit d’être informé" in page.text
    assert f"computed title: “{first.title}”" in page.text
    assert (
        site.client.post(f"{BASE}/clusters/{first.id}/rename", data={"title": " "}).status_code
        == 422
    )

    moved = len(_members(site, second.id))
    merged = site.client.post(f"{BASE}/clusters/{first.id}/merge", data={"source": str(second.id)})
    assert merged.status_code == 303
    assert _cluster(site, second.id).merged_into_id == first.id
    target = _cluster(site, first.id)
    assert target.contributions == len(_members(site, first.id)) == first.contributions + moved
    assert _scope_members(site, run_id, scope) == before  # nobody lost, nobody counted twice
    # A merged group is gone from the report and cannot be merged or answered again.
    assert (
        site.client.post(
            f"{BASE}/clusters/{first.id}/merge", data={"source": str(second.id)}
        ).status_code
        == 422
    )

    members = _members(site, first.id)
    none = site.client.post(f"{BASE}/clusters/{first.id}/split", data={"title": "Vide"})
    assert none.status_code == 422 and "Tick the contributions" in none.text
    everyone = site.client.post(
        f"{BASE}/clusters/{first.id}/split",
        data={"title": "Tout", "member": [str(m) for m in members]},
    )
    assert everyone.status_code == 422
    split = site.client.post(
        f"{BASE}/clusters/{first.id}/split",
        data={"title": "Les délais", "member": [str(m) for m in members[:3]]},
    )
    assert split.status_code == 303
    created = site.scalar(
        select(SynthesisCluster.id).where(
            SynthesisCluster.run_id == run_id, SynthesisCluster.title == "Les délais"
        ),
    )
    assert _members(site, created) == members[:3]
    assert _cluster(site, first.id).contributions == len(members) - 3
    assert _scope_members(site, run_id, scope) == before

    page = site.client.get(report_url)
    assert "Edited by the ministry" in page.text
    assert "Les délais" in page.text
    report = site.client.get(f"{report_url}/report.json").json()
    assert [e["action"] for e in report["edits"]] == ["rename", "merge", "split"]
    assert (
        sum(c["contributions"] for c in report["groups"])
        + (report["other"]["contributions"] if report["other"] else 0)
        == report["contributions"]
    )
    renamed_json = next(c for c in report["groups"] if c["title"] == "Le droit d’être informé")
    assert renamed_json["computed_title"] == first.title
    actions = [
        a
        for (a,) in site.rows(select(AuditEvent.action).where(AuditEvent.action.like("cluster.%")))
    ]
    assert actions == ["cluster.rename", "cluster.merge", "cluster.split"]


def test_citizens_cannot_edit_groups(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    _scope, clusters = _article_clusters(site, run_id)
    site.client.post("/account/logout")
    site.login(site.user(Role.CITIZEN))
    cluster_id = clusters[0].id
    assert (
        site.client.post(f"{BASE}/clusters/{cluster_id}/rename", data={"title": "x"}).status_code
        == 403
    )
    assert site.client.get(f"{BASE}/clusters/{cluster_id}/split").status_code == 403
    assert (
        site.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("cluster.%")),
        )
        == 0
    )
