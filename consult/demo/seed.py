"""Seed the demo consultation (idempotent: running it twice adds nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, User
from consult.accounts.services import create_user, find_user_by_email
from consult.bills.parser import parse_bill
from consult.bills.services import publish_version
from consult.consultations.models import Consultation, Phase
from consult.consultations.services import create_consultation
from consult.db import utcnow
from consult.organisations.models import Organisation, OrganisationMember
from consult.organisations.services import MEMBER_ROLES, is_member

DEMO_DIR = Path(__file__).parent
DEMO_SLUG = "participation-citoyenne"
# Demo accounts are for trying the product locally; never run `consult demo` in production.
DEMO_PASSWORD = "demo-consult-2026"  # noqa: S105  (public on purpose: demo only)


@dataclass(frozen=True)
class DemoAccount:
    """A demo account shown on the README and printed by `consult demo`."""

    email: str
    display_name: str
    role: Role


DEMO_ACCOUNTS = (
    DemoAccount("citoyenne@demo.consult.test", "Camille (citoyenne)", Role.CITIZEN),
    DemoAccount("citoyen@demo.consult.test", "Malik (citoyen)", Role.CITIZEN),
    DemoAccount("moderation@demo.consult.test", "Équipe de modération", Role.MODERATOR),
    DemoAccount("ministere@demo.consult.test", "Ministère (rédaction)", Role.OFFICIAL),
    DemoAccount("admin@demo.consult.test", "Administration", Role.ADMIN),
)

DEMO_TITLE = (
    "Projet de loi relatif à la participation citoyenne à l’élaboration des lois et des règlements"
)
DEMO_MINISTRY = "Ministère de la Participation citoyenne (fictif)"
DEMO_ORGANISATION_SLUG = "participation-citoyenne"
DEMO_SUMMARY = (
    "Ce projet de loi rend obligatoire la consultation en ligne, article par article, des "
    "principaux projets de textes réglementaires, et impose à l’administration de publier une "
    "synthèse des contributions ainsi qu’une réponse motivée aux propositions les plus "
    "soutenues.\n\n"
    "Il renforce aussi la transparence de la décision publique par un registre national de la "
    "participation, un registre public des algorithmes et une « empreinte normative » des "
    "représentants d’intérêts, sous le contrôle d’un Haut Conseil de la participation "
    "citoyenne.\n\n"
    "Ce texte est fictif : il sert à découvrir consult."
)


def demo_schedule(now: datetime) -> dict[Phase, datetime]:
    """Open since a week, closing in three weeks, so the demo is always open."""
    day = now.replace(hour=9, minute=0, second=0, microsecond=0)
    return {
        Phase.OPEN: day - timedelta(days=7),
        Phase.CLOSED: day + timedelta(days=21),
        Phase.ANSWERED: day + timedelta(days=60),
        Phase.PUBLISHED: day + timedelta(days=90),
    }


def demo_bill_text() -> str:
    """The fictional bill, in Markdown."""
    return (DEMO_DIR / "bill_fr.md").read_text(encoding="utf-8")


async def seed_demo(session: AsyncSession, now: datetime | None = None) -> Consultation:
    """Create the demo accounts and consultation unless they already exist."""
    now = now or utcnow()
    users: dict[Role, User] = {}
    for account in DEMO_ACCOUNTS:
        user = await find_user_by_email(session, account.email)
        if user is None:
            user = await create_user(
                session, account.email, account.display_name, DEMO_PASSWORD, role=account.role
            )
        users.setdefault(account.role, user)
    organisation = await _demo_organisation(session, list(users.values()))
    existing = await session.scalar(select(Consultation).where(Consultation.slug == DEMO_SLUG))
    if existing is not None:
        return existing
    consultation = await create_consultation(
        session,
        slug=DEMO_SLUG,
        title=DEMO_TITLE,
        summary=DEMO_SUMMARY,
        ministry=DEMO_MINISTRY,
        owner=users[Role.OFFICIAL],
        organisation=organisation,
        phase_starts=demo_schedule(now),
        languages=["fr", "en"],
    )
    source = demo_bill_text()
    version = await publish_version(
        session,
        consultation,
        parse_bill(source, format="markdown"),
        source_text=source,
        source_format="markdown",
        published_by=users[Role.OFFICIAL],
    )
    from consult.demo.contributions import seed_demo_contributions

    await seed_demo_contributions(
        session, consultation, version, demo_schedule(now)[Phase.OPEN], now
    )
    return consultation


async def _demo_organisation(session: AsyncSession, accounts: list[User]) -> Organisation:
    """The demo ministry, with the demo official and moderator as its members."""
    organisation = await session.scalar(
        select(Organisation).where(Organisation.slug == DEMO_ORGANISATION_SLUG)
    )
    if organisation is None:
        organisation = Organisation(name=DEMO_MINISTRY, slug=DEMO_ORGANISATION_SLUG)
        session.add(organisation)
        await session.flush()
    for account in accounts:
        if account.role in MEMBER_ROLES and not await is_member(
            session, organisation.id, account.id
        ):
            session.add(OrganisationMember(organisation_id=organisation.id, user_id=account.id))
    await session.flush()
    return organisation
