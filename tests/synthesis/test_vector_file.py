"""A run's vectors wait in a file and are read a few rows at a time (decision 0041)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.nlp.embed import embedder_from_setting, prepare_text
from consult.synthesis import embeddings
from consult.synthesis.embeddings import embed_texts, spill_vectors, vectors_of_texts


def _mapped_vector_files() -> list[str]:
    return [
        line
        for line in Path("/proc/self/maps").read_text().splitlines()
        if "consult-vectors-" in line
    ]


@pytest.mark.parametrize("window_rows", [1, 3, 1000])
def test_rows_read_window_by_window_are_the_rows_written(
    window_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows smaller than a page, a few rows, and the whole file at once.
    dimension = 24
    monkeypatch.setattr(embeddings, "_WINDOW_BYTES", window_rows * dimension * 4)
    matrix = np.random.default_rng(3).standard_normal((1000, dimension)).astype(np.float32)
    spilled = embeddings.VectorFile(dimension)
    try:
        for start in range(0, len(matrix), 128):
            spilled.append(matrix[start : start + 128])
        rng = np.random.default_rng(4)
        for rows in [
            rng.choice(1000, 300, replace=False),  # an article's rows, spread over the file
            rng.integers(0, 1000, 500),  # with repeats
            np.arange(1000)[::-1],
            np.array([999, 0]),
        ]:
            assert np.array_equal(spilled.rows(rows), matrix[rows])
        assert _mapped_vector_files() == []
    finally:
        spilled.close()


@pytest.mark.anyio
@pytest.mark.each_database
async def test_the_file_gives_each_row_its_stored_vector_in_any_order(
    fresh_demo_sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written three texts at a time, so that rows cross the chunks they were written in.
    monkeypatch.setattr(embeddings, "_SPILL_CHUNK", 3)
    embedder = embedder_from_setting("hashing")
    said = [
        f"Proposition {n} : des pistes cyclables protégées dans la commune {n}." for n in range(7)
    ]
    texts = [prepare_text(text) for text in said]
    async with fresh_demo_sessions() as session:
        await embed_texts(session, embedder, texts[:6])  # the last text has no vector yet
        await session.commit()
        # A copy of a text, an empty text and the text without a vector, among the others.
        run_texts = [texts[0], texts[1], "", texts[2], texts[0], texts[6], *texts[3:6]]
        expected = await vectors_of_texts(session, embedder.model_id, run_texts)
        spilled = await spill_vectors(session, embedder.model_id, run_texts)
    try:
        assert spilled.count == len(run_texts)
        assert spilled.dimension == embedder.dimension
        everyone = np.arange(len(run_texts))
        assert np.array_equal(spilled.rows(everyone), expected)
        shuffled = np.array([8, 0, 4, 2, 5, 7])
        assert np.array_equal(spilled.rows(shuffled), expected[shuffled])
        assert np.array_equal(spilled.rows(np.array([0])), spilled.rows(np.array([4])))
        assert not spilled.rows(np.array([2, 5])).any()  # no text, no vector: zeros
        assert spilled.rows(np.array([], dtype=np.intp)).shape == (0, embedder.dimension)
        # What was read is a copy: the file is mapped only while rows are read.
        assert _mapped_vector_files() == []
    finally:
        spilled.close()


@pytest.mark.anyio
@pytest.mark.each_database
async def test_a_model_with_no_vector_yet_gives_empty_rows(
    fresh_demo_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with fresh_demo_sessions() as session:
        spilled = await spill_vectors(session, "another:model", ["un texte", "un autre"])
    try:
        assert spilled.rows(np.array([1, 0])).shape == (2, 0)
    finally:
        spilled.close()
