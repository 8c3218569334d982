"""The application under test, driven over HTTP.

Tests reach what the running application holds (its settings, its database sessions, its job
queue, its engine) only through the methods of `Site`, so that a change in how the application
keeps them is followed here, in one place.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx2
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable
from starlette.applications import Starlette
from starlette.testclient import TestClient

from consult.accounts.models import Role, User
from consult.accounts.passwords import TESTS_ONLY_PROFILE
from consult.accounts.services import create_user
from consult.db import utcnow
from consult.jobs import InProcessQueue, JobFunction
from consult.organisations.models import Organisation, OrganisationMember
from consult.organisations.services import MEMBER_ROLES
from consult.settings import Settings
from consult.web.services import Services, services_of_app
from tests.support.client import InLoopTestClient

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
# An organisation that holds none of the test consultations.
OTHER_MINISTRY = "Ministère de l’Intérieur"
OTHER_MINISTRY_SLUG = "interieur"


class Clock:
    """A clock tests can move; the app reads time only through it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: generous rate limits unless a test lowers them, cheap password hashing."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "base_url": "http://testserver",
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "rate_limit": "10000/minute",
        "rate_limit_post": "10000/minute",
        "rate_limit_login": "10000/minute",
        "rate_limit_contribute": "10000/minute",
        "rate_limit_vote": "10000/minute",
        "form_min_seconds": 0,
        # Staff log in with a password only, unless a test of the second factor asks for it.
        "two_factor_for_staff": False,
        "page_cache_seconds": 0,
        "embedding_model": "hashing",
        # Thousands of accounts are created and logged in: Argon2id at a millisecond each.
        "password_hashing": TESTS_ONLY_PROFILE,
        # Clustering in the job's own process; tests of the process pool ask for one.
        "synthesis_processes": 0,
    }
    values.update(overrides)
    return Settings(**values)


def htmx_headers(partial: bool = True) -> dict[str, str]:
    """Headers htmx 4 sends for a request that targets a region (or the whole body)."""
    return {"HX-Request": "true", "HX-Request-Type": "partial" if partial else "full"}


class Site:
    """The running app with an HTTP client and a way to reach its database."""

    def __init__(self, client: TestClient, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        app = client.app
        assert isinstance(app, Starlette)
        self.app = app

    # --- what the running application holds ----------------------------------------------

    @property
    def services(self) -> Services:
        """The application's long-lived parts (settings, database, job queue...)."""
        return services_of_app(self.app)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.services.session_factory

    def call(self, work: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `work(*args)` in the app's event loop and return its result."""
        portal = self.client.portal
        assert portal is not None, "the site's lifespan is not running"
        return portal.call(work, *args)

    def drain_jobs(self) -> None:
        """Wait until every job the app queued in its own process has finished."""
        jobs = self.services.jobs
        assert isinstance(jobs, InProcessQueue), "jobs run on arq workers here"
        self.call(jobs.drain)

    def enqueue_job(self, job: JobFunction, *args: Any) -> None:
        """Queue a job as the app does (a periodic sweep, say)."""
        self.call(self.services.jobs.enqueue, job, *args)

    def statements_during(self, action: Callable[[], object]) -> list[str]:
        """The SQL statements the app sent to its database while `action` ran."""
        engine: AsyncEngine = self.services.started.engine
        statements: list[str] = []

        def record(
            connection: Any,
            cursor: Any,
            statement: str,
            parameters: Any,
            context: Any,
            executemany: bool,
        ) -> None:
            statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            action()
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        return statements

    @contextmanager
    def anonymously(self) -> Iterator[TestClient]:
        """The client with no session cookie for a while (a reader not logged in), then with
        its own again."""
        saved = dict(self.client.cookies)
        self.client.cookies.clear()
        try:
            yield self.client
        finally:
            self.client.cookies.clear()
            self.client.cookies.update(saved)

    @contextmanager
    def restarted(self) -> Iterator[Site]:
        """The same site started again in a fresh app (a new process would start with nothing
        in memory), with this client's cookies."""
        with start_site(self.settings, self.clock) as fresh:
            fresh.client.cookies.update(self.client.cookies)
            yield fresh

    # --- the database ------------------------------------------------------------------

    def db(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` with a session in the app's event loop and commit it."""

        async def run() -> T:
            async with self.session_factory() as session:
                result = await work(session)
                await session.commit()
                return result

        return self.call(run)

    def scalar(self, statement: Executable) -> Any:
        """The first column of the first row `statement` selects."""

        async def read(session: AsyncSession) -> Any:
            return await session.scalar(statement)

        return self.db(read)

    def rows(self, statement: Executable) -> list[tuple[Any, ...]]:
        """Every row `statement` selects, as a tuple."""

        async def read(session: AsyncSession) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in await session.execute(statement)]

        return self.db(read)

    # --- people ------------------------------------------------------------------------

    def user(
        self,
        role: Role = Role.CITIZEN,
        email: str | None = None,
        organisations: Sequence[str] | None = None,
    ) -> User:
        """Create an account with the shared test password. An official or moderator is a
        member of the organisations whose addresses are given, by default of every
        organisation already on the site (the ministry of the site's consultations)."""
        address = email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.org"

        async def create(session: AsyncSession) -> User:
            user = await create_user(session, address, f"{role.value} tester", PASSWORD, role)
            if role in MEMBER_ROLES:
                await join(session, user, organisations)
            return user

        return self.db(create)

    def official_of_another_ministry(self, role: Role = Role.OFFICIAL) -> User:
        """An official (or moderator) of an organisation that holds none of the site's
        consultations, and of no other."""

        async def create(session: AsyncSession) -> User:
            organisation = await session.scalar(
                select(Organisation).where(Organisation.slug == OTHER_MINISTRY_SLUG)
            )
            if organisation is None:
                organisation = Organisation(name=OTHER_MINISTRY, slug=OTHER_MINISTRY_SLUG)
                session.add(organisation)
                await session.flush()
            return organisation

        self.db(create)
        return self.user(role, organisations=[OTHER_MINISTRY_SLUG])

    def login(self, user: User, client: TestClient | None = None) -> TestClient:
        """Log `user` in through the real form (taking a person's time to fill it, when the
        site checks that)."""
        http = client or self.client
        data = {"email": user.email or "", "password": PASSWORD}
        if self.settings.form_min_seconds > 0:
            page = http.get("/account/login").text
            token = re.search(r'name="form_started" value="([^"]+)"', page)
            assert token, "the login form carries its token"
            data["form_started"] = token.group(1)
            self.clock.advance(seconds=self.settings.form_min_seconds)
        response = http.post("/account/login", data=data, follow_redirects=False)
        assert response.status_code == 303, response.text
        return http


async def join(session: AsyncSession, user: User, slugs: Sequence[str] | None = None) -> None:
    """Make `user` a member of the organisations at `slugs` (of every one when None)."""
    query = select(Organisation)
    if slugs is not None:
        query = query.where(Organisation.slug.in_(slugs))
    for organisation in await session.scalars(query):
        session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id))
    await session.flush()


@contextmanager
def start_site(settings: Settings, clock: Clock) -> Iterator[Site]:
    """Run the app's lifespan around a test client."""
    from consult.web.app import create_app

    app = create_app(settings, clock=clock)
    with InLoopTestClient(app, base_url=settings.base_url, follow_redirects=False) as client:
        yield Site(client, clock)


@asynccontextmanager
async def serving(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Starlette]:
    """The application started in the test's own event loop, where requests sent by several
    `browser`s at once are served concurrently, as a server does."""
    from consult.web.app import create_app

    app = create_app(settings, clock=clock or Clock())
    async with app.router.lifespan_context(app):
        yield app


async def browser(
    app: Starlette, email: str | None = None, address: str = "127.0.0.1"
) -> httpx2.AsyncClient:
    """An HTTP client of the served application with cookies of its own, from this client
    address, logged in as the account of `email` (with the shared test password) when one is
    given."""
    http = httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app, client=(address, 50000)),
        base_url="http://testserver",
    )
    if email is not None:
        response = await http.post("/account/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 303, response.text
    return http
