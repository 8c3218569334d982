"""Version 2 from accepted amendments: conflicts decided, hand edits, provenance, re-anchoring."""

from __future__ import annotations

import re
from typing import Any

import anyio
import httpx2
import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.audit.models import AuditEvent
from consult.bills.models import BillVersion, Provision
from consult.contributions.models import Contribution
from consult.demo.seed import DEMO_SLUG
from consult.revisions.models import AnchorStatus, ContributionAnchor, VersionChange
from consult.web.services import services_of_app
from tests.support.seeding import REASON, read_in_english
from tests.support.site import PASSWORD, Site, browser, join, make_settings, serving

BASE = f"/consultations/{DEMO_SLUG}"
ARTICLE = f"{BASE}/articles/art-1"


@pytest.fixture
def site(demo: Site) -> Site:
    """Here, the site holds the demo consultation, read in English (the assertions quote the
    English texts)."""
    return read_in_english(demo)


def _newest(site: Site) -> int:
    return int(site.scalar(select(func.max(Contribution.id))))


def _amend(site: Site, **fields: str) -> int:
    data = {"occurrence": "1", "body": "Plus clair ainsi.", "action": "publish", **fields}
    response = site.client.post(f"{ARTICLE}/amendments", data=data)
    assert response.status_code == 303, response.text
    return _newest(site)


def _annotate(site: Site, alinea: str, quote: str) -> int:
    response = site.client.post(
        f"{ARTICLE}/annotations", data={"alinea": alinea, "quote": quote, "body": "À préciser."}
    )
    assert response.status_code == 303, response.text
    return _newest(site)


def _answer(site: Site, contribution_id: int, state: str, action: str = "publish") -> None:
    response = site.client.post(
        f"{BASE}/answers/contribution/{contribution_id}",
        data={"state": state, "reason": REASON, "action": action},
    )
    assert response.status_code == 303, response.text


def _conflict_key(page: str) -> str:
    match = re.search(r'name="conflict:([^"]+)"', page)
    assert match, "no conflict on the page"
    return match.group(1)


@pytest.mark.each_database
def test_version_two_carries_the_provenance_of_every_change(site: Site) -> None:
    citizen = site.user()
    site.login(citizen)
    replace = _amend(
        site, operation="replace_words", alinea="1", old_text="garantir", new_text="assurer"
    )
    competing = _amend(
        site,
        operation="replace_words",
        alinea="1",
        old_text="garantir à toute personne",
        new_text="reconnaître à chacun",
    )
    inserted = _amend(
        site,
        operation="insert_alinea",
        alinea="3",
        new_text="Un décret en Conseil d’État précise ces principes.",
    )
    kept = _annotate(site, "2", "sincérité, de transparence")
    changed = _annotate(site, "1", "garantir à toute personne le droit")
    site.client.post("/account/logout")

    site.login(site.user(Role.OFFICIAL))
    _answer(site, replace, "accepted")
    _answer(site, competing, "accepted")
    _answer(site, inserted, "partially_accepted", action="draft")  # a draft answer counts
    page = site.client.get(f"{BASE}/versions/next")
    assert page.status_code == 200
    assert "3 accepted amendments" in page.text

    picked = {"amendment": [str(replace), str(competing), str(inserted)]}
    assert site.client.post(f"{BASE}/versions/next", data=picked).status_code == 303
    page = site.client.get(f"{BASE}/versions/next")
    assert "Competing amendments" in page.text
    key = _conflict_key(page.text)
    refused = site.client.post(
        f"{BASE}/versions/next/publish",
        data={"number": "2", "reason": "Le texte doit partir au Conseil d’État avant la clôture."},
    )
    assert refused.status_code == 422
    assert "Choose between the competing amendments" in refused.text
    assert f"Keep amendment #{replace}" in refused.text  # the list is shown with the refusal
    assert site.scalar(select(func.count()).select_from(BillVersion)) == 1

    chosen = {**picked, f"conflict:{key}": str(competing)}
    assert site.client.post(f"{BASE}/versions/next", data=chosen).status_code == 303
    text = site.client.get(f"{BASE}/versions/next/text")
    assert "reconnaître à chacun" in text.text
    assert "Un décret en Conseil d’État précise ces principes." in text.text
    source = re.search(r'<textarea id="version-source"[^>]*>(.*?)</textarea>', text.text, re.S)
    assert source
    original = source.group(1).replace("&#39;", "'").replace("&quot;", '"').replace("&amp;", "&")
    broken = site.client.post(
        f"{BASE}/versions/next/text", data={"source": original + "\n\n##### Article abc\n\nx"}
    )
    assert broken.status_code == 422 and "line" in broken.text.lower()
    edited = original.replace("Un décret en Conseil d’État précise", "Un décret précise")
    assert (
        site.client.post(f"{BASE}/versions/next/text", data={"source": edited}).status_code == 303
    )

    published = site.client.post(
        f"{BASE}/versions/next/publish",
        data={"number": "2", "reason": "Le texte doit partir au Conseil d’État avant la clôture."},
    )
    assert published.status_code == 303
    assert published.headers["location"] == f"{BASE}/versions/2/changes"
    changes = site.client.get(f"{BASE}/versions/2/changes")
    assert changes.status_code == 200
    assert f"#{competing}</a>" in changes.text and f"#{inserted}</a>" in changes.text
    assert "ministry" in changes.text  # the hand edit is the ministry's
    # The accepted amendment left out by the choice is explained, and changed no word.
    assert f'id="lost-{replace}"' in changes.text
    redlines = changes.text.split('id="lost-conflicts"', 1)[1].split("</section>", 1)[1]
    assert f"#{replace}</a>" not in redlines

    rows = site.rows(select(VersionChange.contribution_id, VersionChange.kind, VersionChange.text))
    by_origin: dict[Any, list[tuple[str, str]]] = {}
    for origin, kind, words in rows:
        by_origin.setdefault(origin, []).append((kind, words))
    assert ("insert", "reconnaître ") in by_origin[competing]
    assert any(kind == "delete" and "Conseil" in words for kind, words in by_origin[None])
    assert replace not in by_origin

    # Passages follow the text: one re-attached, one marked as changed.
    anchors = dict(site.rows(select(ContributionAnchor.contribution_id, ContributionAnchor.status)))
    assert anchors[kept] is AnchorStatus.EXACT
    ((alinea, start, end),) = site.rows(
        select(ContributionAnchor.alinea, ContributionAnchor.start, ContributionAnchor.end).where(
            ContributionAnchor.contribution_id == kept
        ),
    )
    text = site.scalar(
        select(Provision.text)
        .join(BillVersion, BillVersion.id == Provision.version_id)
        .where(BillVersion.number == 2, Provision.key == f"art-1-al-{alinea}"),
    )
    assert text[start:end] == "sincérité, de transparence"
    assert anchors[changed] is AnchorStatus.OUTDATED
    assert anchors[competing] is AnchorStatus.APPLIED
    article = site.client.get(f"{ARTICLE}?sort=newest")
    assert re.search(r"<mark class=\"passage\">[^<]*sincérité, de transparence", article.text)
    assert "Outdated: the passage changed." in article.text
    assert f"{ARTICLE}?version=1#art-1-al-1" in article.text

    amendment = site.client.get(f"{BASE}/contributions/{competing}")
    assert "The words it changed in the bill" in amendment.text
    assert "<ins>reconnaître </ins>" in amendment.text
    compare = site.client.get(f"{BASE}/compare?from=1&to=2")
    assert compare.status_code == 200 and "<ins>" in compare.text
    assert site.client.get(f"{BASE}/compare?from=1&to=9").status_code == 404
    feedback = site.client.get(f"{BASE}/feedback")
    assert "What changed in the text, and why" in feedback.text
    (details,) = [
        d
        for (d,) in site.rows(
            select(AuditEvent.details).where(AuditEvent.action == "version.publish")
        )
    ]
    assert sorted(details["applied"]) == sorted([competing, inserted])
    assert details["edited_by_hand"] is True
    # The next draft starts from version 2.
    assert "Version 3 of the bill" in site.client.get(f"{BASE}/versions/next").text


def test_a_version_without_amendments_changes_nothing_and_says_so(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    page = site.client.get(f"{BASE}/versions/next")
    assert "No amendment has been accepted yet" in page.text
    assert (
        site.client.post(
            f"{BASE}/versions/next/publish",
            data={
                "number": "2",
                "reason": "Le texte doit partir au Conseil d’État avant la clôture.",
            },
        ).status_code
        == 303
    )
    changes = site.client.get(f"{BASE}/versions/2/changes")
    assert "No article changed." in changes.text
    assert site.client.get(f"{BASE}/versions/1/changes").status_code == 404


def test_publishing_again_what_was_just_published_publishes_nothing(site: Site) -> None:
    site.login(site.user(Role.OFFICIAL))
    assert "Review and publish version 2" in site.client.get(f"{BASE}/versions/next").text
    assert "Publish version 2" in site.client.get(f"{BASE}/versions/next/publish").text
    first = site.client.post(
        f"{BASE}/versions/next/publish",
        data={"number": "2", "reason": "Le texte doit partir au Conseil d’État avant la clôture."},
    )
    assert first.headers["location"] == f"{BASE}/versions/2/changes"
    # The same button again (a second click, a colleague's page): version 2 is shown as it is.
    again = site.client.post(
        f"{BASE}/versions/next/publish",
        data={"number": "2", "reason": "Le texte doit partir au Conseil d’État avant la clôture."},
    )
    assert again.status_code == 303
    assert again.headers["location"] == f"{BASE}/versions/2/changes?already=1"
    notice = site.client.get(again.headers["location"])
    assert "Version 2 had already been published" in notice.text
    # A number the draft cannot have: the page is shown again with a way forward.
    stale = site.client.post(
        f"{BASE}/versions/next/publish",
        data={"number": "7", "reason": "Le texte doit partir au Conseil d’État avant la clôture."},
    )
    assert stale.status_code == 422 and "Reload the page" in stale.text
    assert site.scalar(select(func.count()).select_from(BillVersion)) == 2


@pytest.mark.each_database
@pytest.mark.anyio
async def test_ten_concurrent_publications_give_one_version(demo_url: str) -> None:
    async with serving(make_settings(demo_url)) as app:
        factory = services_of_app(app).session_factory
        async with factory() as session:
            official = await create_user(
                session, "redaction@example.org", "Rédaction", PASSWORD, Role.OFFICIAL
            )
            await join(session, official)  # the demo's ministry
            await session.commit()
        officials = [await browser(app, official.email) for _ in range(10)]

        async def publish(http: httpx2.AsyncClient) -> None:
            answer = await http.post(
                f"{BASE}/versions/next/publish",
                data={
                    "number": "2",
                    "reason": "Le texte doit partir au Conseil d’État avant la clôture.",
                },
            )
            locations.append((answer.status_code, answer.headers.get("location")))

        locations: list[tuple[int, str | None]] = []
        async with anyio.create_task_group() as clicks:
            for http in officials:
                clicks.start_soon(publish, http)
        for http in officials:
            await http.aclose()
        async with factory() as session:
            numbers = list(await session.scalars(select(BillVersion.number)))
    assert sorted(numbers) == [1, 2]
    assert sorted(locations) == sorted(
        [(303, f"{BASE}/versions/2/changes")] + [(303, f"{BASE}/versions/2/changes?already=1")] * 9
    )
