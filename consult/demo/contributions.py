"""Demo contributions: the team's texts, a copy-paste campaign, and votes from demo citizens.

The demo citizens vote as people do: each holds one of a few opinion profiles (seeded, the same
on every machine), and people of one profile vote alike. Some texts every profile supports, some
split the profiles, the others leave everyone lukewarm; so the synthesis finds opinion groups in
the votes and texts that bring them together, as it would in a real consultation.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, User
from consult.bills.models import BillVersion, Provision, ProvisionKind
from consult.consultations.models import Consultation
from consult.contributions.importer import ImportReport, Row, import_contributions
from consult.contributions.models import Contribution, Vote, VoteValue
from consult.demo.seed import DEMO_DIR

VOTERS = 40
# How many demo voters hold each opinion profile.
PROFILES = (16, 14, 10)
# Of the texts voted on: the share every profile supports, and the share that splits them.
BRIDGING_SHARE = 0.2
DIVIDING_SHARE = 0.45
# First names and initials for the people who sign the campaign letter.
SIGNERS_FIRST = [
    "Julien",
    "Sophie",
    "Karim",
    "Nathalie",
    "Thomas",
    "Aïcha",
    "Pierre",
    "Camille",
    "Marc",
    "Émilie",
    "Youssef",
    "Hélène",
    "Bruno",
    "Inès",
    "Olivier",
]
SIGNERS_LAST = "BCDFGHJLMNPRST"


def demo_rows(opened_at: datetime, now: datetime) -> list[tuple[int, Row]]:
    """The team's contributions with dates spread over the open period, campaigns expanded."""
    lines = (DEMO_DIR / "contributions.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    span = (now - opened_at) * 0.95
    rows: list[tuple[int, Row]] = []
    for index, record in enumerate(records):
        created = opened_at + span * (index / max(1, len(records)))
        copies = int(record.pop("campaign", 0) or 0)
        record.pop("campaign_variant", None)
        record.pop("lang", None)
        rows.append((index + 1, {**record, "created_at": created.isoformat()}))
        for copy in range(1, copies):
            signer = (
                f"{SIGNERS_FIRST[copy % len(SIGNERS_FIRST)]} "
                f"{SIGNERS_LAST[(copy * 7) % len(SIGNERS_LAST)]}."
            )
            signed = created + timedelta(minutes=17 * copy)
            rows.append(
                (
                    index + 1,
                    {
                        **record,
                        "ref": f"{record['ref']}-{copy}",
                        "author": signer,
                        "created_at": min(signed, now).isoformat(),
                    },
                )
            )
    return rows


async def _voters(session: AsyncSession) -> list[User]:
    """Demo citizens who only vote (no password: they cannot log in)."""
    voters = []
    for number in range(1, VOTERS + 1):
        email = f"votant{number:02d}@demo.consult.test"
        user = await session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, display_name=f"Votant·e {number}", role=Role.CITIZEN)
            session.add(user)
        voters.append(user)
    await session.flush()
    return voters


async def seed_demo_contributions(
    session: AsyncSession,
    consultation: Consultation,
    version: BillVersion,
    opened_at: datetime,
    now: datetime,
) -> ImportReport:
    """Import the demo contributions and cast demo votes (idempotent)."""
    report = await import_contributions(
        session, consultation, version, demo_rows(opened_at, now), now=now
    )
    if not report.created:
        return report
    rng = random.Random(2026)  # noqa: S311  (the demo is the same on every machine)
    voters = await _voters(session)
    contributions = (
        await session.scalars(
            select(Contribution).where(Contribution.consultation_id == consultation.id)
        )
    ).all()
    articles = (
        await session.scalars(
            select(Provision.key).where(
                Provision.version_id == version.id, Provision.kind == ProvisionKind.ARTICLE
            )
        )
    ).all()
    profile_of = _profiles(rng, len(voters))
    for key in articles:
        leaning = _leaning(rng)
        for number, voter in enumerate(voters):
            if rng.random() < 0.6:
                session.add(
                    Vote(
                        voter_id=voter.id,
                        consultation_id=consultation.id,
                        article_key=key,
                        value=_vote(rng, leaning[profile_of[number]]),
                        created_at=now,
                        updated_at=now,
                    )
                )
    # The database counts them on each contribution (consult.contributions.vote_counters).
    for contribution in contributions:
        popularity = rng.random() ** 2 * 0.7
        leaning = _leaning(rng)
        for number, voter in enumerate(voters):
            if rng.random() < popularity:
                value = _vote(rng, leaning[profile_of[number]])
                session.add(
                    Vote(
                        voter_id=voter.id,
                        consultation_id=consultation.id,
                        contribution_id=contribution.id,
                        value=value,
                        created_at=now,
                        updated_at=now,
                    )
                )
    await session.flush()
    return report


def _profiles(rng: random.Random, voters: int) -> list[int]:
    """The opinion profile of each demo voter, in a seeded order."""
    profiles = [p for p, size in enumerate(PROFILES) for _ in range(size)][:voters]
    profiles += [len(PROFILES) - 1] * (voters - len(profiles))
    rng.shuffle(profiles)
    return profiles


def _leaning(rng: random.Random) -> list[float]:
    """How each profile leans on one text, from -1 (against) to 1 (for): all for it (a text
    that brings people together), split (some for, some against), or lukewarm."""
    draw = rng.random()
    if draw < BRIDGING_SHARE:
        return [rng.uniform(0.6, 1.0) for _ in PROFILES]
    if draw < BRIDGING_SHARE + DIVIDING_SHARE:
        signs = [rng.choice((-1.0, 1.0)) for _ in PROFILES]
        if len(set(signs)) == 1:
            signs[rng.randrange(len(signs))] *= -1
        return [sign * rng.uniform(0.6, 1.0) for sign in signs]
    return [rng.uniform(-0.3, 0.3) for _ in PROFILES]


def _vote(rng: random.Random, leaning: float) -> VoteValue:
    """One vote of someone leaning this way: mostly their side, sometimes mitigé or the
    other side."""
    weights = (
        0.08 + 0.8 * max(leaning, 0.0),
        0.15 + 0.4 * (1.0 - abs(leaning)),
        0.08 + 0.8 * max(-leaning, 0.0),
    )
    return rng.choices((VoteValue.FOR, VoteValue.MIXED, VoteValue.AGAINST), weights=weights)[0]
