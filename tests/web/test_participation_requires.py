"""A consultation may ask more of accounts before they post or vote: a confirmed email address
or an identity verified by the identity provider."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, User, VerificationLevel
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, Vote
from tests.support.seeding import LIBRARY_SLUG
from tests.support.site import Site

ARTICLE = f"/consultations/{LIBRARY_SLUG}/articles/art-1"


def _require(site: Site, level: int) -> None:
    async def change(session: AsyncSession) -> None:
        await session.execute(update(Consultation).values(participation_requires=level))

    site.db(change)


def _verify(site: Site, user: User, level: int) -> None:
    async def change(session: AsyncSession) -> None:
        await session.execute(
            update(User).where(User.id == user.id).values(verification_level=level)
        )

    site.db(change)


def _posts(site: Site) -> int:
    return int(site.scalar(select(func.count()).select_from(Contribution)))


def test_a_consultation_asking_for_a_confirmed_address_refuses_the_others(library: Site) -> None:
    _require(library, VerificationLevel.EMAIL)
    citizen = library.user()
    library.login(citizen)
    page = library.client.get(ARTICLE).text
    assert "confirmer leur adresse électronique" in page
    assert 'action="/account"' not in page and 'href="/account"' in page
    before = _posts(library)
    refused = library.client.post(
        f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Je suis pour."}
    )
    assert refused.status_code == 422 and "confirmer leur adresse" in refused.text
    vote = library.client.post(f"{ARTICLE}/votes", data={"value": "pour"})
    assert vote.status_code == 422
    assert _posts(library) == before
    assert library.scalar(select(func.count()).select_from(Vote)) == 0

    _verify(library, citizen, VerificationLevel.EMAIL)
    accepted = library.client.post(
        f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Je suis pour."}
    )
    assert accepted.status_code == 303 and _posts(library) == before + 1


def test_a_consultation_asking_for_a_verified_identity_refuses_a_confirmed_address(
    library: Site,
) -> None:
    _require(library, VerificationLevel.IDENTITY)
    citizen = library.user()
    _verify(library, citizen, VerificationLevel.EMAIL)
    library.login(citizen)
    assert "vérifier leur identité" in library.client.get(ARTICLE).text
    refused = library.client.post(f"{ARTICLE}/votes", data={"value": "contre"})
    assert refused.status_code == 422 and "vérifier leur identité" in refused.text
    _verify(library, citizen, VerificationLevel.IDENTITY)
    assert library.client.post(f"{ARTICLE}/votes", data={"value": "contre"}).status_code == 303


def test_an_official_chooses_who_may_take_part_when_creating_a_consultation(
    library: Site,
) -> None:
    library.login(library.user(Role.OFFICIAL))
    form = library.client.get("/consultations/new").text
    assert form.count('name="participation_requires"') == 3
    schedule = {"title": "Vérifiée", "summary": "", "open": "2030-01-01T09:00"}
    created = library.client.post(
        "/consultations", data={**schedule, "slug": "verifiee", "participation_requires": "2"}
    )
    assert created.status_code == 303
    stored = library.scalar(
        select(Consultation.participation_requires).where(Consultation.slug == "verifiee")
    )
    assert stored == VerificationLevel.IDENTITY
    wrong = library.client.post(
        "/consultations", data={**schedule, "slug": "autre", "participation_requires": "7"}
    )
    assert wrong.status_code == 422
    assert library.scalar(select(Consultation.id).where(Consultation.slug == "autre")) is None


def test_an_official_changes_who_may_take_part_from_the_edit_page(library: Site) -> None:
    library.login(library.user(Role.OFFICIAL))
    edit = f"/consultations/{LIBRARY_SLUG}/edit"
    form = library.client.get(edit).text
    assert 'name="participation_requires" value="0" checked' in form
    saved = library.client.post(
        edit,
        data={
            "title": "Bibliothèques",
            "summary": "",
            "ministry": "",
            "open": "2020-01-01T09:00",
            "participation_requires": "1",
        },
    )
    assert saved.status_code == 303, saved.text
    stored = library.scalar(
        select(Consultation.participation_requires).where(Consultation.slug == LIBRARY_SLUG)
    )
    assert stored == VerificationLevel.EMAIL
    assert 'name="participation_requires" value="1" checked' in library.client.get(edit).text
