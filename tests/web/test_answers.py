"""Officials answer contributions one by one, by cluster or by campaign; citizens see the fate."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role
from consult.answers.models import Answer, ContributionOutcome
from consult.audit.models import AuditEvent
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.demo.seed import DEMO_SLUG
from consult.synthesis.models import (
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
)
from tests.support.seeding import REASON, read_in_english
from tests.support.site import Site, htmx_headers
from tests.support.synthesis import run_rows as rows
from tests.support.synthesis import start_and_finish

BASE = f"/consultations/{DEMO_SLUG}"


@pytest.fixture
def site(demo: Site) -> Site:
    """Here, the site holds the demo consultation, read in English (the assertions quote the
    English texts)."""
    return read_in_english(demo)


def _first_of_kind(site: Site, kind: ContributionKind) -> int:
    return int(
        site.scalar(
            select(func.min(Contribution.id)).where(
                Contribution.kind == kind, Contribution.visibility == Visibility.VISIBLE
            ),
        )
    )


def _outcomes(site: Site) -> dict[int, int]:
    return dict(
        site.rows(select(ContributionOutcome.contribution_id, ContributionOutcome.answer_id))
    )


def anonymous_get(site: Site, url: str) -> Any:
    """GET ``url`` as a visitor who is not logged in (the session cookie set aside)."""
    token = site.client.cookies.get("consult_session")
    site.client.cookies.clear()
    try:
        return site.client.get(url)
    finally:
        if token:
            site.client.cookies.set("consult_session", token)


def as_official(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))


def test_an_answer_stays_a_draft_until_published_and_then_everyone_reads_it(site: Site) -> None:
    as_official(site)
    target = _first_of_kind(site, ContributionKind.ANNOTATION)
    url = f"{BASE}/answers/contribution/{target}"
    form = site.client.get(url)
    assert form.status_code == 200
    assert "This answer reaches 1 contribution." in form.text

    missing = site.client.post(url, data={"state": "rejected", "reason": " ", "action": "draft"})
    assert missing.status_code == 422
    assert "Give the reason for this decision." in missing.text
    unknown = site.client.post(url, data={"state": "maybe", "reason": REASON, "action": "draft"})
    assert unknown.status_code == 422 and "Choose what becomes" in unknown.text

    draft = site.client.post(url, data={"state": "rejected", "reason": REASON, "action": "draft"})
    assert draft.status_code == 303
    page = anonymous_get(site, f"{BASE}/contributions/{target}")
    assert "The ministry has not answered yet." in page.text
    assert _outcomes(site) == {}

    published = site.client.post(
        url, data={"state": "rejected", "reason": REASON, "action": "publish"}
    )
    assert published.status_code == 303
    page = anonymous_get(site, f"{BASE}/contributions/{target}")
    assert "Rejected" in page.text
    assert "<strong>alinéa 2</strong>" in page.text  # the reason is Markdown, rendered safely
    feedback = anonymous_get(site, f"{BASE}/feedback")
    assert feedback.status_code == 200
    assert "1 contribution answered on its own" in feedback.text
    actions = site.rows(select(AuditEvent.action).order_by(AuditEvent.id))
    assert [a for (a,) in actions if a.startswith("answer.")] == ["answer.draft", "answer.publish"]


def test_a_reason_with_markup_is_sanitised(site: Site) -> None:
    as_official(site)
    target = _first_of_kind(site, ContributionKind.ARGUMENT)
    site.client.post(
        f"{BASE}/answers/contribution/{target}",
        data={
            "state": "accepted",
            "reason": 'Merci <script>alert(1)</script> <a href="javascript:x">ici</a>',
            "action": "publish",
        },
    )
    page = site.client.get(f"{BASE}/contributions/{target}")
    assert "<script>alert(1)" not in page.text
    assert '<a href="javascript:' not in page.text
    assert "&lt;script&gt;alert(1)" in page.text  # shown as text, not run


def _cluster_with_members(site: Site, run_id: int, minimum: int = 3) -> tuple[int, list[int]]:
    clusters = rows(site, SynthesisCluster, run_id)
    for cluster in sorted(clusters, key=lambda c: (c.scope == "", c.id)):
        if cluster.is_other or cluster.contributions < minimum:
            continue
        members = [
            m
            for (m,) in site.rows(
                select(SynthesisMembership.contribution_id).where(
                    SynthesisMembership.cluster_id == cluster.id
                ),
            )
        ]
        return cluster.id, sorted(members)
    raise AssertionError("no cluster large enough")


@pytest.mark.each_database
def test_a_cluster_answer_reaches_every_member_and_one_of_them_can_be_answered_apart(
    site: Site,
) -> None:
    as_official(site)
    run_id = start_and_finish(site)
    cluster_id, members = _cluster_with_members(site, run_id)
    url = f"{BASE}/answers/cluster/{cluster_id}"
    form = site.client.get(url)
    assert f"This answer reaches {len(members)} contributions." in form.text
    done = site.client.post(url, data={"state": "accepted", "reason": REASON, "action": "publish"})
    assert done.status_code == 303
    answer_id = site.scalar(select(Answer.id).where(Answer.cluster_id == cluster_id))
    outcomes = _outcomes(site)
    assert {member: outcomes.get(member) for member in members} == dict.fromkeys(members, answer_id)
    cluster = site.scalar(select(SynthesisCluster).where(SynthesisCluster.id == cluster_id))
    if cluster.scope:  # the feedback page lists each article's groups with their answer
        feedback = site.client.get(f"{BASE}/feedback")
        assert "Groups of similar contributions" in feedback.text
        assert cluster.title in feedback.text

    # One member gets its own answer: the official is asked first, then it overrides.
    single = f"{BASE}/answers/contribution/{members[0]}"
    asked = site.client.post(
        single, data={"state": "rejected", "reason": REASON, "action": "publish"}
    )
    assert asked.status_code == 422
    assert "already covered by the answer to" in asked.text
    assert _outcomes(site)[members[0]] == answer_id  # nothing changed without confirmation
    confirmed = site.client.post(
        single,
        data={"state": "rejected", "reason": REASON, "action": "publish", "override": "1"},
    )
    assert confirmed.status_code == 303
    outcomes = _outcomes(site)
    own = site.scalar(select(Answer.id).where(Answer.contribution_id == members[0]))
    assert outcomes[members[0]] == own
    assert all(outcomes[m] == answer_id for m in members[1:])
    # The cluster's form now says one member keeps its own answer.
    assert "1 of them has a published answer of its own, which stays." in site.client.get(url).text
    # Updating the cluster answer later does not take the member back.
    site.client.post(
        url, data={"state": "partially_accepted", "reason": REASON, "action": "publish"}
    )
    assert _outcomes(site)[members[0]] == own


def test_a_campaign_answer_reaches_every_signature(site: Site) -> None:
    as_official(site)
    run_id = start_and_finish(site)
    campaign = max(rows(site, SynthesisCampaign, run_id), key=lambda c: c.copies)
    signatures = [
        m
        for (m,) in site.rows(
            select(SynthesisCampaignMember.contribution_id).where(
                SynthesisCampaignMember.campaign_id == campaign.id
            ),
        )
    ]
    assert len(signatures) >= 60
    url = f"{BASE}/answers/campaign/{campaign.id}"
    assert f"This answer reaches {len(signatures)} contributions." in site.client.get(url).text
    site.client.post(url, data={"state": "out_of_scope", "reason": REASON, "action": "publish"})
    outcomes = _outcomes(site)
    assert all(member in outcomes for member in signatures)
    page = site.client.get(f"{BASE}/contributions/{signatures[-1]}")
    assert "Out of scope" in page.text and "Answer to a copy-paste campaign" in page.text


@pytest.mark.each_database
def test_the_inbox_counts_and_filters_what_is_left_to_answer(site: Site) -> None:
    as_official(site)
    start_and_finish(site)
    inbox = site.client.get(f"{BASE}/inbox")
    assert inbox.status_code == 200 and "By article" in inbox.text
    key = "art-1"
    waiting = site.client.get(f"{BASE}/inbox/articles/{key}?unanswered=1")
    total = site.scalar(
        select(func.count()).where(
            Contribution.article_key == key,
            Contribution.visibility == Visibility.VISIBLE,
            Contribution.kind.in_(
                [ContributionKind.ANNOTATION, ContributionKind.AMENDMENT, ContributionKind.ARGUMENT]
            ),
        ),
    )
    assert f"{total} contributions match." in waiting.text
    first = site.scalar(
        select(func.min(Contribution.id)).where(
            Contribution.article_key == key, Contribution.kind == ContributionKind.AMENDMENT
        ),
    )
    site.client.post(
        f"{BASE}/answers/contribution/{first}",
        data={"state": "accepted", "reason": REASON, "action": "publish", "override": "1"},
    )
    after = site.client.get(f"{BASE}/inbox/articles/{key}?unanswered=1", headers=htmx_headers())
    assert f"{total - 1} contributions match." in after.text
    assert 'id="inbox_list"' in after.text and "<html" not in after.text  # the list alone
    amendments = site.client.get(f"{BASE}/inbox/articles/{key}?kind=amendment")
    count = site.scalar(
        select(func.count()).where(
            Contribution.article_key == key,
            Contribution.kind == ContributionKind.AMENDMENT,
            Contribution.visibility == Visibility.VISIBLE,
        ),
    )
    assert f"{count} contribution" in amendments.text
    none = site.client.get(f"{BASE}/inbox/articles/{key}?votes=none&kind=argument&page=999")
    assert none.status_code == 200
    # Malformed filters are ignored, never a crash.
    odd = site.client.get(f"{BASE}/inbox/articles/{key}?cluster=abc&votes=x&page=-2")
    assert odd.status_code == 200
    assert site.client.get(f"{BASE}/inbox/articles/art-404").status_code == 404


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.MODERATOR])
def test_no_citizen_or_moderator_reaches_an_official_action(site: Site, role: Role) -> None:
    target = _first_of_kind(site, ContributionKind.ANNOTATION)
    site.login(site.user(role))
    for method, path in [
        ("GET", f"{BASE}/inbox"),
        ("GET", f"{BASE}/inbox/articles/art-1"),
        ("GET", f"{BASE}/answers/contribution/{target}"),
        ("POST", f"{BASE}/answers/contribution/{target}"),
        ("POST", f"{BASE}/phase"),
    ]:
        response = site.client.request(
            method,
            path,
            data={"state": "accepted", "reason": "x", "action": "publish", "phase": "closed"}
            if method == "POST"
            else None,
        )
        assert response.status_code == 403, (role, method, path)
    assert site.scalar(select(func.count()).select_from(Answer)) == 0


@pytest.mark.each_database
def test_my_contributions_lists_each_of_mine_with_its_fate(site: Site) -> None:
    citizen = site.user()
    client = site.login(citizen)
    for body in ("Première remarque sur le texte.", "Seconde remarque, bien distincte."):
        response = client.post(
            f"{BASE}/articles/art-1/arguments",
            data={"stance": "pour", "body": body},
        )
        assert response.status_code == 303, response.text
    mine = site.rows(
        select(Contribution.id)
        .where(Contribution.author_id == citizen.id)
        .order_by(Contribution.id),
    )
    first, second = (row[0] for row in mine)
    client.post("/account/logout")
    site.login(site.user(Role.OFFICIAL))
    site.client.post(
        f"{BASE}/answers/contribution/{first}",
        data={"state": "accepted", "reason": REASON, "action": "publish"},
    )
    site.client.post(
        f"{BASE}/answers/contribution/{second}",
        data={"state": "rejected", "reason": REASON, "action": "draft"},
    )
    site.client.post("/account/logout")
    site.login(citizen)
    page = site.client.get("/account/contributions")
    assert page.status_code == 200
    assert "You wrote 2 contributions." in page.text and "1 has been answered." in page.text
    assert "Accepted" in page.text and "Not answered yet." in page.text
    assert "Rejected" not in page.text  # a draft is not a fate yet


@pytest.mark.each_database
def test_an_official_moves_the_consultation_through_its_phases(site: Site) -> None:
    as_official(site)
    assert site.client.post(f"{BASE}/phase", data={"phase": "published"}).status_code == 422
    assert site.client.post(f"{BASE}/phase", data={"phase": "nonsense"}).status_code == 422
    assert site.client.post(f"{BASE}/phase", data={"phase": "closed"}).status_code == 303
    page = site.client.get(BASE)
    assert "Closed" in page.text
    refused = site.client.post(
        f"{BASE}/articles/art-1/arguments", data={"stance": "pour", "body": "Trop tard ?"}
    )
    assert refused.status_code in (403, 422)
    assert site.client.post(f"{BASE}/phase", data={"phase": "answered"}).status_code == 303
    assert site.client.post(f"{BASE}/phase", data={"phase": "published"}).status_code == 303
    assert "Published" in site.client.get(BASE).text
    moves = site.rows(
        select(AuditEvent.details).where(AuditEvent.action == "consultation.phase"),
    )
    assert [d["to"] for (d,) in moves] == ["closed", "answered", "published"]


TOPICS = {
    "vélo": "les pistes cyclables protégées doivent relier chaque commune voisine",
    "loyer": "le plafonnement des loyers protège les locataires des grandes villes",
    "données": "les données personnelles des contributeurs restent protégées par la loi",
}


def _filler(n: int) -> str:
    words = ["avis", "texte", "mesure", "délai", "budget", "usager", "service", "contrôle"]
    words += ["région", "école", "hôpital", "transport", "emploi", "culture", "santé", "sport"]
    return " ".join(words[(n * 7 + k * 3) % len(words)] + str(n * 10 + k) for k in range(8))


def test_the_feedback_page_lists_each_articles_groups_with_their_answer(site: Site) -> None:
    as_official(site)

    async def write(session: AsyncSession) -> None:
        template = await session.scalar(
            select(Contribution).where(Contribution.article_key == "art-2").limit(1)
        )
        assert template is not None
        for topic, sentence in TOPICS.items():
            for n in range(20):
                session.add(
                    Contribution(
                        consultation_id=template.consultation_id,
                        version_id=template.version_id,
                        article_key="art-2",
                        kind=ContributionKind.ARGUMENT,
                        # Words of its own in each text, so that they are no campaign.
                        body=f"{sentence.capitalize()} : {topic}, {_filler(n)}.",
                        author_pseudonym=f"Personne {topic} {n}",
                    )
                )

    site.db(write)
    run_id = start_and_finish(site)
    groups = [
        c for c in rows(site, SynthesisCluster, run_id) if c.scope == "art-2" and not c.is_other
    ]
    assert len(groups) >= 2
    site.client.post(
        f"{BASE}/answers/cluster/{groups[0].id}",
        data={"state": "under_review", "reason": "", "action": "publish"},
    )
    page = site.client.get(f"{BASE}/feedback")
    section = page.text.split('id="art-2"', 1)[1].split("</section>", 1)[0]
    assert "Groups of similar contributions" in section
    assert all(group.title in section for group in groups)
    assert "Under review" in section and "no answer to the group" in section
