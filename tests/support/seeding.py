"""Data for tests, written through the domain services (no HTTP involved) or the site."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.models import Role, User
from consult.accounts.services import create_user
from consult.bills.parser import parse_bill
from consult.bills.services import publish_version
from consult.consultations.models import Consultation, Phase
from consult.consultations.services import create_consultation
from consult.contributions.article_context import ArticleContext, load_article_context
from consult.db import utcnow
from consult.demo.seed import DEMO_SLUG, seed_demo
from consult.organisations.models import Organisation, OrganisationMember
from tests.support.site import PASSWORD, Site

# An official's reason, in Markdown, as the answer tests publish it.
REASON = "Le texte prévoit déjà cette garantie à l'article 3, **alinéa 2**."

LIBRARY_SLUG = "bibliotheques"
# The organisation that holds the test consultations (the demo has its own).
MINISTRY = "Ministère de la Culture"
MINISTRY_SLUG = "culture"
SMALL_BILL = """Exposé des motifs

Ce texte améliore l’accès aux bibliothèques.

Chapitre Ier : Horaires

Article 1er : Ouverture le dimanche

Les bibliothèques municipales ouvrent le dimanche.

Un décret fixe les horaires minimaux.

Chapitre II : Gratuité

Article 2

L’inscription est gratuite pour :

1° Les mineurs ;

2° Les demandeurs d’emploi.

Article 2 bis

Le présent article entre en vigueur en 2028.
"""


# --- templates (see tests.support.databases) ----------------------------------------------


async def seed_fresh_demo(session: AsyncSession, now: datetime) -> None:
    """The demo as `consult demo` writes it: no contribution has its vector yet."""
    await seed_demo(session, now=now)


async def seed_running_demo(session: AsyncSession, now: datetime) -> None:
    """The demo as a site holds it once its start-up sweep has run: every contribution has
    its vector (so that no test's site embeds hundreds of texts in the background)."""
    from consult.nlp.embed import embedder_from_setting
    from consult.synthesis.embeddings import embed_contribution_batch

    await seed_demo(session, now=now)
    await session.flush()
    embedder, after = embedder_from_setting("hashing"), 0
    while True:
        report, after = await embed_contribution_batch(session, embedder, after)
        if not report.considered:
            break


async def ministry(session: AsyncSession, members: Sequence[User] = ()) -> Organisation:
    """The organisation of the test consultations (created the first time), with `members`."""
    organisation = await session.scalar(
        select(Organisation).where(Organisation.slug == MINISTRY_SLUG)
    )
    if organisation is None:
        organisation = Organisation(name=MINISTRY, slug=MINISTRY_SLUG)
        session.add(organisation)
        await session.flush()
    for member in members:
        session.add(OrganisationMember(organisation_id=organisation.id, user_id=member.id))
    await session.flush()
    return organisation


async def seed_library(session: AsyncSession, now: datetime) -> None:
    """The consultation on libraries, open since yesterday, its small bill published."""
    owner = await create_user(
        session,
        f"owner-{LIBRARY_SLUG}@example.org",
        "official tester",
        PASSWORD,
        Role.OFFICIAL,
    )
    consultation = await create_consultation(
        session,
        slug=LIBRARY_SLUG,
        title="Bibliothèques ouvertes",
        summary="Un texte court.",
        ministry=MINISTRY,
        owner=owner,
        organisation=await ministry(session, [owner]),
        phase_starts={Phase.OPEN: now - timedelta(days=1)},
    )
    await publish_version(
        session,
        consultation,
        parse_bill(SMALL_BILL, format="markdown"),
        source_text=SMALL_BILL,
        source_format="markdown",
        published_by=owner,
    )


# --- through the site ---------------------------------------------------------------------


def make_consultation(site: Site, slug: str = LIBRARY_SLUG, opened: bool = True) -> Consultation:
    """A consultation without a bill yet (open since yesterday, or opening in three days),
    held by the test ministry, whose member its owner is."""
    owner = site.user(Role.OFFICIAL, email=f"owner-{slug}@example.org", organisations=[])
    now = site.clock()
    schedule = {Phase.OPEN: now - timedelta(days=1) if opened else now + timedelta(days=3)}

    async def create(session: AsyncSession) -> Consultation:
        return await create_consultation(
            session,
            slug=slug,
            title="Bibliothèques ouvertes",
            summary="Un texte court.",
            ministry=MINISTRY,
            owner=owner,
            organisation=await ministry(session, [owner]),
            phase_starts=schedule,
        )

    return site.db(create)


def read_in_english(site: Site) -> Site:
    """The site read in English (the assertions quote the English texts)."""
    site.client.headers["Accept-Language"] = "en"
    return site


# --- through the domain services ----------------------------------------------------------


async def open_article(session: AsyncSession, slug: str) -> tuple[User, ArticleContext]:
    """An official's open consultation whose bill has one article; returns a citizen and it."""
    official = await create_user(
        session, f"official-{slug}@example.org", "Official", PASSWORD, Role.OFFICIAL
    )
    citizen = await create_user(session, f"citizen-{slug}@example.org", "Citizen", PASSWORD)
    consultation = await create_consultation(
        session,
        slug=slug,
        title=slug.title(),
        summary="",
        ministry="",
        owner=official,
        organisation=await ministry(session, [official]),
        phase_starts={Phase.OPEN: utcnow() - timedelta(days=1)},
    )
    version = await publish_version(
        session,
        consultation,
        parse_bill("Article 1er\n\nTexte."),
        source_text="",
        source_format="markdown",
        published_by=official,
    )
    return citizen, await load_article_context(session, consultation, version, "art-1")


async def queue_demo_run(factory: async_sessionmaker[AsyncSession]) -> int:
    """Queue a synthesis run of the demo consultation (already in the database); returns the
    run's id."""
    from sqlalchemy import select

    from consult.synthesis.pipeline import SynthesisParams
    from consult.synthesis.runs import start_run

    async with factory() as session:
        consultation = await session.scalar(
            select(Consultation).where(Consultation.slug == DEMO_SLUG)
        )
        assert consultation is not None
        run, _ = await start_run(
            session,
            consultation.id,
            model_id="",
            params=SynthesisParams(),
            requested_by_id=None,
            now=utcnow(),
        )
        await session.commit()
        return run.id
