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
requests/s, P50 and P95 per concurrency. PostgreSQL is measured when CONSULT_BENCH_DATABASE_URL
names an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import insert

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


def measure(
    name: str, url: str, port: int, model: str, count: int, requests: int, levels: list[int]
) -> None:
    from consult.web.app import create_app

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
        for concurrency in levels:
            figures = load(target, requests, concurrency, "POST", body, cookie)
            print(
                f"  concurrency {concurrency}: {figures['rps']:.1f} req/s, "
                f"P50 {figures['p50']:.0f} ms, P95 {figures['p95']:.0f} ms"
                + (f", {figures['errors']:.0f} errors" if figures["errors"] else "")
            )
    finally:
        server.should_exit = True
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contributions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--model", nargs="+", default=["use", "hashing"])
    args = parser.parse_args()
    port = 18730
    for model in args.model:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
            upgrade(url)
            measure("sqlite", url, port, model, args.contributions, args.requests, args.concurrency)
        port += 1
        postgres = os.environ.get("CONSULT_BENCH_DATABASE_URL")
        if postgres:
            url = normalise_database_url(postgres)
            downgrade(url, "base")
            upgrade(url)
            measure(
                "postgresql", url, port, model, args.contributions, args.requests, args.concurrency
            )
            port += 1
    if not os.environ.get("CONSULT_BENCH_DATABASE_URL"):
        print("postgresql: set CONSULT_BENCH_DATABASE_URL (an empty database) to measure it")


if __name__ == "__main__":
    main()
