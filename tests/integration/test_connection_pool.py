"""Pooled PostgreSQL connections: one closed by the server while idle is replaced before a
request meets it; one lent again at once costs no extra round trip."""

from __future__ import annotations

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from consult.db import create_engine
from tests.support.databases import POSTGRESQL

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]
BACKEND = text("SELECT pg_backend_pid()")


async def backend_of(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(BACKEND)).scalar_one())


async def close_from_the_server(database_url: str, backend: int) -> None:
    """What a restart or an administrator does to a connection: the server ends it."""
    admin = create_engine(database_url)
    try:
        async with admin.connect() as connection:
            ended = await connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}
            )
            assert ended.scalar_one() is True
    finally:
        await admin.dispose()
    await anyio.sleep(0.05)  # the server closes the socket


@pytest.mark.parametrize("database_kind", [POSTGRESQL])
async def test_a_connection_closed_while_idle_is_replaced_before_it_is_lent(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0, ping_after_idle=0.2)
    try:
        first = await backend_of(engine)
        await close_from_the_server(database_url, first)
        await anyio.sleep(0.3)
        # Lent after idling: checked, found closed, and a new one is lent without an error.
        second = await backend_of(engine)
        assert second != first
        assert await backend_of(engine) == second
    finally:
        await engine.dispose()


@pytest.mark.parametrize("database_kind", [POSTGRESQL])
async def test_a_connection_back_from_a_request_moments_ago_is_lent_unchecked(
    database_url: str,
) -> None:
    """The cheap path under load: no ping, so a connection closed in that instant is met by
    the next statement (one refused request), and the pool then opens a new one."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, ping_after_idle=60)
    try:
        first = await backend_of(engine)
        await close_from_the_server(database_url, first)
        with pytest.raises(DBAPIError) as met:
            await backend_of(engine)
        assert met.value.connection_invalidated
        assert await backend_of(engine) != first
    finally:
        await engine.dispose()
