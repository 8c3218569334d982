"""Embedding contributions: find what is missing, embed it in batches, store it."""

from __future__ import annotations

import asyncio
import hashlib
import mmap
import tempfile
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.contributions.models import Contribution
from consult.db import insert_missing, utcnow
from consult.nlp.embed import Embedder, Vectors, content_hash, prepare_text
from consult.synthesis.models import Embedding

BATCH_SIZE = 256
# Contributions read, embedded and committed together by the sweep.
SWEEP_BATCH = 5000


def text_of(contribution: Contribution) -> str:
    """What stands for a contribution in the synthesis: its text, and an amendment's wording."""
    return text_of_parts(contribution.body, contribution.new_text)


def text_of_parts(body: str, new_text: str | None) -> str:
    """:func:`text_of` from a contribution's columns, for callers that read only those."""
    return prepare_text("\n\n".join(part for part in (body, new_text) if part))


@dataclass(frozen=True)
class EmbeddingReport:
    """What an embedding pass did."""

    considered: int
    embedded: int


async def _known_hashes(session: AsyncSession, model_id: str, hashes: Sequence[str]) -> set[str]:
    known: set[str] = set()
    unique = sorted(set(hashes))
    for start in range(0, len(unique), 900):  # stay under SQLite's bound-parameter limit
        chunk = unique[start : start + 900]
        rows = await session.scalars(
            select(Embedding.content_hash).where(
                Embedding.model_id == model_id, Embedding.content_hash.in_(chunk)
            )
        )
        known.update(rows.all())
    return known


async def embed_texts(
    session: AsyncSession,
    embedder: Embedder,
    texts: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Store embeddings of the texts not embedded yet under this model; returns how many.

    Each distinct text is embedded once however often it comes (a campaign's letter), and the
    embedding runs ahead of the storing: while one batch is written, the next is embedded (the
    next two when the embedder works in processes of its own, so that they never wait for the
    database nor for each other).
    """
    by_hash = {content_hash(text): text for text in texts}
    known = await _known_hashes(session, embedder.model_id, list(by_hash))
    missing = [(h, t) for h, t in sorted(by_hash.items()) if h not in known]
    batches = [missing[start : start + BATCH_SIZE] for start in range(0, len(missing), BATCH_SIZE)]
    depth = 2 if getattr(embedder, "processes", 0) else 1
    ahead: deque[asyncio.Future[Vectors]] = deque()
    queued = 0
    try:
        for batch in batches:
            while queued < len(batches) and len(ahead) < depth:
                texts_of_batch = [text for _, text in batches[queued]]
                # Embedding is CPU-bound: off the event loop, so pages keep being served.
                ahead.append(
                    asyncio.ensure_future(anyio.to_thread.run_sync(embedder.embed, texts_of_batch))
                )
                queued += 1
            vectors = np.asarray(await ahead.popleft(), dtype="<f4")
            await _store(session, embedder.model_id, batch, vectors)
            if progress is not None:
                progress(len(batch))
    finally:
        for future in ahead:
            future.cancel()
    return len(missing)


async def _store(
    session: AsyncSession, model_id: str, batch: Sequence[tuple[str, str]], vectors: Vectors
) -> None:
    # Stored only where missing: the sweep, the job of a new contribution and a synthesis
    # run may embed the same text at the same time, in as many processes.
    await insert_missing(
        session,
        Embedding,
        [
            {
                "model_id": model_id,
                "content_hash": digest,
                "dimension": int(vectors.shape[1]),
                "vector": vectors[row].tobytes(),
                "created_at": utcnow(),
            }
            for row, (digest, _) in enumerate(batch)
        ],
    )


async def embed_contributions(
    session: AsyncSession,
    embedder: Embedder,
    *,
    consultation_id: int | None = None,
    contribution_ids: Sequence[int] | None = None,
) -> EmbeddingReport:
    """Embed the contributions (of a consultation, or given ids) that have no vector yet."""
    query = select(Contribution)
    if consultation_id is not None:
        query = query.where(Contribution.consultation_id == consultation_id)
    if contribution_ids is not None:
        query = query.where(Contribution.id.in_(list(contribution_ids)))
    contributions = (await session.scalars(query)).all()
    texts = [text for text in (text_of(c) for c in contributions) if text]
    embedded = await embed_texts(session, embedder, texts)
    return EmbeddingReport(considered=len(contributions), embedded=embedded)


async def embed_contribution_batch(
    session: AsyncSession, embedder: Embedder, after: int, size: int = SWEEP_BATCH
) -> tuple[EmbeddingReport, int]:
    """Embed the next ``size`` contributions by id after ``after`` that lack a vector;
    returns the report and the last id seen (the ``after`` of the next batch)."""
    contributions = (
        await session.scalars(
            select(Contribution)
            .where(Contribution.id > after)
            .order_by(Contribution.id)
            .limit(size)
        )
    ).all()
    texts = [text for text in (text_of(c) for c in contributions) if text]
    embedded = await embed_texts(session, embedder, texts)
    last = contributions[-1].id if contributions else after
    return EmbeddingReport(considered=len(contributions), embedded=embedded), last


async def stored_dimension(session: AsyncSession, model_id: str) -> int:
    """The length of the model's stored vectors (0 when it has none yet)."""
    found = await session.scalar(
        select(Embedding.dimension).where(Embedding.model_id == model_id).limit(1)
    )
    return int(found or 0)


async def vectors_of_texts(
    session: AsyncSession, model_id: str, texts: Sequence[str]
) -> np.ndarray:
    """The stored vectors of texts already passed through :func:`text_of`, in order.

    Callers that hold those texts already (a synthesis run of 100,000 contributions) skip
    preparing every text once more: a prepared text is its own prepared form, so its content
    hash is the digest of the text itself.
    """
    # Each stored vector goes straight into its rows of the matrix: holding every vector read
    # first, then copying, would hold the run's vectors twice (2 GB more at a million texts).
    rows_of: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(texts):
        if text:
            rows_of[hashlib.sha256(text.encode("utf-8")).hexdigest()].append(index)
    wanted = sorted(rows_of)
    matrix: np.ndarray | None = None
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        for digest, dimension, vector in await session.execute(
            select(Embedding.content_hash, Embedding.dimension, Embedding.vector).where(
                Embedding.model_id == model_id, Embedding.content_hash.in_(chunk)
            )
        ):
            if matrix is None:
                matrix = np.zeros((len(texts), dimension), dtype=np.float32)
            matrix[rows_of[digest]] = np.frombuffer(vector, dtype="<f4", count=dimension)
    if matrix is None:
        matrix = np.zeros((len(texts), 0), dtype=np.float32)
    return matrix


# Texts whose vectors are read from the store, then written to a run's vector file, at a time.
_SPILL_CHUNK = 50_000
# Bytes of a run's vector file mapped at a time when rows are read from it.
_WINDOW_BYTES = 64 * 1024 * 1024


class VectorFile:
    """A run's vectors, row ``i`` for its item ``i``, in a temporary file read a few rows at a
    time: an article's when it is grouped, a chunk for the consultation's map.

    Held in memory, they were 2 GB for the whole run at a million contributions, which kept
    it above 8 GiB (decision 0041); read from the file, they are pages of the system's cache,
    which it gives back under pressure. The file is deleted on :meth:`close` (and by the
    system if the process dies).
    """

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.count = 0
        # Open for the object's life (closed by close()), not for a block.
        self._file = tempfile.TemporaryFile(prefix="consult-vectors-")  # noqa: SIM115

    def append(self, block: NDArray[Any]) -> None:
        """Add rows at the end (in item order)."""
        self._file.write(np.ascontiguousarray(block, dtype="<f4").tobytes())
        self._file.flush()  # readers map the file itself, not its buffer
        self.count += len(block)

    def rows(self, rows: NDArray[np.intp]) -> NDArray[np.float32]:
        """The vectors of ``rows``, in that order (a copy: nothing stays mapped)."""
        wanted = np.asarray(rows, dtype=np.intp)
        if len(wanted) == 0 or self.dimension == 0:
            return np.zeros((len(wanted), self.dimension), dtype=np.float32)
        found = np.empty((len(wanted), self.dimension), dtype=np.float32)  # every row is set
        # The file is mapped a window at a time, in row order: the pages of a mapping count
        # in the process's resident memory while it is mapped, and an article's rows are
        # spread over the whole file (mapping it whole counted 1.9 GB more at a million).
        row_bytes = self.dimension * 4
        per_window = max(1, _WINDOW_BYTES // row_bytes)
        order = np.argsort(wanted, kind="stable")
        ordered = wanted[order]
        start = 0
        while start < len(ordered):
            first = int(ordered[start])
            end = int(np.searchsorted(ordered, first + per_window, side="left"))
            last = int(ordered[end - 1])
            offset = first * row_bytes // mmap.ALLOCATIONGRANULARITY * mmap.ALLOCATIONGRANULARITY
            length = (last + 1) * row_bytes - offset
            with mmap.mmap(
                self._file.fileno(), length, access=mmap.ACCESS_READ, offset=offset
            ) as window:
                stored = np.frombuffer(
                    window,
                    dtype="<f4",
                    count=(last + 1 - first) * self.dimension,
                    offset=first * row_bytes - offset,
                ).reshape(-1, self.dimension)
                found[order[start:end]] = stored[ordered[start:end] - first]
                del stored  # a map cannot be closed while an array still reads it
            start = end
        return found

    def close(self) -> None:
        self._file.close()


async def spill_vectors(session: AsyncSession, model_id: str, texts: Sequence[str]) -> VectorFile:
    """The stored vectors of ``texts`` (prepared, as for :func:`vectors_of_texts`) written to
    a :class:`VectorFile`, a chunk at a time: never more than a chunk of them in memory."""
    spilled = VectorFile(await stored_dimension(session, model_id))
    try:
        for start in range(0, len(texts), _SPILL_CHUNK):
            chunk = texts[start : start + _SPILL_CHUNK]
            block = await vectors_of_texts(session, model_id, chunk)
            if block.shape[1] != spilled.dimension:  # none of these texts has a vector
                block = np.zeros((len(chunk), spilled.dimension), dtype=np.float32)
            spilled.append(block)
    except BaseException:
        spilled.close()
        raise
    return spilled
