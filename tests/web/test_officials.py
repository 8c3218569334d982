"""An official's dashboard and the edit of a consultation."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.consultations.models import Consultation, ConsultationPhase, Phase
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.demo.seed import DEMO_SLUG
from tests.support.seeding import read_in_english
from tests.support.site import Site

BASE = f"/consultations/{DEMO_SLUG}"


def _figure(page: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}"[^>]*>\s*(?:<[^>]+>)*\s*([\d\s\u202f\u00a0,]+)<', page)
    assert match, element_id
    return int(re.sub(r"\D", "", match.group(1)))


def _kind_count(site: Site, *kinds: ContributionKind) -> int:
    return int(
        site.scalar(
            select(func.count()).where(
                Contribution.visibility == Visibility.VISIBLE, Contribution.kind.in_(kinds)
            )
        )
    )


def test_the_dashboard_counts_what_waits_for_the_official(demo: Site) -> None:
    site = read_in_english(demo)
    site.login(site.user(Role.OFFICIAL))
    page = site.client.get(f"{BASE}/dashboard")
    assert page.status_code == 200, page.text
    assert _figure(page.text, "count-contributions") == _kind_count(site, *ContributionKind)
    for kind in ContributionKind:
        row = re.search(rf'id="kind-{kind.value}">.*?<td>([^<]+)</td>', page.text, re.S)
        assert row and int(re.sub(r"\D", "", row.group(1))) == _kind_count(site, kind), kind
    answerable = _kind_count(
        site,
        ContributionKind.ANNOTATION,
        ContributionKind.AMENDMENT,
        ContributionKind.ARGUMENT,
        ContributionKind.SOURCE,
    )
    assert _figure(page.text, "count-waiting") <= answerable
    assert _figure(page.text, "count-waiting") > 0
    assert _figure(page.text, "count-groups") == 0  # no synthesis yet
    assert "No synthesis yet." in page.text
    assert "Version 1 is in force; version 2 is being prepared." in page.text
    # The next step with its date, and each block's action.
    assert re.search(r'id="next-step">Next step: Closed, scheduled for', page.text)
    for action in ("inbox", "versions/next", "edit", "synthesis/runs"):
        assert f"{BASE}/{action}" in page.text, action
    # The consultation page leads its officials there, not the public.
    assert f"{BASE}/dashboard" in site.client.get(BASE).text
    with site.anonymously() as visitor:
        assert f"{BASE}/dashboard" not in visitor.get(BASE).text
        assert visitor.get(f"{BASE}/dashboard").status_code == 303


def test_the_dashboard_counts_the_groups_of_the_latest_synthesis(demo: Site) -> None:
    site = read_in_english(demo)
    site.login(site.user(Role.OFFICIAL))
    assert site.client.post(f"{BASE}/synthesis/runs").status_code == 303
    site.drain_jobs()
    page = site.client.get(f"{BASE}/dashboard")
    from consult.synthesis.models import SynthesisCluster

    groups = int(site.scalar(select(func.count()).select_from(SynthesisCluster)))
    assert groups > 0 and _figure(page.text, "count-groups") == groups
    assert "Review and publish the draft synthesis" in page.text


def test_editing_a_consultation_follows_the_rules_of_its_creation(demo: Site) -> None:
    site = read_in_english(demo)
    official = site.user(Role.OFFICIAL)
    site.login(official)
    form = site.client.get(f"{BASE}/edit")
    assert form.status_code == 200
    assert 'name="title"' in form.text and 'name="closed"' in form.text
    opens = re.search(r'name="open" type="datetime-local"\s*value="([^"]+)"', form.text)
    assert opens, "the schedule is filled in"

    wrong = site.client.post(
        f"{BASE}/edit",
        data={
            "title": "  ",
            "summary": "x" * 5001,
            "ministry": "m" * 201,
            "open": opens.group(1),
            "closed": "2020-01-01T00:00",
        },
    )
    assert wrong.status_code == 422
    assert "Enter a title." in wrong.text
    assert "The summary must have at most 5000 characters." in wrong.text
    assert "The ministry must have at most 200 characters." in wrong.text
    assert "This date must come after the previous phase&#39;s date." in wrong.text
    assert 'href="#field-title"' in wrong.text  # the summary links to its fields
    unreadable = site.client.post(
        f"{BASE}/edit", data={"title": "Titre", "open": "demain", "closed": ""}
    )
    assert unreadable.status_code == 422 and "Enter a date and time" in unreadable.text
    missing = site.client.post(f"{BASE}/edit", data={"title": "Titre"})
    assert missing.status_code == 422 and "Enter the date the consultation opens." in missing.text
    assert site.scalar(select(func.count()).where(AuditEvent.action == "consultation.update")) == 0

    saved = site.client.post(
        f"{BASE}/edit",
        data={
            "title": "  Un   nouveau titre ",
            "summary": "Résumé revu.",
            "ministry": "Ministère de la Participation",
            "open": opens.group(1),
            "closed": "2099-06-01T12:00",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{BASE}/dashboard?saved=1"
    assert "The consultation is saved." in site.client.get(saved.headers["location"]).text
    consultation = site.scalar(select(Consultation).where(Consultation.slug == DEMO_SLUG))
    assert consultation.title == "Un nouveau titre"
    assert consultation.ministry == "Ministère de la Participation"
    phases = dict(
        site.rows(
            select(ConsultationPhase.phase, ConsultationPhase.starts_at).where(
                ConsultationPhase.consultation_id == consultation.id
            )
        )
    )
    assert Phase.ANSWERED not in phases and Phase.PUBLISHED not in phases  # left empty: dropped
    assert phases[Phase.CLOSED].year == 2099
    ((actor, details),) = site.rows(
        select(AuditEvent.actor_id, AuditEvent.details).where(
            AuditEvent.action == "consultation.update"
        )
    )
    assert actor == official.id
    assert details["changed"] == sorted(
        ["title", "summary", "ministry", "closed", "answered", "published"]
    )


def test_an_official_of_another_ministry_cannot_edit_or_see_the_dashboard(demo: Site) -> None:
    demo.login(demo.official_of_another_ministry())
    assert demo.client.get(f"{BASE}/dashboard").status_code == 403
    assert demo.client.get(f"{BASE}/edit").status_code == 403
    assert demo.client.post(f"{BASE}/edit", data={"title": "Pris"}).status_code == 403
    titles = demo.rows(select(Consultation.title))
    assert ("Pris",) not in titles
