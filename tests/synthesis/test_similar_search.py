"""Similar contributions while typing: four typists at once see what one typist alone sees.

The finder embeds drafts and searches in its own threads, with the process's BLAS on one
thread (decision 0034). These tests check on the demo consultation, embedded with the packaged
USE model, that neither changes a single suggestion: same contributions, same order, same
cosines as the plain search of one draft at a time, and that a text stored many times
(campaign copies) is suggested once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.db import create_engine, create_session_factory
from consult.nlp.embed import UniversalSentenceEncoder
from consult.synthesis.embeddings import embed_contributions, text_of
from consult.synthesis.similar import (
    SHOWN,
    SimilarContributionFinder,
    minimum_similarity,
    query_text,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def use() -> UniversalSentenceEncoder:
    embedder = UniversalSentenceEncoder()
    embedder.load()
    return embedder


@pytest.fixture
async def factory(
    fresh_demo_url: str, use: UniversalSentenceEncoder
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The demo consultation with every contribution embedded by USE."""
    engine = create_engine(fresh_demo_url)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            await embed_contributions(session, use)
            await session.commit()
        yield sessions
    finally:
        await engine.dispose()


async def drafts(factory: async_sessionmaker[AsyncSession]) -> list[tuple[int, str, str]]:
    """(consultation, article, draft) for drafts reworded from the demo's own contributions,
    so that each has close matches among them."""
    async with factory() as session:
        rows = (
            await session.scalars(
                select(Contribution)
                .where(
                    Contribution.kind != ContributionKind.REPLY,
                    Contribution.visibility == Visibility.VISIBLE,
                )
                .order_by(Contribution.id)
            )
        ).all()
    chosen = [row for row in rows if len(text_of(row).split()) >= 12][:8]
    assert len(chosen) == 8
    return [
        (row.consultation_id, row.article_key, "À mon avis, " + " ".join(row.body.split()[2:]))
        for row in chosen
    ]


async def test_four_typists_at_once_see_what_one_typist_alone_sees(
    factory: async_sessionmaker[AsyncSession], use: UniversalSentenceEncoder
) -> None:
    finder = SimilarContributionFinder(factory, lambda: use, search_threads=2)
    typed = await drafts(factory)
    bound = minimum_similarity(use.model_id)
    # The plain search, one draft at a time, in the test's own thread: what the finder did
    # before its search threads, draft embedded with the process's BLAS as it was.
    alone = []
    for consultation_id, article, draft in typed:
        index = await finder._index(consultation_id, use.model_id)
        assert index is not None and index.size > 0
        query = use.embed([query_text(draft)])[0]
        alone.append(index.search(query, article, bound, SHOWN))
    assert sum(bool(found) for found in alone) >= 6  # the drafts do have close matches

    # Four typists at once, twice over, through the finder's threads.
    at_once = await asyncio.gather(
        *(finder.find(c, a, query_text(d)) for _ in range(2) for c, a, d in typed)
    )
    finder.close()
    for found, expected in zip(at_once, alone * 2, strict=True):
        assert found is not None
        assert [m.contribution_id for m in found] == [m.contribution_id for m in expected]
        assert [m.same_article for m in found] == [m.same_article for m in expected]
        np.testing.assert_allclose(
            [m.similarity for m in found], [m.similarity for m in expected], atol=1e-5
        )
        # Best first: same article before the others, then by cosine, none below the bound.
        keys = [(m.same_article, m.similarity) for m in found]
        assert keys == sorted(keys, reverse=True)
        assert all(m.similarity >= bound for m in found)


async def test_a_text_posted_many_times_is_suggested_once(
    factory: async_sessionmaker[AsyncSession], use: UniversalSentenceEncoder
) -> None:
    typed = await drafts(factory)
    consultation_id, article, draft = typed[0]
    async with factory() as session:
        model = await session.scalar(select(Contribution).where(Contribution.body.is_not(None)))
        assert model is not None
        letter = "Je demande que les bibliothèques restent ouvertes le dimanche toute l'année."
        session.add_all(
            Contribution(
                consultation_id=consultation_id,
                version_id=model.version_id,
                article_key=article,
                kind=ContributionKind.ARGUMENT,
                author_pseudonym=f"Signataire {n}",
                body=letter,
            )
            for n in range(5)
        )
        await session.commit()
        await embed_contributions(session, use, consultation_id=consultation_id)
        await session.commit()
    finder = SimilarContributionFinder(factory, lambda: use, search_threads=2)
    draft = "Les bibliothèques doivent rester ouvertes le dimanche toute l'année, je le demande."
    found = await finder.find(consultation_id, article, query_text(draft))
    while found is None:  # the index loads in the background
        found = await finder.find(consultation_id, article, query_text(draft))
    finder.close()
    async with factory() as session:
        bodies = {
            c.id: c.body
            for c in await session.scalars(
                select(Contribution).where(Contribution.id.in_([m.contribution_id for m in found]))
            )
        }
    assert [bodies[m.contribution_id] for m in found].count(letter) == 1
    assert found[0].same_article and bodies[found[0].contribution_id] == letter
