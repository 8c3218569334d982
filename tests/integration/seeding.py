"""Domain-level seeding shared by the integration tests (no HTTP involved)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.models import Role, User
from consult.accounts.services import create_user
from consult.bills.parser import parse_bill
from consult.bills.services import publish_version
from consult.consultations.models import Phase
from consult.consultations.services import create_consultation
from consult.contributions.article_context import ArticleContext, load_article_context
from consult.db import utcnow
from tests.conftest import PASSWORD


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


async def queued_demo_run(factory: async_sessionmaker[AsyncSession]) -> int:
    """Seed the demo consultation and queue a synthesis run of it; returns the run's id."""
    from consult.demo.seed import seed_demo
    from consult.synthesis.pipeline import SynthesisParams
    from consult.synthesis.runs import start_run

    async with factory() as session:
        consultation = await seed_demo(session)
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
