"""Bulk import speed: rows per second into SQLite and PostgreSQL.

    .venv/bin/python -m bench.import_rows [--rows 5000]

Generates a realistic file (arguments, threads of replies, annotations and amendments on
the demo bill), imports it into a fresh database, then imports it again (which must add
nothing). PostgreSQL is measured when CONSULT_BENCH_DATABASE_URL names an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

from consult.bills.services import latest_version
from consult.contributions.importer import Row, import_contributions
from consult.db import create_engine, create_session_factory, utcnow
from consult.demo.seed import seed_demo
from consult.migrate import downgrade, upgrade
from consult.settings import normalise_database_url

ARTICLES = [f"art-{n}" for n in range(1, 17)]


def generate(rows: int, seed: int = 7) -> list[tuple[int, Row]]:
    """Synthetic rows: 60 % arguments, 25 % replies, 10 % annotations, 5 % amendments."""
    rng = random.Random(seed)
    made: list[tuple[int, Row]] = []
    for number in range(1, rows + 1):
        article = "art-3"
        roll = rng.random()
        row: Row = {
            "ref": f"bench-{number}",
            "author": f"Auteur {rng.randrange(2000)}",
            "article": article,
            "body": f"Contribution {number} : préciser les délais et les garanties.",
            "votes_for": rng.randrange(40),
            "votes_against": rng.randrange(20),
        }
        if roll < 0.60:
            row |= {"kind": "argument", "stance": rng.choice(["pour", "contre", "neutre"])}
        elif roll < 0.85 and number > 1:
            row |= {
                "kind": "reply",
                "parent": f"bench-{rng.randrange(max(1, number - 50), number)}",
            }
        elif roll < 0.95:
            row |= {
                "kind": "annotation",
                "alinea": 1,
                "quote": "Sont soumis à une consultation ouverte",
            }
        else:
            row |= {"kind": "amendment", "operation": "delete_alinea", "alinea": 2}
        made.append((number, row))
    return made


async def measure(name: str, url: str, rows: list[tuple[int, Row]]) -> None:
    engine = create_engine(url)
    factory = create_session_factory(engine)
    try:
        async with factory() as session:
            consultation = await seed_demo(session)
            await session.commit()
        for attempt in ("first import", "second import"):
            async with factory() as session:
                version = await latest_version(session, consultation)
                assert version is not None
                started = time.perf_counter()
                report = await import_contributions(
                    session, consultation, version, rows, now=utcnow()
                )
                await session.commit()
                elapsed = time.perf_counter() - started
            print(
                f"{name:<11}{attempt:<15}{len(rows):>7}{report.created:>9}{report.already_present:>9}"
                f"{len(report.errors):>9}{len(rows) / elapsed:>10.0f}"
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    rows = generate(args.rows)
    print(
        f"{'database':<11}{'run':<15}{'rows':>7}{'created':>9}{'present':>9}{'rejected':>9}{'rows/s':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'import.sqlite3'}"
        upgrade(url)
        asyncio.run(measure("sqlite", url, rows))
    postgres = os.environ.get("CONSULT_BENCH_DATABASE_URL")
    if postgres:
        url = normalise_database_url(postgres)
        downgrade(url, "base")
        upgrade(url)
        asyncio.run(measure("postgresql", url, rows))
    else:
        print("postgresql: set CONSULT_BENCH_DATABASE_URL (an empty database) to measure it")


if __name__ == "__main__":
    main()
