"""A whole consultation brought in from elsewhere by script: create it, import its bill, then
its contributions with real-sized proposals and the votes cast on its articles."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from consult.cli import main
from consult.consultations.models import Consultation, Phase
from consult.contributions.models import Contribution
from consult.contributions.votes import article_tally
from consult.contributions.writing import MAX_BODY
from consult.db import create_engine, create_session_factory
from consult.opendata.tables import TABLES, export_of

BILL = "Article 1er\nLe texte premier.\n\nArticle 2\nLe second texte.\n"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'scripted.sqlite3'}"
    monkeypatch.setenv("CONSULT_DATABASE_URL", url)
    assert invoke("db", "upgrade").exit_code == 0
    official = invoke(
        "user",
        "create",
        "--email",
        "Agent@Example.gouv.fr",
        "--name",
        "Agent",
        "--role",
        "official",
        "--password-stdin",
        input="a long enough password\n",
    )
    assert official.exit_code == 0, official.output
    ministry = invoke("organisation", "create", "--name", "Secrétariat d’État au numérique")
    assert ministry.exit_code == 0, ministry.output
    member = invoke(
        "organisation",
        "add-member",
        "--organisation",
        "secretariat-d-etat-au-numerique",
        "--email",
        "agent@example.gouv.fr",
    )
    assert member.exit_code == 0, member.output
    return url.replace("sqlite://", "sqlite+aiosqlite://")


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--language", "en", *args], input=input)


def read(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def exported_votes(url: str) -> list[tuple[Any, ...]]:
    """The rows of the open-data export's votes table."""

    async def run() -> list[tuple[Any, ...]]:
        engine = create_engine(url)
        try:
            factory = create_session_factory(engine)
            async with factory() as session:
                found = await session.scalar(select(Consultation))
            export = await export_of(factory, found, "a-secret-key-for-pseudonyms-0123456789")
            votes = next(table for table in TABLES if table.name == "votes")
            return [row async for batch in votes.rows(export) for row in batch]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def create(*phases: str) -> Result:
    return invoke(
        "consultation",
        "create",
        "--slug",
        "republique-numerique",
        "--title",
        "Projet de loi pour une République numérique",
        "--ministry",
        "Secrétariat d’État au numérique",
        "--owner",
        "agent@example.gouv.fr",
        *[argument for phase in phases for argument in ("--phase", phase)],
    )


def test_a_consultation_is_created_imported_and_voted_on_by_script(
    database: str, tmp_path: Path
) -> None:
    created = create("open=2015-09-26T09:00", "closed=2015-10-18T23:59")
    assert created.exit_code == 0, created.output

    async def consultation(session: Any) -> tuple[str, dict[Phase, str]]:
        found = await session.scalar(select(Consultation))
        return found.ministry, {p.phase: p.starts_at.isoformat() for p in found.phases}

    ministry, phases = read(database, consultation)
    assert ministry == "Secrétariat d’État au numérique"
    # Typed in Paris time (UTC+2 in September 2015), stored in UTC.
    assert phases[Phase.OPEN].startswith("2015-09-26T07:00")
    assert Phase.CLOSED in phases

    bill = tmp_path / "bill.txt"
    bill.write_text(BILL, encoding="utf-8")
    assert (
        invoke("bill", "import", str(bill), "--consultation", "republique-numerique").exit_code == 0
    )

    long_proposal = ("Les données publiques sont ouvertes par défaut. " * 410).strip()
    assert 19_000 < len(long_proposal) <= MAX_BODY
    rows = [
        {"kind": "article_votes", "article": "art-1", "votes_for": 120, "votes_against": 7},
        {
            "ref": "proposal-1",
            "author": "u_1",
            "article": "art-2",
            "kind": "amendment",
            "operation": "new_article",
            "body": long_proposal,
            "new_text": long_proposal,
        },
        {
            "ref": "argument-1",
            "author": "u_2",
            "article": "art-2",
            "kind": "argument",
            "stance": "pour",
            "target": "proposal-1",
            "body": "Enfin !",
        },
        {"kind": "article_votes", "article": "art-99", "votes_for": 1},
    ]
    contributions = tmp_path / "rows.jsonl"
    contributions.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    imported = invoke(
        "contributions", "import", str(contributions), "--consultation", "republique-numerique"
    )
    assert imported.exit_code == 1, imported.output  # the unknown article is reported
    assert "2 imported, 0 already present, votes set on 1 articles, 1 rejected" in imported.output
    assert "rows.jsonl:4: no article “art-99” in the bill" in imported.output

    async def state(session: Any) -> tuple[Any, int]:
        found = await session.scalar(select(Consultation))
        proposal = await session.scalar(
            select(Contribution).where(Contribution.external_ref == "proposal-1")
        )
        return await article_tally(session, found, "art-1"), len(proposal.body)

    tally, length = read(database, state)
    assert (tally.votes_for, tally.votes_mixed, tally.votes_against) == (120, 0, 7)
    assert length == len(long_proposal)
    assert ("article", "art-1", 120, 0, 7) in exported_votes(database)

    # Importing the same file again sets the same counts: nothing doubles.
    again = invoke(
        "contributions", "import", str(contributions), "--consultation", "republique-numerique"
    )
    assert "0 imported, 2 already present, votes set on 1 articles" in again.output
    tally, _length = read(database, state)
    assert (tally.votes_for, tally.votes_against) == (120, 7)


def test_a_consultation_needs_its_opening_and_an_official_owner(database: str) -> None:
    no_opening = create("closed=2015-10-18T23:59")
    assert no_opening.exit_code != 0
    assert "open" in no_opening.output
    unknown_phase = create("opne=2015-09-26T09:00")
    assert unknown_phase.exit_code != 0 and "unknown phase opne" in unknown_phase.output
    bad_date = create("open=le 26 septembre")
    assert bad_date.exit_code != 0 and "2027-03-01 09:00" in bad_date.output
    not_official = invoke(
        "consultation",
        "create",
        "--slug",
        "autre",
        "--title",
        "Autre",
        "--owner",
        "nobody@example.org",
        "--phase",
        "open=2015-09-26T09:00",
    )
    assert not_official.exit_code != 0 and "no official account" in not_official.output
