"""Administrators manage organisations and their members; officials create consultations for
the organisations they belong to."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.consultations.models import Consultation
from consult.organisations.models import Organisation, OrganisationMember
from tests.support.seeding import MINISTRY_SLUG, make_consultation, read_in_english
from tests.support.site import OTHER_MINISTRY_SLUG, Site, htmx_headers


def members(site: Site, slug: str) -> set[str]:
    rows = site.rows(
        select(OrganisationMember.user_id)
        .join(Organisation, Organisation.id == OrganisationMember.organisation_id)
        .where(Organisation.slug == slug)
    )
    return {f"user:{user_id}" for (user_id,) in rows}


def audit(site: Site) -> list[tuple[str, str, dict[str, object]]]:
    return site.rows(
        select(AuditEvent.action, AuditEvent.target, AuditEvent.details)
        .where(AuditEvent.action.like("organisation.%"))
        .order_by(AuditEvent.id)
    )


@pytest.mark.each_database
def test_an_administrator_creates_an_organisation_and_manages_its_members(site: Site) -> None:
    read_in_english(site)
    admin = site.user(Role.ADMIN)
    official = site.user(Role.OFFICIAL)
    site.login(admin)
    assert "Organisations" in site.client.get("/").text  # in the menu

    created = site.client.post(
        "/admin/organisations", data={"name": "  Ministère  de la Mer ", "slug": ""}
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/organisations/ministere-de-la-mer?done=created"
    page = site.client.get(created.headers["location"])
    assert "Ministère de la Mer" in page.text and "The organisation is created" in page.text

    added = site.client.post(
        "/admin/organisations/ministere-de-la-mer/members", data={"email": official.email.upper()}
    )
    assert added.status_code == 303
    assert members(site, "ministere-de-la-mer") == {f"user:{official.id}"}
    listed = site.client.get("/admin/organisations")
    assert "Ministère de la Mer" in listed.text

    removed = site.client.post(
        f"/admin/organisations/ministere-de-la-mer/members/{official.id}/remove"
    )
    assert removed.status_code == 303
    assert members(site, "ministere-de-la-mer") == set()
    organisation_id = site.scalar(
        select(Organisation.id).where(Organisation.slug == "ministere-de-la-mer")
    )
    target = f"organisation:{organisation_id}"
    assert audit(site) == [
        ("organisation.create", target, {"slug": "ministere-de-la-mer"}),
        ("organisation.member_add", target, {"user_id": official.id}),
        ("organisation.member_remove", target, {"user_id": official.id}),
    ]
    actors = site.rows(select(AuditEvent.actor_id).where(AuditEvent.action.like("organisation.%")))
    assert actors == [(admin.id,)] * 3


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "slug": ""}, "name", "Enter the organisation"),
        ({"name": "Ministère", "slug": "Pas Bon"}, "slug", "Use lowercase letters"),
        ({"name": "x" * 201, "slug": "x"}, "name", "at most 200"),
        ({"name": "Ministère de la Culture", "slug": "autre"}, "name", "already has this name"),
        ({"name": "Autre ministère", "slug": MINISTRY_SLUG}, "slug", "already uses"),
    ],
)
def test_a_wrong_organisation_comes_back_with_its_error_and_saves_nothing(
    site: Site, data: dict[str, str], field: str, message: str
) -> None:
    read_in_english(site)
    make_consultation(site)
    site.login(site.user(Role.ADMIN))
    before = site.scalar(select(func.count()).select_from(Organisation))
    for headers in ({}, htmx_headers()):
        response = site.client.post("/admin/organisations", data=data, headers=headers)
        assert response.status_code == 422
        assert message in response.text
        assert f'id="error-{field}"' in response.text
    assert site.scalar(select(func.count()).select_from(Organisation)) == before
    assert audit(site) == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "No account uses this email"),
        ("nobody@example.org", "No account uses this email"),
        ("citizen", "Only officials and moderators"),
        ("member", "already a member"),
    ],
)
def test_adding_a_member_refuses_what_cannot_be_a_member(
    site: Site, email: str, message: str
) -> None:
    read_in_english(site)
    make_consultation(site)
    member = site.user(Role.OFFICIAL)
    citizen = site.user(Role.CITIZEN)
    site.login(site.user(Role.ADMIN))
    typed = {"citizen": citizen.email, "member": member.email}.get(email, email)
    before = members(site, MINISTRY_SLUG)
    response = site.client.post(
        f"/admin/organisations/{MINISTRY_SLUG}/members", data={"email": typed}
    )
    assert response.status_code == 422
    assert message in response.text
    assert members(site, MINISTRY_SLUG) == before
    assert audit(site) == []


def test_removing_someone_who_is_not_a_member_is_not_found(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.ADMIN))
    stranger = site.official_of_another_ministry()
    before = members(site, MINISTRY_SLUG)
    path = f"/admin/organisations/{MINISTRY_SLUG}/members/{stranger.id}/remove"
    assert site.client.post(path).status_code == 404
    assert site.client.get("/admin/organisations/nope").status_code == 404
    assert members(site, MINISTRY_SLUG) == before


@pytest.mark.parametrize("role", [None, Role.CITIZEN, Role.MODERATOR, Role.OFFICIAL])
def test_only_administrators_manage_organisations(site: Site, role: Role | None) -> None:
    make_consultation(site)
    official = site.user(Role.OFFICIAL, organisations=[])
    if role is not None:
        site.login(site.user(role))
    before = members(site, MINISTRY_SLUG)
    for method, path, data in (
        ("GET", "/admin/organisations", None),
        ("GET", f"/admin/organisations/{MINISTRY_SLUG}", None),
        ("POST", "/admin/organisations", {"name": "Ministère pirate", "slug": "pirate"}),
        ("POST", f"/admin/organisations/{MINISTRY_SLUG}/members", {"email": official.email}),
    ):
        response = site.client.request(method, path, data=data)
        assert response.status_code == (303 if role is None else 403), (role, path)
    assert members(site, MINISTRY_SLUG) == before
    assert site.scalar(select(func.count()).where(Organisation.slug == "pirate")) == 0


def test_organisation_forms_refuse_other_sites(site: Site) -> None:
    make_consultation(site)
    official = site.user(Role.OFFICIAL, organisations=[])
    site.login(site.user(Role.ADMIN))
    cross = {"Sec-Fetch-Site": "cross-site"}
    for path, data in (
        ("/admin/organisations", {"name": "Ministère pirate"}),
        (f"/admin/organisations/{MINISTRY_SLUG}/members", {"email": official.email}),
    ):
        assert site.client.post(path, data=data, headers=cross).status_code == 403
    assert f"user:{official.id}" not in members(site, MINISTRY_SLUG)
    assert site.scalar(select(func.count()).where(Organisation.slug == "ministere-pirate")) == 0
    assert audit(site) == []


# --- creating a consultation for an organisation ---------------------------------------------

SCHEDULE = {"title": "Une consultation", "summary": "", "open": "2030-01-01T09:00"}


def consultations_of(site: Site, slug: str) -> list[str]:
    rows = site.rows(
        select(Consultation.slug)
        .join(Organisation, Organisation.id == Consultation.organisation_id)
        .where(Organisation.slug == slug)
        .order_by(Consultation.slug)
    )
    return [consultation for (consultation,) in rows]


def test_an_official_of_one_organisation_creates_for_it_without_choosing(site: Site) -> None:
    read_in_english(site)
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    form = site.client.get("/consultations/new").text
    assert "Held by Ministère de la Culture" in form and 'name="organisation"' not in form
    response = site.client.post("/consultations", data={**SCHEDULE, "slug": "nouvelle"})
    assert response.status_code == 303
    assert consultations_of(site, MINISTRY_SLUG) == ["bibliotheques", "nouvelle"]
    ministry = site.scalar(select(Consultation.ministry).where(Consultation.slug == "nouvelle"))
    assert ministry == "Ministère de la Culture"  # the organisation's name when left empty


def test_an_official_of_two_organisations_chooses_and_only_among_them(site: Site) -> None:
    read_in_english(site)
    make_consultation(site)
    site.official_of_another_ministry()  # creates the second organisation
    both = site.user(Role.OFFICIAL)  # a member of both
    site.login(both)
    form = site.client.get("/consultations/new").text
    assert f'value="{MINISTRY_SLUG}"' in form and f'value="{OTHER_MINISTRY_SLUG}"' in form
    unchosen = site.client.post("/consultations", data={**SCHEDULE, "slug": "a"})
    assert unchosen.status_code == 422 and "Choose the organisation" in unchosen.text
    chosen = site.client.post(
        "/consultations", data={**SCHEDULE, "slug": "a", "organisation": OTHER_MINISTRY_SLUG}
    )
    assert chosen.status_code == 303
    assert consultations_of(site, OTHER_MINISTRY_SLUG) == ["a"]


def test_an_official_cannot_create_for_an_organisation_they_do_not_belong_to(
    site: Site,
) -> None:
    read_in_english(site)
    make_consultation(site)
    site.login(site.official_of_another_ministry())
    refused = site.client.post(
        "/consultations", data={**SCHEDULE, "slug": "intrus", "organisation": MINISTRY_SLUG}
    )
    assert refused.status_code == 422
    assert consultations_of(site, MINISTRY_SLUG) == ["bibliotheques"]
    site.client.cookies.clear()
    site.login(site.user(Role.OFFICIAL, organisations=[]))
    alone = site.client.post("/consultations", data={**SCHEDULE, "slug": "seul"})
    assert alone.status_code == 422 and "not a member of any organisation" in alone.text
    assert site.scalar(select(func.count()).select_from(Consultation)) == 1


def test_an_administrator_creates_for_any_organisation(site: Site) -> None:
    make_consultation(site)
    site.official_of_another_ministry()
    site.login(site.user(Role.ADMIN))
    response = site.client.post(
        "/consultations", data={**SCHEDULE, "slug": "par-admin", "organisation": "interieur"}
    )
    assert response.status_code == 303
    assert consultations_of(site, OTHER_MINISTRY_SLUG) == ["par-admin"]
