"""Demo contributions: the team's texts, a copy-paste campaign, and votes from demo citizens."""

from __future__ import annotations

import json
import random
from collections import Counter
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
    values = list(VoteValue)
    for key in articles:
        leaning = [rng.random() + 0.2 for _ in values]
        for voter in voters:
            if rng.random() < 0.6:
                value = rng.choices(values, weights=leaning)[0]
                session.add(
                    Vote(
                        voter_id=voter.id,
                        consultation_id=consultation.id,
                        article_key=key,
                        value=value,
                        created_at=now,
                        updated_at=now,
                    )
                )
    for contribution in contributions:
        popularity = rng.random() ** 2 * 0.7
        leaning = [rng.random() + 0.1 for _ in values]
        tally: Counter[VoteValue] = Counter()
        for voter in voters:
            if rng.random() < popularity:
                value = rng.choices(values, weights=leaning)[0]
                tally[value] += 1
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
        contribution.votes_for = tally[VoteValue.FOR]
        contribution.votes_mixed = tally[VoteValue.MIXED]
        contribution.votes_against = tally[VoteValue.AGAINST]
    await session.flush()
    return report
