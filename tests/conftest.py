"""Fixtures: a database of its own per test, the ASGI app over HTTP, async tests on asyncio.

Each test's database is a copy of a template seeded once per session (`tests.support.databases`):
empty, the demo, or a small bill open to contributions. Tests run on SQLite; those marked
`each_database` (database-level behaviour: SQL, constraints, concurrency, migrations, workers
sharing a database) run on PostgreSQL too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.db import create_engine, create_session_factory, utcnow
from tests.support.databases import (
    BLANK,
    EMPTY,
    POSTGRESQL,
    SQLITE,
    DatabaseTemplates,
    PostgresServer,
)
from tests.support.greenlet_index import drop_ended_greenlets, index_greenlets_at_c_speed
from tests.support.seeding import seed_fresh_demo, seed_library, seed_running_demo
from tests.support.services import postgres_url
from tests.support.site import Clock, Site, make_settings, start_site
from tests.support.threads import (
    keep_main_greenlets_of_new_threads,
    release_ended_threads_greenlets,
)


def pytest_configure(config: pytest.Config) -> None:
    keep_main_greenlets_of_new_threads()
    index_greenlets_at_c_speed()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """A measurement started before this file was read (pytest-cov starts it that early
    without pytest-xdist) is started again, so that its main thread's tracer gets an index."""
    import coverage

    if (running := coverage.Coverage.current()) is not None:
        running.stop()
        running.start()


def pytest_runtest_logfinish() -> None:
    # The index first: it may hold the last reference to an ended thread's main greenlet.
    drop_ended_greenlets()
    release_ended_threads_greenlets()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames and not _chosen_by_the_test(metafunc):
        kinds: list[object] = [SQLITE]
        if metafunc.definition.get_closest_marker("each_database"):
            kinds.append(pytest.param(POSTGRESQL, marks=pytest.mark.postgres))
        metafunc.parametrize("database_kind", kinds)


def _chosen_by_the_test(metafunc: pytest.Metafunc) -> bool:
    """A test may name its databases itself, with other parameters (`database_kind, role`)."""
    return any(
        "database_kind" in str(marker.args[0])
        for marker in metafunc.definition.iter_markers("parametrize")
    )


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Tests marked `no_cover` run with no tracer at all (decision 0035). pytest-cov pauses its
    own measurement around them, but in a test process started by pytest-xdist another
    measurement then takes over the tracing (coverage resumes the one started before it), so
    what is running is stopped here too, inside pytest-cov's pause, and started again after."""
    if item.get_closest_marker("no_cover") is None:
        yield
        return
    import coverage

    stopped = []
    while (running := coverage.Coverage.current()) is not None:
        running.stop()
        stopped.append(running)
    try:
        yield
    finally:
        for measurement in reversed(stopped):
            measurement.start()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`@pytest.mark.anyio`) run on asyncio, as the application does."""
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """Accounts are hashed at a millisecond, not a fifth of a second, each: those seeded
    straight into a database (the demo's, each test's own), and those of every process a test
    starts (commands, workers, `consult serve`), which read the variable."""
    from consult.accounts.passwords import TESTS_ONLY_PROFILE, use_profile

    os.environ["CONSULT_PASSWORD_HASHING"] = TESTS_ONLY_PROFILE
    use_profile(TESTS_ONLY_PROFILE)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs() -> None:
    """Pages are tested in French and English, so the catalogues must be compiled."""
    from consult.i18n import translations_for
    from consult.locale_build import compile_catalogs

    compile_catalogs()
    translations_for.cache_clear()


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test fails if the app logged an unhandled error, even if a page was shown."""
    caplog.set_level(logging.ERROR, logger="consult")
    yield
    crashes = [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("consult")
    ]
    assert not crashes, f"unhandled errors: {[r.getMessage() for r in crashes]}"


# --- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    templates = DatabaseTemplates(
        tmp_path_factory.mktemp("templates"),
        seeders={
            "fresh_demo": seed_fresh_demo,
            "demo": seed_running_demo,
            "library": seed_library,
        },
        now=utcnow(),
        postgres=lambda: PostgresServer(postgres_url()),
    )
    try:
        yield templates
    finally:
        templates.close()


def _copy(templates: DatabaseTemplates, kind: str, template: str, directory: Path) -> Iterator[str]:
    if kind == SQLITE:
        yield templates.sqlite_copy(template, directory / f"{template}.sqlite3")
        return
    name, url = templates.postgres_copy(template)
    try:
        yield url
    finally:
        templates.postgres.drop(name)


@pytest.fixture
def blank_database_url(
    database_kind: str, database_templates: DatabaseTemplates, tmp_path: Path
) -> Iterator[str]:
    """A database without any table (the migrations build its schema)."""
    yield from _copy(database_templates, database_kind, BLANK, tmp_path)


@pytest.fixture
def database_url(
    database_kind: str, database_templates: DatabaseTemplates, tmp_path: Path
) -> Iterator[str]:
    """An empty database with the current schema."""
    yield from _copy(database_templates, database_kind, EMPTY, tmp_path)


@pytest.fixture
def fresh_demo_url(
    database_kind: str, database_templates: DatabaseTemplates, tmp_path: Path
) -> Iterator[str]:
    """The demo consultation as just seeded: no contribution embedded yet."""
    yield from _copy(database_templates, database_kind, "fresh_demo", tmp_path)


@pytest.fixture
async def fresh_demo_sessions(
    fresh_demo_url: str,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the demo consultation as just seeded (no contribution embedded yet)."""
    engine = create_engine(fresh_demo_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def demo_url(
    database_kind: str, database_templates: DatabaseTemplates, tmp_path: Path
) -> Iterator[str]:
    """The demo consultation with every contribution embedded, as a running site has it."""
    yield from _copy(database_templates, database_kind, "demo", tmp_path)


@pytest.fixture
def library_url(
    database_kind: str, database_templates: DatabaseTemplates, tmp_path: Path
) -> Iterator[str]:
    """The consultation on libraries, open, with its small bill published."""
    yield from _copy(database_templates, database_kind, "library", tmp_path)


# --- the application ---------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def site(database_url: str, clock: Clock) -> Iterator[Site]:
    """The application on an empty database."""
    with start_site(make_settings(database_url), clock) as running:
        yield running


@pytest.fixture
def demo(demo_url: str, clock: Clock) -> Iterator[Site]:
    """The application on the demo consultation."""
    with start_site(make_settings(demo_url), clock) as running:
        yield running


@pytest.fixture
def library(library_url: str, clock: Clock) -> Iterator[Site]:
    """The application on the consultation on libraries, open to contributions."""
    with start_site(make_settings(library_url), clock) as running:
        yield running
