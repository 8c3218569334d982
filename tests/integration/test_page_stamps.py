"""The database keeps the article pages' stamps: every write to a table the page reads, made in
SQL by hand as well as by the site, changes the stamp of the pages it shows on, and nothing
else does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.consultations.models import Consultation
from consult.contributions.models import Contribution
from consult.db import create_engine, create_session_factory, utcnow
from consult.demo.seed import DEMO_SLUG
from consult.stamps import page_stamp
from consult.synthesis.models import (
    CopyKind,
    RunStatus,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisRun,
)

pytestmark = [pytest.mark.each_database, pytest.mark.anyio]

Write = Callable[[AsyncSession, int], Awaitable[object]]


@pytest.fixture
async def sessions(demo_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(demo_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _consultation(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        found = await session.scalar(select(Consultation.id).where(Consultation.slug == DEMO_SLUG))
        assert found is not None
        return int(found)


async def _stamps(factory: async_sessionmaker[AsyncSession], consultation: int) -> dict[str, int]:
    async with factory() as session:
        return {key: await page_stamp(session, consultation, key) for key in ("art-3", "art-5")}


async def _sql(session: AsyncSession, statement: str, **parameters: object) -> None:
    await session.execute(text(statement), parameters)


async def _contribution_on(session: AsyncSession, key: str) -> int:
    found = await session.scalar(
        select(Contribution.id).where(Contribution.article_key == key).order_by(Contribution.id)
    )
    assert found is not None
    return int(found)


async def edit_body(session: AsyncSession, _consultation: int) -> None:
    target = await _contribution_on(session, "art-3")
    await _sql(session, "UPDATE contributions SET body = 'Corrigé.' WHERE id = :id", id=target)


async def hide(session: AsyncSession, _consultation: int) -> None:
    target = await _contribution_on(session, "art-3")
    await _sql(session, "UPDATE contributions SET visibility = 'hidden' WHERE id = :id", id=target)


async def delete_contribution(session: AsyncSession, _consultation: int) -> None:
    target = await _contribution_on(session, "art-3")
    await _sql(session, "DELETE FROM contributions WHERE id = :id", id=target)


async def withdraw_vote_on_article(session: AsyncSession, consultation: int) -> None:
    await _sql(
        session,
        "DELETE FROM votes WHERE id = (SELECT min(id) FROM votes WHERE consultation_id = :c"
        " AND article_key = 'art-3')",
        c=consultation,
    )


async def import_tally(session: AsyncSession, consultation: int) -> None:
    await _sql(
        session,
        "INSERT INTO imported_article_votes (consultation_id, article_key, votes_for,"
        " votes_mixed, votes_against) VALUES (:c, 'art-3', 4, 0, 1)",
        c=consultation,
    )


async def change_bill_text(session: AsyncSession, consultation: int) -> None:
    await _sql(
        session,
        "UPDATE provisions SET text = text || ' (corrigé)' WHERE key = 'art-3-al-1'"
        " AND version_id IN (SELECT id FROM bill_versions WHERE consultation_id = :c)",
        c=consultation,
    )


async def rename_consultation(session: AsyncSession, consultation: int) -> None:
    await _sql(
        session, "UPDATE consultations SET title = 'Autre titre' WHERE id = :c", c=consultation
    )


async def publish_report(session: AsyncSession, consultation: int) -> None:
    """A published synthesis report that groups two copies of a letter."""
    first = await _contribution_on(session, "art-3")
    second = int(
        await session.scalar(
            select(Contribution.id).where(
                Contribution.article_key == "art-3", Contribution.id > first
            )
        )
        or 0
    )
    now = utcnow()
    run = SynthesisRun(consultation_id=consultation, status=RunStatus.SUCCEEDED, published_at=now)
    session.add(run)
    await session.flush()
    campaign = SynthesisCampaign(
        run_id=run.id,
        position=0,
        kind=CopyKind.CAMPAIGN,
        representative_id=first,
        copies=2,
        exact_copies=2,
        distinct_authors=2,
        first_at=now,
        last_at=now,
    )
    session.add(campaign)
    await session.flush()
    for member in (first, second):
        session.add(SynthesisCampaignMember(campaign_id=campaign.id, contribution_id=member))


WRITES = [
    pytest.param(edit_body, {"art-3"}, id="a contribution's text"),
    pytest.param(hide, {"art-3"}, id="a moderator's decision"),
    pytest.param(delete_contribution, {"art-3"}, id="a contribution deleted"),
    pytest.param(withdraw_vote_on_article, {"art-3"}, id="a vote on the article withdrawn"),
    pytest.param(import_tally, {"art-3"}, id="votes imported"),
    pytest.param(change_bill_text, {"art-3", "art-5"}, id="the bill's text"),
    pytest.param(rename_consultation, {"art-3", "art-5"}, id="the consultation"),
    pytest.param(publish_report, {"art-3", "art-5"}, id="a synthesis report"),
]


@pytest.mark.parametrize(("write", "changed"), WRITES)
async def test_a_write_in_sql_changes_the_stamps_of_the_pages_it_shows_on(
    sessions: async_sessionmaker[AsyncSession], write: Write, changed: set[str]
) -> None:
    consultation = await _consultation(sessions)
    before = await _stamps(sessions, consultation)
    async with sessions() as session:
        await write(session, consultation)
        await session.commit()
    after = await _stamps(sessions, consultation)
    assert {key for key in before if after[key] != before[key]} == changed
    assert all(after[key] >= before[key] for key in before)


async def test_a_write_rolled_back_changes_no_stamp(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    consultation = await _consultation(sessions)
    before = await _stamps(sessions, consultation)
    async with sessions() as session:
        await edit_body(session, consultation)
        await session.rollback()
    assert await _stamps(sessions, consultation) == before


async def test_a_running_synthesis_beating_its_heart_changes_no_stamp(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    consultation = await _consultation(sessions)
    async with sessions() as session:
        run = SynthesisRun(consultation_id=consultation, status=RunStatus.RUNNING)
        session.add(run)
        await session.commit()
        before = await _stamps(sessions, consultation)
        for beat in range(3):
            run.heartbeat_at = utcnow() + timedelta(seconds=beat)
            run.done = beat
            await session.commit()
        assert await _stamps(sessions, consultation) == before
        run.status = RunStatus.SUCCEEDED
        await session.commit()
    after = await _stamps(sessions, consultation)
    assert all(after[key] > before[key] for key in before)
