"""Similar contributions while typing: four typists at once see what one typist alone sees.

The finder embeds drafts and searches in its own threads, with the process's BLAS on one
thread (decision 0034). These tests check on the demo consultation, embedded with the packaged
USE model, that neither changes a single suggestion: same contributions, same order, same
cosines as the plain search of one draft at a time, and that a text stored many times
(campaign copies) is suggested once.
"""

from __future__ import annotations

import asyncio
import hashlib
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


def test_drafts_scored_together_get_the_scores_each_gets_alone() -> None:
    """Several drafts waiting at once share one pass over the matrix: each still gets exactly
    the matches, in the order and with the cosines, of its search alone."""
    from consult.synthesis.similar import ConsultationIndex, _Row

    rng = np.random.default_rng(3)
    size, dimension = 5_301, 64  # more than two blocks of the scan, and not a multiple of one
    vectors = rng.standard_normal((size, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # Campaign copies: rows 10-14 hold one text, so a single one of them is ever shown.
    vectors[11:15] = vectors[10]
    rows = [
        _Row(
            n + 1,
            f"art-{n % 7}",
            hashlib.sha256(f"{10 if 10 <= n < 15 else n}".encode()).hexdigest(),
        )
        for n in range(size)
    ]
    index = ConsultationIndex(1, "test", max_bytes=64 * 1024 * 1024)
    index.add(rows, vectors)
    drafts = []
    for n in (10, 200, 4_500, 5_300):
        draft = vectors[n] + 0.05 * rng.standard_normal(dimension).astype(np.float32)
        drafts.append(((draft / np.linalg.norm(draft)).astype(np.float32), f"art-{n % 7}"))
    together = index.search_many(drafts, 0.3, SHOWN)
    for (draft, article), found in zip(drafts, together, strict=True):
        alone = index.search(draft, article, 0.3, SHOWN)
        assert found == alone and found
        # And the plain rule, in float64 over the whole matrix: cosine above the bound, same
        # article first, one row per text, among the 4 x SHOWN best rows.
        cosines = vectors.astype(np.float64) @ draft.astype(np.float64)
        same = np.array([row.article_key == article for row in rows])
        ranked = np.where(cosines >= 0.3, cosines + 2.0 * same, -np.inf)
        best = np.argsort(-ranked, kind="stable")[: 4 * SHOWN]
        expected, seen = [], set()
        for row in best:
            if np.isfinite(ranked[row]) and rows[row].digest_hex not in seen:
                seen.add(rows[row].digest_hex)
                expected.append(rows[row].contribution_id)
        assert [m.contribution_id for m in found] == expected
        np.testing.assert_allclose(
            [m.similarity for m in found], cosines[np.asarray(expected) - 1], atol=1e-6
        )
    # The draft close to the copied text finds it first, once (ids 11-15 hold it).
    assert together[0][0].contribution_id in range(11, 16)
    assert sum(m.contribution_id in range(11, 16) for m in together[0]) == 1


def test_a_typist_who_leaves_mid_search_does_not_hold_up_the_others() -> None:
    from consult.synthesis.similar import ConsultationIndex, _Row, _Searcher

    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((3_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = ConsultationIndex(1, "test", max_bytes=16 * 1024 * 1024)
    index.add(
        [_Row(n + 1, "art-1", hashlib.sha256(str(n).encode()).hexdigest()) for n in range(3_000)],
        vectors,
    )
    searcher = _Searcher()
    try:
        for _ in range(20):
            # The page is closed while its search waits (the request's future is cancelled).
            searcher.submit(index, vectors[0], "art-1", 0.3, SHOWN).cancel()
            kept = searcher.submit(index, vectors[7], "art-1", 0.3, SHOWN)
            found = kept.result(timeout=10)
            assert found == index.search(vectors[7], "art-1", 0.3, SHOWN)
            assert found[0].contribution_id == 8
    finally:
        searcher.close()
