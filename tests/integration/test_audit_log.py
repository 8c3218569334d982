"""The audit log only grows: the database itself refuses to change or delete an event."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from consult.accounts.services import create_user
from consult.audit.models import AuditEvent
from consult.audit.services import record_event
from consult.db import create_engine, create_session_factory
from consult.migrate import upgrade
from tests.support.site import PASSWORD

pytestmark = pytest.mark.each_database


@pytest.fixture
def migrated_url(blank_database_url: str) -> str:
    """A database whose schema the migrations built (they add the refusing triggers)."""
    upgrade(blank_database_url)
    return blank_database_url


@pytest.mark.anyio
async def test_audit_events_cannot_be_changed_or_deleted(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    factory = create_session_factory(engine)
    try:
        async with factory() as db:
            official = await create_user(db, "o@example.org", "Official", PASSWORD)
            event = await record_event(db, official.id, "answer.publish", "answer:1", {"x": 1})
            await db.commit()
            event_id, official_id = event.id, official.id
        for statement in (
            update(AuditEvent).where(AuditEvent.id == event_id).values(action="forged"),
            update(AuditEvent).where(AuditEvent.id == event_id).values(details={}),
            delete(AuditEvent).where(AuditEvent.id == event_id),
        ):
            async with factory() as db:
                with pytest.raises(DBAPIError, match="append-only"):
                    await db.execute(statement)
                await db.rollback()
        # Removing the person keeps the event, with no actor (ON DELETE SET NULL).
        async with factory() as db:
            await db.execute(
                update(AuditEvent).where(AuditEvent.id == event_id).values(actor_id=None)
            )
            await db.commit()
        async with factory() as db:
            kept = await db.scalar(select(AuditEvent).where(AuditEvent.id == event_id))
            assert kept is not None and kept.action == "answer.publish"
            assert kept.actor_id is None and official_id
    finally:
        await engine.dispose()
