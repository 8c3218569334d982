"""The replay's starting point: a fresh PostgreSQL database holding the consultation on the
République numérique bill, open, and its citizens' accounts, inserted in bulk."""

from __future__ import annotations

import json
import random
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import insert, select, text

from consult.accounts.models import Role, User
from consult.accounts.passwords import hash_password
from consult.accounts.services import create_user
from consult.bills.parser import parse_bill
from consult.bills.services import publish_version
from consult.consultations.models import Phase
from consult.consultations.services import create_consultation
from consult.db import create_engine, create_session_factory, utcnow
from consult.organisations.models import Organisation, OrganisationMember
from consult.settings import normalise_database_url

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "republique-numerique-dev"
SLUG = "republique-numerique"
PASSWORD = "replay password of every citizen"  # noqa: S105 (accounts of a throwaway database)
OFFICIAL = "ministere@replay.consult.test"
INSERT_BATCH = 5000


def citizen_email(number: int) -> str:
    """The email of the replay's citizen `number` (0-based)."""
    return f"citoyen-{number}@replay.consult.test"


def database_name() -> str:
    """A fresh database name, never one somebody else uses."""
    return f"consult_replay_{secrets.token_hex(4)}"


def with_database(server_url: str, name: str) -> str:
    """`server_url` (`postgresql://user@host:port`) pointing at database `name`."""
    return normalise_database_url(urlunsplit(urlsplit(server_url)._replace(path=f"/{name}")))


async def create_database(server_url: str, name: str) -> None:
    admin = create_engine(with_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


async def drop_database(server_url: str, name: str) -> None:
    assert re.fullmatch(r"consult_replay_[0-9a-f]{8}", name), name  # only the replay's own
    admin = create_engine(with_database(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@dataclass(frozen=True)
class Seeded:
    """What the load needs to know of the consultation."""

    articles: tuple[str, ...]
    accounts: int
    seconds_for_accounts: float


async def seed(database_url: str, accounts: int) -> Seeded:
    """The consultation, open since yesterday, its bill published, and `accounts` citizens
    sharing one password whose argon2 hash is computed once (as registering each would cost
    an argon2 hash, a confirmation link and three requests, none of which the replay
    measures)."""
    import time

    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    bill = (DATA / "bill.txt").read_text(encoding="utf-8")
    now = utcnow()
    try:
        async with factory() as session:
            official = await create_user(session, OFFICIAL, "Ministère", PASSWORD, Role.OFFICIAL)
            organisation = Organisation(name="Premier ministre", slug="premier-ministre")
            session.add(organisation)
            await session.flush()
            session.add(OrganisationMember(organisation_id=organisation.id, user_id=official.id))
            consultation = await create_consultation(
                session,
                slug=SLUG,
                title="Projet de loi pour une République numérique",
                summary="Le texte soumis à consultation en 2015, rejoué.",
                ministry="Premier ministre",
                owner=official,
                organisation=organisation,
                phase_starts={Phase.OPEN: now - timedelta(days=1)},
            )
            parsed = parse_bill(bill, format="text")
            await publish_version(
                session,
                consultation,
                parsed,
                source_text=bill,
                source_format="text",
                published_by=official,
            )
            await session.commit()
        started = time.perf_counter()
        password_hash = await hash_password(PASSWORD)
        async with factory() as session:
            for start in range(0, accounts, INSERT_BATCH):
                rows = [
                    {
                        "email": citizen_email(number),
                        "display_name": f"Citoyen {number}",
                        "password_hash": password_hash,
                        "role": Role.CITIZEN,
                        "created_at": now,
                    }
                    for number in range(start, min(accounts, start + INSERT_BATCH))
                ]
                await session.execute(insert(User), rows)
            await session.commit()
            created = await session.scalar(
                select(text("count(*)")).select_from(User).where(User.role == Role.CITIZEN)
            )
        assert created == accounts, (created, accounts)
        return Seeded(
            tuple(article.key for article in parsed.articles()),
            accounts,
            time.perf_counter() - started,
        )
    finally:
        await engine.dispose()


def contribution_texts(path: Path, count: int = 4000, seed: int = 0) -> None:
    """Write `count` distinct contribution texts made of the real arguments and proposals of
    2015 (each one's text, and a sentence of another after it) to `path`, one JSON a line."""
    bodies: list[str] = []
    for name, field in (("arguments.jsonl", "body"), ("opinions.jsonl", "body_text")):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            body = " ".join(str(row.get(field) or "").split())
            if row.get("kind") != "article" and len(body) >= 40:  # citizens' words only
                bodies.append(body[:1500])
    generator = random.Random(seed)
    sentences = [s for body in bodies for s in re.split(r"(?<=[.!?])\s+", body) if len(s) > 30]
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            body = f"{generator.choice(bodies)} {generator.choice(sentences)}"
            out.write(json.dumps({"n": number, "body": body}, ensure_ascii=False) + "\n")
