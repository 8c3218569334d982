"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when configured),
the ASGI app over HTTP, and helpers to seed data through the domain services."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

import consult.models  # noqa: F401  (registers every table on the metadata)
from consult.accounts.models import Role, User
from consult.accounts.services import create_user
from consult.db import Base, create_engine, utcnow
from consult.settings import Settings, normalise_database_url
from consult.synthesis.similar import SimilarContributionFinder
from consult.web.services import Services, services_of_app

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
REQUIRE_SERVICES = os.environ.get("CONSULT_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("CONSULT_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("CONSULT_TEST_REDIS_URL")


def service_missing(name: str, variable: str) -> None:
    """Skip when a service is not configured, but fail when CI requires every service."""
    message = f"{name} tests need {variable}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (CONSULT_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


class Clock:
    """A clock tests can move; the app reads time only through it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Pages are tested in French and English, so the catalogues must be compiled."""
    from consult.i18n import translations_for
    from consult.locale_build import compile_catalogs

    compile_catalogs()
    translations_for.cache_clear()


# --- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not POSTGRES_URL:
        service_missing("PostgreSQL", "CONSULT_TEST_DATABASE_URL")
    base_url = normalise_database_url(POSTGRES_URL or "")
    name = f"consult_test_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_schema(postgres_server_url: str) -> str:
    """The session's PostgreSQL database with the schema built by the migrations."""
    from consult.migrate import upgrade

    upgrade(postgres_server_url)
    return postgres_server_url


async def _create_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database with the current schema: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'consult.sqlite3'}"
        asyncio.run(_create_schema(url))
        return url
    url = request.getfixturevalue("postgres_schema")
    asyncio.run(_truncate_all(url))
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database only, for tests whose subject is not the database."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'consult.sqlite3'}"
    asyncio.run(_create_schema(url))
    return url


# --- the application ---------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: generous rate limits unless a test lowers them."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "base_url": "http://testserver",
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "rate_limit": "10000/minute",
        "rate_limit_post": "10000/minute",
        "rate_limit_login": "10000/minute",
        "rate_limit_contribute": "10000/minute",
        "form_min_seconds": 0,
        "page_cache_seconds": 0,
        "embedding_model": "hashing",
        # Clustering in the job's own process; tests of the process pool ask for one.
        "synthesis_processes": 0,
    }
    values.update(overrides)
    return Settings(**values)


class Site:
    """The running app with an HTTP client and a way to reach its database."""

    def __init__(self, client: TestClient, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self.app: Any = client.app

    @property
    def services(self) -> Services:
        """The application's long-lived parts (settings, database, job queue...)."""
        return services_of_app(self.app)

    def forget_similar_indexes(self) -> None:
        """Drop the similar-contribution indexes, as a freshly started process has none."""
        running = self.services.started
        old = running.similar
        fresh = SimilarContributionFinder(old.session_factory, old.embedder_factory)
        self.services.running = dataclasses.replace(running, similar=fresh)

    def db(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` with a session in the app's event loop and commit it."""

        async def run() -> T:
            async with self.services.session_factory() as session:
                result = await work(session)
                await session.commit()
                return result

        return self.client.portal.call(run)  # type: ignore[union-attr]

    def user(self, role: Role = Role.CITIZEN, email: str | None = None) -> User:
        """Create an account with the shared test password."""
        address = email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.org"
        return self.db(lambda s: create_user(s, address, f"{role.value} tester", PASSWORD, role))

    def login(self, user: User, client: TestClient | None = None) -> TestClient:
        """Log `user` in through the real form."""
        http = client or self.client
        response = http.post(
            "/account/login",
            data={"email": user.email, "password": PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return http


def start_site(settings: Settings, clock: Clock) -> Iterator[Site]:
    """Run the app's lifespan around a test client."""
    from consult.web.app import create_app

    app = create_app(settings, clock=clock)
    with TestClient(app, base_url=settings.base_url, follow_redirects=False) as client:
        yield Site(client, clock)


@pytest.fixture
def site(settings: Settings, clock: Clock) -> Iterator[Site]:
    """The application on SQLite and on PostgreSQL."""
    yield from start_site(settings, clock)


@pytest.fixture
def sqlite_site(sqlite_url: str, clock: Clock) -> Iterator[Site]:
    """The application on SQLite only (for tests about the web layer itself)."""
    yield from start_site(make_settings(sqlite_url), clock)


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test fails if the app logged an unhandled error, even if a page was shown."""
    caplog.set_level(logging.ERROR, logger="consult")
    yield
    crashes = [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("consult")
    ]
    assert not crashes, f"unhandled errors: {[r.getMessage() for r in crashes]}"


def htmx_headers(partial: bool = True) -> dict[str, str]:
    """Headers htmx 4 sends for a request that targets a region (or the whole body)."""
    return {"HX-Request": "true", "HX-Request-Type": "partial" if partial else "full"}
