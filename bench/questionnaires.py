"""Questionnaire answers at scale: the CSV import (rows/s, first time and again) and the
results page's figures, on a SQLite file (and PostgreSQL with CONSULT_BENCH_DATABASE_URL).

    .venv/bin/python -m bench.questionnaires [--rows 20000]

Targets: an import of the Grand Débat's size runs in minutes, not hours (≥ 500 rows/s); the
figures of a questionnaire with 20,000 responses are computed in under a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.consultations.models import ConsultationKind, Phase
from consult.consultations.services import create_consultation
from consult.db import create_engine, create_session_factory, utcnow
from consult.demo.questionnaire import QUESTIONNAIRE_MD, answers_csv, demo_answers
from consult.migrate import upgrade
from consult.organisations.models import Organisation
from consult.questionnaires.answers_import import import_answers
from consult.questionnaires.format import parse_questionnaire
from consult.questionnaires.results import questionnaire_results
from consult.questionnaires.services import load_questionnaire, publish_questionnaire


async def run(url: str, rows: int) -> None:
    engine = create_engine(url)
    factory = create_session_factory(engine)
    csv_text = answers_csv(demo_answers(rows))
    async with factory() as db:
        owner = await create_user(db, "bench@example.org", "B", "x" * 12, Role.OFFICIAL)
        organisation = Organisation(name="Bench", slug="bench")
        db.add(organisation)
        await db.flush()
        consultation = await create_consultation(
            db,
            slug="bench",
            kind=ConsultationKind.QUESTIONNAIRE,
            title="Bench",
            summary="",
            ministry="",
            owner=owner,
            organisation=organisation,
            phase_starts={Phase.OPEN: utcnow()},
        )
        parsed = parse_questionnaire(QUESTIONNAIRE_MD)
        await publish_questionnaire(
            db, consultation, parsed, source_text="", source_format="markdown", published_by=owner
        )
        await db.commit()
        questionnaire = await load_questionnaire(db, consultation)
        assert questionnaire is not None
        for label in ("first import", "same file again"):
            started = time.perf_counter()
            report = await import_answers(db, questionnaire, csv_text, now=utcnow(), actor_id=None)
            await db.commit()
            took = time.perf_counter() - started
            print(
                f"{label:>16}: {rows:,} rows in {took:.1f} s = {rows / took:,.0f} rows/s "
                f"({report.created:,} created, {report.already_present:,} already present)"
                "   target ≥ 500 rows/s"
            )
        started = time.perf_counter()
        results = await questionnaire_results(db, questionnaire, None)
        took = time.perf_counter() - started
        print(
            f"{'figures':>16}: {results.respondents:,} responses in {took * 1000:.0f} ms"
            "   target < 1,000 ms"
        )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    rows = parser.parse_args().rows
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.sqlite3'}"
        upgrade(url)
        print("SQLite")
        asyncio.run(run(url, rows))
    other = os.environ.get("CONSULT_BENCH_DATABASE_URL")
    if other:
        upgrade(other)
        print("PostgreSQL")
        asyncio.run(run(other, rows))


if __name__ == "__main__":
    main()
