"""Faults in production: a worker killed mid-synthesis, Redis emptied mid-run, the database cut.

    .venv/bin/python -m bench.faults [--contributions 3000] [--database-url URL]
                                     [--redis-url URL] [--load-seconds 8]

Starts the product as deploy/ runs it: PostgreSQL, Redis, one web process (`consult serve`) and
one arq worker (`consult worker`), both reaching PostgreSQL through a TCP proxy held by this
process, on a consultation of the demo bill holding `--contributions` synthetic contributions
(bench/corpus.py). The database named by `--database-url` (created if missing) is emptied and
migrated again. Then:

1. a synthesis is started by an official over HTTP and its worker is killed with SIGKILL as soon
   as the run is clustering; a new worker starts at once (systemd's `Restart=on-failure`), and
   the bench prints the time from the kill until the run has succeeded, its attempts, and
   whether it synthesised exactly the contributions it had fixed (arguments posted after the
   kill wait for the next run);
2. a second synthesis is started and the worker's Redis database is emptied (FLUSHDB: the same
   as FLUSHALL for the product, which owns one database; FLUSHALL would also empty the other
   databases of a shared server) while it runs: time until it succeeds;
3. a bounded load of reads (the article page, logged in) and writes (arguments) by concurrent
   citizens over HTTP, during which the proxy cuts every connection to the database and refuses
   new ones for `--load-seconds`, then lets them through again: writes confirmed (303), writes
   lost (confirmed but absent from the database afterwards; target 0), writes answered 503 and
   whether they were saved anyway (a commit that reached the server as the connection fell),
   answers 5xx other than 503 (target 0), and the time from the database's return until reads
   and writes succeed again and `/readyz` says so, without restarting anything.

The whole run takes three to four minutes, most of it the 90 seconds a killed run is given
before it counts as stalled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx2
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.corpus import make_consultation_corpus
from bench.synthesis import prepare
from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.contributions.models import Contribution
from consult.db import create_engine, create_session_factory
from consult.demo.seed import DEMO_PASSWORD, DEMO_SLUG
from consult.migrate import downgrade, upgrade
from consult.settings import normalise_database_url
from consult.synthesis.models import RunStage, RunStatus, SynthesisMembership, SynthesisRun
from consult.synthesis.runs import ids_of_ranges
from tests.support.proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[1]
OFFICIAL = "ministere@bench.consult.test"
ARTICLE = f"/consultations/{DEMO_SLUG}/articles/art-1"
CITIZENS = 8
DEADLINE = 600.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def fresh_database(url: str) -> None:
    """Create the database if it does not exist (through the server's `postgres` database)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = create_engine(
        urlunsplit(parts._replace(path="/postgres")), isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as connection:
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


@dataclass
class Product:
    """The web process and the worker, as deploy/systemd starts them."""

    environment: dict[str, str]
    port: int
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, *arguments: str) -> subprocess.Popen[bytes]:
        log = Path(tempfile.gettempdir()) / f"bench-faults-{arguments[0]}.log"
        self.logs.append(log)
        with log.open("ab") as output:
            return subprocess.Popen(  # noqa: S603 (the product's own command)
                [str(Path(sys.executable).parent / "consult"), *arguments],
                cwd=ROOT,
                env=self.environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def start_web(self) -> None:
        self.web = self._start("serve", "--host", "127.0.0.1", "--port", str(self.port))

    def start_worker(self) -> None:
        self.worker = self._start("worker")

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=30)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


async def until(condition: object, seconds: float = DEADLINE, every: float = 0.05) -> float:
    """Wait until the awaitable factory `condition` returns true; the seconds it took."""
    started = time.perf_counter()
    while not await condition():  # type: ignore[operator]
        if time.perf_counter() - started > seconds:
            raise TimeoutError(f"still not the case after {seconds:.0f} s")
        await asyncio.sleep(every)
    return time.perf_counter() - started


async def logged_in(base_url: str, email: str) -> httpx2.AsyncClient:
    http = httpx2.AsyncClient(base_url=base_url, timeout=60.0)
    response = await http.post("/account/login", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 303, response.text[:300]
    return http


async def read_run(factory: async_sessionmaker[AsyncSession], run_id: int) -> SynthesisRun:
    async with factory() as session:
        run = await session.get(SynthesisRun, run_id)
        assert run is not None
        return run


async def start_synthesis(official: httpx2.AsyncClient) -> int:
    response = await official.post(f"/consultations/{DEMO_SLUG}/synthesis/runs")
    assert response.status_code == 303, response.text[:300]
    return int(response.headers["location"].rsplit("/", 1)[-1])


async def until_stage(
    factory: async_sessionmaker[AsyncSession], run_id: int, stages: tuple[RunStage, ...]
) -> None:
    async def reached() -> bool:
        run = await read_run(factory, run_id)
        assert run.status is not RunStatus.FAILED, run.error
        return run.status is RunStatus.RUNNING and run.stage in stages

    await until(reached)


async def until_done(factory: async_sessionmaker[AsyncSession], run_id: int) -> SynthesisRun:
    async def done() -> bool:
        return (await read_run(factory, run_id)).status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

    await until(done, every=0.2)
    return await read_run(factory, run_id)


async def killed_worker(
    product: Product, factory: async_sessionmaker[AsyncSession], official: httpx2.AsyncClient
) -> None:
    run_id = await start_synthesis(official)
    await until_stage(factory, run_id, (RunStage.CLUSTERING,))
    killed_at = time.perf_counter()
    product.kill_worker()
    product.start_worker()
    late = []
    for n in range(3):
        posted = await official.post(
            f"{ARTICLE}/arguments", data={"stance": "pour", "body": f"Après l’arrêt {n}."}
        )
        assert posted.status_code == 303, posted.text[:300]
        late.append(f"Après l’arrêt {n}.")
    run = await until_done(factory, run_id)
    took = time.perf_counter() - killed_at
    fixed = ids_of_ranges(run.input_ids or [])
    async with factory() as session:
        members = set(
            await session.scalars(
                select(SynthesisMembership.contribution_id).where(
                    SynthesisMembership.run_id == run_id, SynthesisMembership.scope == ""
                )
            )
        )
        late_ids = set(
            await session.scalars(select(Contribution.id).where(Contribution.body.in_(late)))
        )
    print(
        f"worker killed (SIGKILL) while clustering: run {run.status.value} {took:.0f} s after "
        f"the kill (attempts: {run.attempts}; was 12 min 53 s); synthesised "
        f"{len(members):,} contributions, exactly its fixed input: {members == fixed}; "
        f"posted after the kill and left for the next run: {len(late_ids - members)} of "
        f"{len(late_ids)}"
    )


async def flushed_redis(
    factory: async_sessionmaker[AsyncSession], official: httpx2.AsyncClient, redis_url: str
) -> None:
    run_id = await start_synthesis(official)
    started = time.perf_counter()
    await until_stage(
        factory, run_id, (RunStage.EMBEDDING, RunStage.CAMPAIGNS, RunStage.CLUSTERING)
    )
    await empty_redis(redis_url)
    flushed_at = time.perf_counter()
    run = await until_done(factory, run_id)
    done_at = time.perf_counter()
    print(
        f"Redis emptied (FLUSHDB) mid-run: run {run.status.value} {done_at - flushed_at:.0f} s "
        f"after the flush, {done_at - started:.0f} s after it was started (attempts: "
        f"{run.attempts})"
    )


@dataclass
class Load:
    """What the citizens saw."""

    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    confirmed: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    first_read_ok: float | None = None
    first_write_ok: float | None = None
    ready_again: float | None = None
    restored_at: float | None = None


async def citizen(http: httpx2.AsyncClient, number: int, load: Load, stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        page = await http.get(ARTICLE)
        load.answers["read", page.status_code] += 1
        body = f"Charge {number}-{n} : ouvrir le dimanche."
        try:
            posted = await http.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": body})
        except httpx2.HTTPError:
            load.answers["write", 0] += 1
            continue
        load.answers["write", posted.status_code] += 1
        moment = time.perf_counter()
        if posted.status_code == 303:
            load.confirmed.add(body)
        elif posted.status_code == 503:
            load.refused.add(body)
        if load.restored_at is not None and moment > load.restored_at:
            if page.status_code == 200 and load.first_read_ok is None:
                load.first_read_ok = moment
            if posted.status_code == 303 and load.first_write_ok is None:
                load.first_write_ok = moment


async def database_cut(
    product: Product, proxy: TcpProxy, factory: async_sessionmaker[AsyncSession], seconds: float
) -> None:
    load = Load()
    stop = asyncio.Event()
    people = [
        await logged_in(product.base_url, f"citoyen-{n}@bench.consult.test")
        for n in range(CITIZENS)
    ]
    probe = httpx2.AsyncClient(base_url=product.base_url, timeout=10.0)
    tasks = [asyncio.create_task(citizen(http, n, load, stop)) for n, http in enumerate(people)]
    readiness: Counter[int] = Counter()
    try:
        await asyncio.sleep(seconds)
        await proxy.cut()
        cut_at = time.perf_counter()
        while time.perf_counter() - cut_at < seconds:
            readiness[(await probe.get("/readyz")).status_code] += 1
            assert (await probe.get("/healthz")).status_code == 200
            await asyncio.sleep(0.5)
        await proxy.restore()
        load.restored_at = time.perf_counter()

        async def ready() -> bool:
            return (await probe.get("/readyz")).status_code == 200

        await until(ready, every=0.1)
        load.ready_again = time.perf_counter()

        async def recovered() -> bool:
            return load.first_read_ok is not None and load.first_write_ok is not None

        await until(recovered, seconds=120)
        await asyncio.sleep(seconds)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for http in [*people, probe]:
            await http.aclose()
    async with factory() as session:
        stored = set(
            await session.scalars(
                select(Contribution.body).where(Contribution.body.like("Charge %"))
            )
        )
    assert load.restored_at is not None and load.ready_again is not None
    assert load.first_read_ok is not None and load.first_write_ok is not None
    other_5xx = sum(
        count for (_, status), count in load.answers.items() if status >= 500 and status != 503
    )
    writes = {status: count for (kind, status), count in load.answers.items() if kind == "write"}
    reads = {status: count for (kind, status), count in load.answers.items() if kind == "read"}
    recover = max(load.first_read_ok, load.first_write_ok) - load.restored_at
    print(
        f"database cut for {seconds:.0f} s under load ({CITIZENS} citizens reading and "
        f"writing): writes confirmed {len(load.confirmed):,}, writes lost "
        f"{len(load.confirmed - stored)} (target 0), writes answered 503 "
        f"{len(load.refused):,} (saved anyway, their commit having reached the server: "
        f"{len(load.refused & stored)}), 5xx other than 503: {other_5xx} (target 0); "
        f"answers: reads {reads}, writes {writes}; /readyz while cut: {dict(readiness)}, "
        f"/healthz 200 throughout; recovered {recover:.1f} s after the database came back "
        f"(/readyz 200 after {load.ready_again - load.restored_at:.1f} s), without restarting"
    )


@contextlib.asynccontextmanager
async def running(product: Product) -> AsyncIterator[Product]:
    try:
        product.start_web()
        product.start_worker()
        probe = httpx2.AsyncClient(base_url=product.base_url, timeout=5.0)

        async def up() -> bool:
            with contextlib.suppress(httpx2.HTTPError):
                return (await probe.get("/readyz")).status_code == 200
            return False

        await until(up, seconds=120, every=0.2)
        await probe.aclose()
        yield product
    finally:
        product.stop()


async def empty_redis(redis_url: str) -> None:
    """Forget the jobs of an earlier run of the bench: run ids start again at 1 in the fresh
    database, and arq ignores a job id it has already seen."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def measure(database_url: str, redis_url: str, contributions: int, seconds: float) -> None:
    await empty_redis(redis_url)
    await fresh_database(database_url)
    # The migrations run an event loop of their own: in a thread of theirs.
    await asyncio.to_thread(downgrade, database_url, "base")
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    parts = urlsplit(database_url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    try:
        await prepare(factory, make_consultation_corpus(contributions))
        async with factory() as session:
            # The corpus came with its own ids: new contributions are numbered after them.
            await session.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('contributions', 'id'), "
                    "(SELECT max(id) FROM contributions))"
                )
            )
            for n in range(CITIZENS):
                await create_user(
                    session,
                    f"citoyen-{n}@bench.consult.test",
                    "Citoyen",
                    DEMO_PASSWORD,
                    Role.CITIZEN,
                )
            await session.commit()
        port = free_port()
        environment = {
            **os.environ,
            "CONSULT_DATABASE_URL": proxy.url_of(database_url),
            "CONSULT_REDIS_URL": redis_url,
            "CONSULT_BASE_URL": f"http://127.0.0.1:{port}",
            "CONSULT_SECRET_KEY": "bench-faults-secret-key-0123456789abcdef",
            "CONSULT_RATE_LIMIT": "100000/minute",
            "CONSULT_RATE_LIMIT_POST": "100000/minute",
            "CONSULT_RATE_LIMIT_LOGIN": "100000/minute",
            "CONSULT_RATE_LIMIT_CONTRIBUTE": "100000/minute",
            "CONSULT_RATE_LIMIT_VOTE": "100000/minute",
            "CONSULT_FORM_MIN_SECONDS": "0",
            "CONSULT_PAGE_CACHE_SECONDS": "0",
            # The benchmark's official logs in with a password: no second factor to script.
            "CONSULT_TWO_FACTOR_FOR_STAFF": "false",
            "CONSULT_SYNTHESIS_PROCESSES": "1",
        }
        print(
            f"{contributions:,} contributions; PostgreSQL through a TCP proxy, Redis "
            f"{urlsplit(redis_url).path or '/0'}, one web process, one arq worker"
        )
        async with running(Product(environment, port)) as product:
            official = await logged_in(product.base_url, OFFICIAL)
            try:
                await killed_worker(product, factory, official)
                await flushed_redis(factory, official, redis_url)
            finally:
                await official.aclose()
            await database_cut(product, proxy, factory, seconds)
    finally:
        await proxy.close()
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contributions", type=int, default=3000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CONSULT_BENCH_DATABASE_URL",
            "postgresql://postgres@127.0.0.1:5432/consult_bench_faults",
        ),
        help="a PostgreSQL database for the bench (created if missing, emptied)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("CONSULT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="a Redis database the bench may empty",
    )
    parser.add_argument("--load-seconds", type=float, default=8.0)
    args = parser.parse_args()
    for log in Path(tempfile.gettempdir()).glob("bench-faults-*.log"):
        log.unlink()  # the product's output of an earlier run
    asyncio.run(
        measure(
            normalise_database_url(args.database_url),
            args.redis_url,
            args.contributions,
            args.load_seconds,
        )
    )


if __name__ == "__main__":
    main()
