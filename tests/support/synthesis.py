"""Synthesis runs of the demo consultation, started and read through the site or the
database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.contributions.models import Contribution, ContributionKind, Stance
from consult.demo.seed import DEMO_PASSWORD, DEMO_SLUG
from consult.synthesis.models import SynthesisMembership
from tests.support.site import Site


def start_and_finish(site: Site, *, publish: bool = True, slug: str = DEMO_SLUG) -> int:
    """As an official: start a run of a consultation's synthesis (the demo's by default), let
    the in-process queue execute it, and publish it unless told not to; returns its id."""
    response = site.client.post(f"/consultations/{slug}/synthesis/runs")
    assert response.status_code == 303, response.text
    run_id = int(response.headers["location"].rsplit("/", 1)[-1])
    site.drain_jobs()
    if publish:
        published = site.client.post(f"/consultations/{slug}/synthesis/runs/{run_id}/publish")
        assert published.status_code == 303, published.text
    return run_id


def run_rows(site: Site, model: Any, run_id: int) -> list[Any]:
    """The rows of `model` (clusters, memberships, campaigns...) that belong to the run."""
    return [row for (row,) in site.rows(select(model).where(model.run_id == run_id))]


async def add_contributions(factory: async_sessionmaker[AsyncSession], count: int) -> set[int]:
    """Arguments posted on the demo's first discussed article, after the run started."""
    async with factory() as session:
        model = await session.scalar(
            select(Contribution)
            .where(Contribution.kind == ContributionKind.ARGUMENT)
            .order_by(Contribution.id)
            .limit(1)
        )
        assert model is not None
        added = [
            Contribution(
                consultation_id=model.consultation_id,
                version_id=model.version_id,
                article_key=model.article_key,
                kind=ContributionKind.ARGUMENT,
                author_id=model.author_id,
                stance=Stance.FOR,
                body=f"Posté pendant la synthèse, numéro {n} : ouvrir les bibliothèques.",
            )
            for n in range(count)
        ]
        session.add_all(added)
        await session.commit()
        return {row.id for row in added}


async def synthesised(factory: async_sessionmaker[AsyncSession], run_id: int) -> set[int]:
    """The contributions in the run's themes (every input contribution sits in one)."""
    async with factory() as session:
        members = await session.scalars(
            select(SynthesisMembership.contribution_id).where(
                SynthesisMembership.run_id == run_id, SynthesisMembership.scope == ""
            )
        )
        return set(members)


def prepare_synthesis(site: Site) -> None:
    """A published synthesis of the demo (its run and groups exist), by its own official."""
    site.client.post(
        "/account/login",
        data={"email": "ministere@demo.consult.test", "password": DEMO_PASSWORD},
    )
    assert site.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs").status_code == 303
    site.drain_jobs()
    published = site.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs/1/publish")
    assert published.status_code == 303
    site.client.post("/account/logout")
    site.client.cookies.clear()
