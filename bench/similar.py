"""Similar contributions while writing: latency with 100,000 contributions in one consultation.

    .venv/bin/python -m bench.similar [--contributions 100000] [--requests 300]
                                      [--concurrency 1 4] [--model use hashing]

Seeds the demo consultation, then adds N synthetic contributions on its articles straight into
the tables, with stored vectors: random unit vectors for all but a few (far below the display
bound, so they cost the search but are never shown), and the real vectors of the 20 French
sentences of bench/embed.py and of their same-topic distractors, so that each query (the
paraphrase of one sentence) finds real matches to fetch and render. The query text is embedded
by the model named (USE multilingual by default, as in production; `hashing` is the test
embedder). The app runs under uvicorn on loopback; a logged-in citizen posts to the
similar-contributions route as htmx does, cycling through the 20 paraphrases. Prints the time
until the index of N contributions is ready (first request, model loading included), then
requests/s, P50 and P95 per concurrency beside the target (P95 <= 300 ms with four typists at
once), and where a request's time goes, P50 / P95 of each part, measured inside the server
process: the database (bringing the index up to date, then reading the contributions found),
waiting for a search thread, embedding the draft, and the cosine search; the rest of a request
(HTTP, session, rendering) is the difference. PostgreSQL is measured when
CONSULT_BENCH_DATABASE_URL names an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import functools
import os
import random
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
import numpy as np
from sqlalchemy import insert
from threadpoolctl import threadpool_limits

from bench.embed import PARAPHRASES
from bench.pages import load, serve
from bench.participation import PASSWORD, login_cookie
from consult.accounts.services import create_user
from consult.bills.services import latest_version
from consult.contributions.models import Contribution, ContributionKind
from consult.db import create_engine, create_session_factory, utcnow
from consult.demo.seed import DEMO_SLUG, seed_demo
from consult.migrate import downgrade, upgrade
from consult.nlp.embed import Embedder, content_hash, embedder_from_setting
from consult.settings import Settings, normalise_database_url
from consult.synthesis import similar
from consult.synthesis.embeddings import text_of
from consult.synthesis.models import Embedding

ARTICLE = f"/consultations/{DEMO_SLUG}/articles/art-3"
WORDS = [
    "bibliothèque",
    "horaires",
    "dimanche",
    "commune",
    "budget",
    "État",
    "décret",
    "loi",
    "article",
    "alinéa",
    "délai",
    "public",
    "associations",
    "usagers",
    "accès",
    "gratuité",
    "mineurs",
    "emploi",
    "culture",
    "numérique",
    "prêt",
    "lecture",
    "réseau",
    "personnel",
    "formation",
    "collectivités",
    "financement",
    "territoire",
    "rural",
    "urbain",
    "enfants",
    "familles",
    "étudiants",
    "seniors",
    "handicap",
    "accessibilité",
    "transport",
    "ouverture",
    "fermeture",
    "soir",
    "samedi",
    "été",
]
BATCH = 5000
SEARCH_SECONDS: contextvars.ContextVar[float] = contextvars.ContextVar("search", default=0.0)
TARGET_P95_MS = 300.0
TARGET_CONCURRENCY = 4
PARTS = (
    "database: index refresh",
    "waiting for an embedding thread",
    "embedding the draft",
    "cosine scan, one draft",
    "scan: waiting for a pass, then the pass",
    "one pass over the matrix",
    "database: contributions found",
    "whole search (all of the above)",
)


def synthetic_text(rng: random.Random, number: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(15, 40)))
    return f"Contribution {number} : {words}."


async def prepare(url: str, embedder: Embedder, count: int) -> None:
    """The demo, `count` contributions with stored vectors, and a citizen account."""
    rng = random.Random(7)
    generator = np.random.default_rng(7)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            consultation = await seed_demo(session)
            version = await latest_version(session, consultation)
            assert version is not None
            await create_user(session, "bench@example.org", "Bench", PASSWORD)
            planted = [sentence for sentence, _, _ in PARAPHRASES]
            planted += [distractor for _, _, distractor in PARAPHRASES]
            planted_vectors = embedder.embed(planted)
            now = utcnow()
            for start in range(0, count, BATCH):
                rows = []
                for number in range(start, min(count, start + BATCH)):
                    body = planted[number] if number < len(planted) else synthetic_text(rng, number)
                    rows.append(
                        {
                            "consultation_id": consultation.id,
                            "version_id": version.id,
                            "article_key": f"art-{rng.randint(1, 12)}",
                            "kind": ContributionKind.ARGUMENT
                            if number % 3
                            else ContributionKind.ANNOTATION,
                            "body": body,
                            "author_pseudonym": f"Citoyen {number % 997}",
                            "created_at": now,
                        }
                    )
                await session.execute(insert(Contribution), rows)
                hashes = [content_hash(text_of(Contribution(body=r["body"]))) for r in rows]
                vectors = generator.standard_normal((len(rows), embedder.dimension))
                vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype("<f4")
                for offset in range(len(rows)):
                    if start + offset < len(planted):
                        vectors[offset] = planted_vectors[start + offset]
                await session.execute(
                    insert(Embedding),
                    [
                        {
                            "model_id": embedder.model_id,
                            "content_hash": digest,
                            "dimension": embedder.dimension,
                            "vector": vectors[offset].tobytes(),
                        }
                        for offset, digest in enumerate(hashes)
                    ],
                )
            await session.commit()
    finally:
        await engine.dispose()


def ask(url: str, cookie: str, text: str) -> bytes:
    # Always the benchmark's own server on loopback.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=urlencode({"form": "annotate", "body": text}).encode(),
        headers={"Cookie": cookie, "HX-Request": "true", "HX-Request-Type": "partial"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310
        return bytes(response.read())


class Parts:
    """Time spent in each part of the similar-contributions requests of the server process."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.local = threading.local()
        # Search as the finder did before decision 0034 (see --compare).
        self.before = False
        self.drafts_per_pass: list[int] = []

    def add(self, part: str, seconds: float) -> None:
        self.seconds[part].append(seconds)

    @contextlib.contextmanager
    def timed(self, part: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(part, time.perf_counter() - started)

    def clear(self) -> None:
        self.seconds.clear()
        self.drafts_per_pass.clear()

    def lines(self) -> list[str]:
        out = []
        for part in PARTS:
            values = self.seconds.get(part)
            if values:
                p50, p95 = np.percentile(np.asarray(values) * 1000, [50, 95])
                out.append(f"    {part:<42} P50 {p50:6.1f} ms, P95 {p95:6.1f} ms")
        if self.drafts_per_pass:
            out.append(
                f"    drafts scored per pass: mean {np.mean(self.drafts_per_pass):.2f}, "
                f"most {max(self.drafts_per_pass)}"
            )
        return out


def instrument(parts: Parts) -> None:
    """Wrap the finder's steps so that each records its time (this process only)."""
    finder = similar.SimilarContributionFinder
    index = similar.ConsultationIndex

    def wrap_async(function: Callable[..., Any], part: str) -> Callable[..., Any]:
        @functools.wraps(function)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            with parts.timed(part):
                return await function(*args, **kwargs)

        return timed

    original_find = finder.find

    async def find_before(self: Any, consultation_id: int, article_key: str, text: str) -> Any:
        """The finder's search as it was before decision 0034: the draft embedded and the
        matrix scanned in a thread of its own per request (anyio's, up to 40 at once), the
        BLAS threads set to 2 around each embedding (see `timed_embed`)."""
        embedder = self.embedder
        index_ = await self._index(consultation_id, embedder.model_id)
        if index_ is None:
            return None
        async with index_.lock:
            await self._refresh(index_)
        bound = similar.minimum_similarity(embedder.model_id)

        def embed_and_search() -> Any:
            query = embedder.embed([text])[0]
            return index_.search(query, article_key, bound, similar.SHOWN)

        return await anyio.to_thread.run_sync(embed_and_search)

    async def find(self: Any, *args: Any, **kwargs: Any) -> Any:
        embedder = self.embedder
        if not getattr(embedder, "_bench_timed", False):
            embed = embedder.embed

            def timed_embed(texts: Any) -> Any:
                # The thread starts with the embedding: what came before was waiting.
                queued = getattr(parts.local, "queued", None)
                if queued is not None:
                    parts.add("waiting for an embedding thread", time.perf_counter() - queued)
                    parts.local.queued = None
                with parts.timed("embedding the draft"):
                    if not parts.before:
                        return embed(texts)
                    # As the embedder did before: its BLAS threads set around each call.
                    with threadpool_limits(limits=2, user_api="blas"):
                        return embed(texts)

            embedder.embed = timed_embed
            embedder._bench_timed = True
        started = time.perf_counter()
        if parts.before:
            found = await find_before(self, *args, **kwargs)
        else:
            found = await original_find(self, *args, **kwargs)
        SEARCH_SECONDS.set(time.perf_counter() - started)
        parts.add("whole search (all of the above)", SEARCH_SECONDS.get())
        return found

    original_search = index.search

    def search(self: Any, *args: Any, **kwargs: Any) -> Any:
        with parts.timed("cosine scan, one draft"):
            return original_search(self, *args, **kwargs)

    original_search_many = index.search_many

    def search_many(self: Any, queries: Any, *args: Any, **kwargs: Any) -> Any:
        if not parts.before:
            parts.drafts_per_pass.append(len(queries))
        with parts.timed("one pass over the matrix"):
            return original_search_many(self, queries, *args, **kwargs)

    original_submit = similar._Searcher.submit

    def submit(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        future = original_submit(self, *args, **kwargs)
        future.add_done_callback(
            lambda _: parts.add(
                "scan: waiting for a pass, then the pass", time.perf_counter() - started
            )
        )
        return future

    original_executor = finder._search_executor

    def search_executor(self: Any) -> Any:
        executor = original_executor(self)
        if getattr(executor, "_bench_timed", False):
            return executor
        submit_ = executor.submit

        def queued_submit(function: Any, *args: Any, **kwargs: Any) -> Any:
            queued = time.perf_counter()

            def started() -> Any:
                parts.local.queued = queued
                return function(*args, **kwargs)

            return submit_(started)

        executor.submit = queued_submit  # type: ignore[method-assign,assignment]
        executor._bench_timed = True  # type: ignore[attr-defined]
        return executor

    finder.find = find  # type: ignore[method-assign]
    finder._refresh = wrap_async(finder._refresh, "database: index refresh")  # type: ignore[method-assign]
    finder._search_executor = search_executor  # type: ignore[method-assign]
    index.search = search  # type: ignore[method-assign]
    index.search_many = search_many  # type: ignore[method-assign]
    similar._Searcher.submit = submit  # type: ignore[method-assign]
    original_fetch = similar.find_similar_contributions

    async def fetch(session: Any, finder_: Any, *args: Any) -> Any:
        SEARCH_SECONDS.set(0.0)
        started = time.perf_counter()
        found = await original_fetch(session, finder_, *args)
        # The finder's search ran in this task's context: what is left is the database.
        parts.add(
            "database: contributions found", time.perf_counter() - started - SEARCH_SECONDS.get()
        )
        return found

    import consult.pages.contributions as pages

    pages.find_similar_contributions = fetch  # type: ignore[attr-defined,assignment]


def measure(
    name: str,
    url: str,
    port: int,
    model: str,
    count: int,
    requests: int,
    levels: list[int],
    parts: Parts,
    compare: bool,
) -> None:
    from consult.web.app import create_app

    mode_names = {
        "before": "before (each draft in a thread of its own, BLAS threads set to 2 around "
        "each embedding)",
        "now": "now (the finder's threads, one per core; BLAS on one thread, set once)",
    }

    embedder = embedder_from_setting(model)
    started = time.perf_counter()
    asyncio.run(prepare(url, embedder, count))
    print(
        f"{name}, {model}: seeded {count:,} contributions in {time.perf_counter() - started:.0f} s"
    )
    settings = Settings(
        database_url=url,
        base_url=f"http://127.0.0.1:{port}",
        embedding_model=model,
        rate_limit="1000000/minute",
        rate_limit_post="1000000/minute",
        rate_limit_login="1000000/minute",
        page_cache_seconds=0,
        form_min_seconds=0,  # a scripted client logs in
    )
    server = serve(create_app(settings), port)
    try:
        cookie = login_cookie(port)
        target = f"http://127.0.0.1:{port}{ARTICLE}/similar-contributions"
        queries = [paraphrase for _, paraphrase, _ in PARAPHRASES]
        # The first request loads the model and starts the index; it answers without
        # suggestions when the index takes longer than the wait, so poll until it is there.
        started = time.perf_counter()
        while b"similar-list" not in ask(target, cookie, queries[0]):
            time.sleep(0.2)
        print(f"  index ready after {time.perf_counter() - started:.1f} s (model load included)")
        shown = sum(b"similar-list" in ask(target, cookie, q) for q in queries)
        print(f"  queries with at least one suggestion: {shown}/{len(queries)}")
        body = "|".join(urlencode({"form": "annotate", "body": q}) for q in queries)
        # Before first: the new way sets the process's BLAS to one thread for good.
        for mode in ("before", "now") if compare else ("now",):
            parts.before = mode == "before"
            if compare:
                print(f"  {mode_names[mode]}:")
            run_levels(target, requests, levels, body, cookie, parts)
    finally:
        server.should_exit = True
        time.sleep(0.5)


def run_levels(
    target: str, requests: int, levels: list[int], body: str, cookie: str, parts: Parts
) -> None:
    """Load the route at each concurrency and print the figures beside the target."""
    for concurrency in levels:
        parts.clear()
        figures = load(target, requests, concurrency, "POST", body, cookie)
        target_note = ""
        if concurrency == TARGET_CONCURRENCY:
            met = "met" if figures["p95"] <= TARGET_P95_MS else "NOT met"
            target_note = f" (target P95 <= {TARGET_P95_MS:.0f} ms: {met})"
        print(
            f"  concurrency {concurrency}: {figures['rps']:.1f} req/s, "
            f"P50 {figures['p50']:.0f} ms, P95 {figures['p95']:.0f} ms{target_note}"
            + (f", {figures['errors']:.0f} errors" if figures["errors"] else "")
            + f"; {_load()}"
        )
        print("\n".join(parts.lines()), flush=True)


def _load() -> str:
    return "load average " + " / ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contributions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--model", nargs="+", default=["use", "hashing"])
    parser.add_argument(
        "--compare",
        action="store_true",
        help="first search as before decision 0034 (same server, same data), then as now",
    )
    args = parser.parse_args()
    parts = Parts()
    instrument(parts)
    print(f"{os.cpu_count()} cores; {_load()}")
    port = 18730

    def measure_on(database: str, url: str, port: int, model: str) -> None:
        measure(
            database,
            url,
            port,
            model,
            args.contributions,
            args.requests,
            args.concurrency,
            parts,
            args.compare,
        )

    for model in args.model:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
            upgrade(url)
            measure_on("sqlite", url, port, model)
        port += 1
        postgres = os.environ.get("CONSULT_BENCH_DATABASE_URL")
        if postgres:
            url = normalise_database_url(postgres)
            downgrade(url, "base")
            upgrade(url)
            measure_on("postgresql", url, port, model)
            port += 1
    if not os.environ.get("CONSULT_BENCH_DATABASE_URL"):
        print("postgresql: set CONSULT_BENCH_DATABASE_URL (an empty database) to measure it")


if __name__ == "__main__":
    main()
