"""Public vote counts equal the votes stored, however many people change their votes at once."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator

import anyio
import httpx2
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.contributions.models import Contribution, Vote
from consult.web.services import services_of_app
from tests.support.databases import POSTGRESQL, SQLITE
from tests.support.seeding import LIBRARY_SLUG
from tests.support.site import PASSWORD, browser, make_settings, serving

ARTICLE = f"/consultations/{LIBRARY_SLUG}/articles/art-1"
VOTERS = 20
AT_ONCE = 25
# SQLite has one writer at a time: fewer changes show the same there.
BURSTS = [
    pytest.param(SQLITE, 200, id="sqlite"),
    pytest.param(POSTGRESQL, 1000, marks=pytest.mark.postgres, id="postgresql"),
]


@pytest.fixture
async def app(library_url: str) -> AsyncIterator[Starlette]:
    async with serving(make_settings(library_url)) as application:
        yield application


@pytest.mark.anyio
@pytest.mark.parametrize(("database_kind", "changes"), BURSTS)
async def test_a_thousand_concurrent_vote_changes_leave_counts_equal_to_the_votes(
    app: Starlette, changes: int
) -> None:
    factory = services_of_app(app).session_factory
    async with factory() as session:
        emails = [f"voter-{n}@example.org" for n in range(VOTERS)]
        for email in emails:
            await create_user(session, email, "Voter", PASSWORD, Role.CITIZEN)
        await session.commit()
    author = await browser(app, emails[0])
    for body in ("Ouvrir le dimanche.", "Prêter des liseuses.", "Gratuité pour tous."):
        posted = await author.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": body})
        assert posted.status_code == 303
    async with factory() as session:
        targets = list(await session.scalars(select(Contribution.id).order_by(Contribution.id)))
    voters = [await browser(app, email) for email in emails]

    # Each voter votes, changes and withdraws, on the same few contributions as everyone else.
    draw = random.Random(7)
    burst = [
        (draw.choice(voters), draw.choice(targets), draw.choice(["pour", "mitige", "contre", ""]))
        for _ in range(changes)
    ]
    answers: Counter[int] = Counter()
    turns = anyio.Semaphore(AT_ONCE)

    async def change(http: httpx2.AsyncClient, target: int, value: str) -> None:
        async with turns:
            response = await http.post(
                f"{ARTICLE}/contributions/{target}/votes", data={"value": value}
            )
        answers[response.status_code] += 1

    async with anyio.create_task_group() as requests:
        for http, target, value in burst:
            requests.start_soon(change, http, target, value)
    for http in [author, *voters]:
        await http.aclose()

    assert sum(answers.values()) == changes and set(answers) <= {200, 303}, answers
    async with factory() as session:
        stored = Counter(
            (contribution_id, value.value)
            for contribution_id, value in await session.execute(
                select(Vote.contribution_id, Vote.value).where(Vote.contribution_id.in_(targets))
            )
        )
        counters = {
            row.id: (row.votes_for, row.votes_mixed, row.votes_against)
            for row in await session.scalars(
                select(Contribution).where(Contribution.id.in_(targets))
            )
        }
    for target in targets:
        rows = (stored[target, "pour"], stored[target, "mitige"], stored[target, "contre"])
        assert counters[target] == rows, (target, counters[target], rows)
    assert sum(stored.values()) > 0
