"""The database out of reach: every route answers 503 with Retry-After, the probes tell
liveness from readiness, and the site recovers without a restart, nothing half written."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.contributions.models import Contribution, Vote
from consult.db import create_engine, create_session_factory
from consult.web.services import services_of_app
from tests.support.databases import POSTGRESQL, SQLITE
from tests.support.proxy import TcpProxy
from tests.support.seeding import LIBRARY_SLUG
from tests.support.site import PASSWORD, browser, make_settings, serving

pytestmark = pytest.mark.anyio
ARTICLE = f"/consultations/{LIBRARY_SLUG}/articles/art-1"
API = f"/api/v1/consultations/{LIBRARY_SLUG}"
AUTHORS = 6
ARGUMENTS = 60
AT_ONCE = 8


def assert_unavailable(response: httpx2.Response) -> None:
    """A calm 503 asking to retry, with the headers of every page."""
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert int(response.headers["retry-after"]) > 0
    assert "traceback" not in response.text.lower()
    if response.headers["content-type"].startswith("text/html"):
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"


@pytest.fixture
async def proxy(library_url: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(library_url)
    running = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def app(proxy: TcpProxy, library_url: str) -> AsyncIterator[Starlette]:
    async with serving(make_settings(proxy.url_of(library_url))) as application:
        yield application


async def people(app: Starlette) -> list[httpx2.AsyncClient]:
    factory = services_of_app(app).session_factory
    emails = [f"author-{n}@example.org" for n in range(AUTHORS)]
    async with factory() as session:
        for email in emails:
            await create_user(session, email, "Author", PASSWORD, Role.CITIZEN)
        await session.commit()
    return [await browser(app, email) for email in emails]


@pytest.mark.parametrize("database_kind", [pytest.param(POSTGRESQL, marks=pytest.mark.postgres)])
async def test_a_cut_database_answers_503_then_everything_recovers_with_nothing_half_written(
    app: Starlette, proxy: TcpProxy, library_url: str
) -> None:
    authors = await people(app)
    first = authors[0]
    posted = await first.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Avant."})
    assert posted.status_code == 303
    async with services_of_app(app).session_factory() as session:
        target = await session.scalar(select(func.max(Contribution.id)))

    # Arguments and votes in flight, the connection cut once a few are answered.
    answers: dict[str, int] = {}
    votes: Counter[int] = Counter()
    turns = anyio.Semaphore(AT_ONCE)
    answered = anyio.Event()

    async def argue(n: int) -> None:
        body = f"Argument numéro {n} sur l’ouverture le dimanche."
        async with turns:
            http = authors[n % AUTHORS]
            response = await http.post(
                f"{ARTICLE}/arguments", data={"stance": "contre", "body": body}
            )
            vote = await http.post(
                f"{ARTICLE}/contributions/{target}/votes",
                data={"value": ["pour", "contre", "mitige", ""][n % 4]},
            )
        for reply in (response, vote):
            assert reply.status_code in (303, 503), (reply.status_code, reply.text[:300])
            if reply.status_code == 503:
                assert_unavailable(reply)
        answers[body] = response.status_code
        votes[vote.status_code] += 1
        if len(answers) == ARGUMENTS // 4:
            answered.set()

    async def cut_when_answered() -> None:
        await answered.wait()
        await proxy.cut()

    async with anyio.create_task_group() as requests:
        requests.start_soon(cut_when_answered)
        for n in range(ARGUMENTS):
            requests.start_soon(argue, n)
    confirmed = {body for body, status in answers.items() if status == 303}
    refused = {body for body, status in answers.items() if status == 503}
    assert confirmed and refused, Counter(answers.values())

    # While cut: pages, forms and the API answer 503; the process is alive but not ready.
    french = await first.get(ARTICLE)
    assert_unavailable(french)
    assert "Momentanément indisponible" in french.text
    assert_unavailable(await first.get("/"))
    english = await first.get(ARTICLE, headers={"Accept-Language": "en"})
    assert_unavailable(english)
    assert "Temporarily unavailable" in english.text
    assert_unavailable(
        await first.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Pendant."})
    )
    api = await first.get(API)
    assert_unavailable(api)
    assert api.json() == {"error": "temporarily unavailable, try again later"}
    anonymous = await browser(app)
    assert_unavailable(await anonymous.get(ARTICLE))
    assert (await anonymous.get("/healthz")).status_code == 200
    ready = await anonymous.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}

    # Back: the same process serves again, reads and writes.
    await proxy.restore()
    assert (await anonymous.get("/readyz")).json() == {"status": "ok", "database": "ok"}
    assert (await first.get(ARTICLE)).status_code == 200
    after = await first.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Après."})
    assert after.status_code == 303
    assert (await first.get(API)).status_code == 200

    # Every confirmed write is there, once; a refused one is absent, or (its commit reached the
    # server as the connection fell) there whole; every vote counter equals its rows.
    engine = create_engine(library_url)  # straight to the server, not through the proxy
    try:
        async with create_session_factory(engine)() as session:
            stored = Counter(
                await session.scalars(
                    select(Contribution.body).where(Contribution.body.like("Argument numéro%"))
                )
            )
            target_row = await session.get(Contribution, target)
            assert target_row is not None
            rows = Counter(
                await session.scalars(select(Vote.value).where(Vote.contribution_id == target))
            )
    finally:
        await engine.dispose()
    assert all(count == 1 for count in stored.values()), stored
    assert confirmed <= set(stored), confirmed - set(stored)
    assert set(stored) <= confirmed | refused
    counted = (target_row.votes_for, target_row.votes_mixed, target_row.votes_against)
    assert counted == (rows["pour"], rows["mitige"], rows["contre"])
    for http in [*authors, anonymous]:
        await http.aclose()


@pytest.mark.parametrize("database_kind", [SQLITE])
async def test_a_sqlite_file_out_of_reach_answers_503_until_it_is_back(
    library_url: str, tmp_path: Path
) -> None:
    """SQLite's file where it cannot be opened (its folder gone), then put back."""
    original = Path(urlsplit(library_url).path)
    folder = tmp_path / "mounted"
    missing = folder / "consult.sqlite3"
    settings = make_settings(f"sqlite+aiosqlite:///{missing}")
    async with serving(settings) as app:
        http = await browser(app)
        assert_unavailable(await http.get(ARTICLE))
        assert_unavailable(await http.get("/"))
        assert_unavailable(await http.get(API))
        login = await http.post("/account/login", data={"email": "x@example.org", "password": "x"})
        assert_unavailable(login)
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert (ready.status_code, ready.json()["database"]) == (503, "unreachable")

        folder.mkdir()
        shutil.copyfile(original, missing)
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get(ARTICLE)).status_code == 200
        await http.aclose()
        author = await browser(app, f"owner-{LIBRARY_SLUG}@example.org")
        posted = await author.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Là."})
        assert posted.status_code == 303
        await author.aclose()


@pytest.mark.parametrize("database_kind", [SQLITE])
async def test_integrity_and_programming_errors_stay_errors(library_url: str) -> None:
    """Only an outage is a 503: a bug is still a 500 (and logged as one)."""
    from sqlalchemy import exc as sa

    from consult.outages import unreachable_service

    unique = sa.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    syntax = sa.ProgrammingError("SELEC", {}, Exception("syntax error"))
    assert unreachable_service(unique) is None
    assert unreachable_service(syntax) is None
    assert unreachable_service(ValueError("bad")) is None
    assert unreachable_service(ConnectionRefusedError(111, "refused")) == "database"
    import sqlite3

    opened = sa.OperationalError("x", {}, sqlite3.OperationalError("unable to open database file"))
    assert unreachable_service(opened) == "database"
    missing_table = sa.OperationalError("x", {}, sqlite3.OperationalError("no such table: x"))
    assert unreachable_service(missing_table) is None
