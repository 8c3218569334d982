"""République numérique's scale, replayed: python -m bench.replay.

    .venv/bin/python -m bench.replay [--scale 1.0] [--web-processes 2] [--workers 1]
        [--users 20] [--max-seconds 300] [--postgres postgresql://postgres@127.0.0.1:5432]
        [--redis-url redis://127.0.0.1:6379/0] [--model ""] [--password-hashing rfc9106]

The 2015 consultation had 21,000 participants, 8,500 contributions and 147,000 votes in three
weeks. This replays them at `--scale` within `--max-seconds`, on loopback:

1. a fresh PostgreSQL database, `consult_replay_<random>` on the `--postgres` server, migrated,
   holding the République numérique bill (its 2015 text) open to contributions and the
   citizens' accounts, inserted in bulk with one argon2 hash computed beforehand;
2. the product as deploy/ runs it: `consult serve --workers N` (N web processes) and M
   `consult worker` processes on the `--redis-url` Redis database (use one of its own: the
   bench deletes its arq and rate-limit keys), with rate limits raised for one machine
   sending everybody's requests (CONSULT_RATE_LIMIT*: every request comes from 127.0.0.1) and
   the form timing check off (CONSULT_FORM_MIN_SECONDS=0, as for any scripted client);
3. Locust (bench/replay/locustfile.py) logs every account in once, reads, votes and argues
   until the scaled votes and contributions were all sent, with anonymous readers beside
   them and bursts of twice as many people; then the bench waits until the workers have
   embedded every contribution;
4. it prints each endpoint's throughput, P50/P95/P99 and errors beside the targets, what the
   database holds afterwards, the load average and the CPU time of each part, then drops
   the database.

Needs the `bench` extra (`pip install -e '.[bench]'`, for Locust), PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psutil
from sqlalchemy import func, select

from bench.replay.seed import (
    PASSWORD,
    SLUG,
    contribution_texts,
    create_database,
    database_name,
    drop_database,
    seed,
    with_database,
)
from consult.accounts.passwords import (
    LIGHTER_PROFILE,
    STANDARD_PROFILE,
    current_profile,
    use_profile,
)
from consult.contributions.models import Contribution, Vote
from consult.db import create_engine, create_session_factory
from consult.migrate import upgrade
from consult.nlp.embed import embedder_from_setting
from consult.synthesis.backlog import EmbeddingBacklog

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
FULL = {"accounts": 21_000, "contributions": 8_500, "votes": 147_000}
TARGET_SECONDS = 300.0
TARGET_P99_MS = 300.0
EMBEDDING_DEADLINE = 900.0
GENEROUS = "1000000/minute"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Product:
    """The web processes and the workers, started as deploy/systemd starts them."""

    environment: dict[str, str]
    port: int
    web_processes: int
    workers: int
    logs: Path
    processes: list[tuple[str, subprocess.Popen[bytes]]]

    def start(self) -> None:
        consult = str(Path(sys.executable).parent / "consult")
        serve = [consult, "serve", "--port", str(self.port), "--workers", str(self.web_processes)]
        self._spawn("web", serve)
        for number in range(self.workers):
            self._spawn(f"worker-{number + 1}", [consult, "worker"])

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 (the product's own command)
                command, cwd=ROOT, env=self.environment, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes.append((name, process))

    def wait_until_ready(self, seconds: float = 180.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} stopped: see {self.logs / name}.log")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"http://127.0.0.1:{self.port}/readyz").status_code == 200:
                    return
            time.sleep(0.5)
        raise TimeoutError("the web processes did not become ready")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) of each part so far, children included."""
        spent: dict[str, float] = {}
        for name, process in self.processes:
            role = "web" if name == "web" else "workers"
            spent[role] = spent.get(role, 0.0) + _cpu_of_tree(process.pid)
        return spent

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _cpu_of_tree(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


@dataclass(frozen=True)
class Endpoint:
    name: str
    requests: int
    failures: int
    per_second: float
    p50: float
    p95: float
    p99: float


def read_stats(prefix: Path) -> list[Endpoint]:
    """Locust's per-endpoint figures (its CSV), the aggregate last."""
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as table:
        rows = list(csv.DictReader(table))

    def number(row: dict[str, str], column: str) -> float:
        value = row.get(column) or "0"
        return float(value) if value != "N/A" else float("nan")

    return [
        Endpoint(
            name=row["Name"] if row["Name"] != "Aggregated" else "all requests",
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            per_second=number(row, "Requests/s"),
            p50=number(row, "50%"),
            p95=number(row, "95%"),
            p99=number(row, "99%"),
        )
        for row in rows
    ]


async def database_counts(url: str, model: str) -> tuple[int, int, int, float]:
    """Contributions, votes and contributions not yet embedded; waits (within a deadline)
    until every contribution is embedded and says how long that took."""
    engine = create_engine(url)
    factory = create_session_factory(engine)
    backlog = EmbeddingBacklog(embedder_from_setting(model).model_id)
    started = time.perf_counter()
    try:
        while True:
            async with factory() as session:
                missing = await backlog.count(session)
            if missing == 0 or time.perf_counter() - started > EMBEDDING_DEADLINE:
                break
            await asyncio.sleep(1.0)
        waited = time.perf_counter() - started
        async with factory() as session:
            contributions = await session.scalar(select(func.count()).select_from(Contribution))
            votes = await session.scalar(select(func.count()).select_from(Vote))
        return int(contributions or 0), int(votes or 0), missing, waited
    finally:
        await engine.dispose()


async def forget_redis_keys(redis_url: str) -> None:
    """The arq jobs and the rate-limit counters of the bench's Redis database."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        for pattern in ("arq:*", "consult-limits*"):
            keys = [key async for key in client.scan_iter(match=pattern)]
            if keys:
                await client.delete(*keys)
    finally:
        await client.aclose()


def mark(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def report(
    endpoints: list[Endpoint],
    seconds: float,
    scale: float,
    held: tuple[int, int, int, float],
    expected: dict[str, int],
    cpu: dict[str, float],
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
    options: argparse.Namespace,
    seeded_seconds: float,
    login_ms: float,
) -> None:
    contributions, votes, missing, waited = held
    print()
    print(
        f"République numérique replay at scale {scale:g}: {expected['accounts']:,} accounts, "
        f"{expected['contributions']:,} contributions, {expected['votes']:,} votes to send; "
        f"{options.web_processes} web processes, {options.workers} workers, "
        f"{options.users} people online (bursts of {2 * options.users}), PostgreSQL + Redis on "
        f"loopback, embedder {options.model or 'use'}"
    )
    print(f"accounts inserted in bulk in {seeded_seconds:.1f} s")
    print()
    columns = ("requests", "req/s", "P50", "P95", "P99", "errors")
    header = (
        f"{'endpoint':<58} {columns[0]:>8} {columns[1]:>7} "
        + " ".join(f"{column:>6}" for column in columns[2:])
        + f"  P99 ≤ {TARGET_P99_MS:.0f} ms"
    )
    print(header)
    print("-" * len(header))
    for endpoint in endpoints:
        within = endpoint.p99 <= TARGET_P99_MS
        print(
            f"{endpoint.name:<58} {endpoint.requests:>8,} {endpoint.per_second:>7.1f} "
            f"{endpoint.p50:>6.0f} {endpoint.p95:>6.0f} {endpoint.p99:>6.0f} "
            f"{endpoint.failures:>6}  {mark(within)}"
        )
    total = endpoints[-1]

    def sent(*fragments: str) -> int:
        named = [e for e in endpoints[:-1] if any(f in e.name for f in fragments)]
        return sum(e.requests for e in named)

    came = sent("POST /account/login")
    share = came / expected["accounts"]
    # What the whole consultation would take at the throughput reached (writes scale with it).
    projected = seconds / (scale * share) if share else float("inf")
    print()
    print(f"{'figure':<46} {'measured':>22}  target")
    print(
        f"{'accounts that came (logged in, took part)':<46} {came:>13,} / {expected['accounts']:,}"
        f"  all{'' if share >= 1 else ' (stopped at --max-seconds)'}"
    )
    print(f"{'replay time (this scale)':<46} {seconds:>20.0f} s")
    print(
        f"{'replay time at full scale (projected)':<46} {projected:>20.0f} s  "
        f"≤ {TARGET_SECONDS:.0f} s: {mark(projected <= TARGET_SECONDS)}"
    )
    print(f"{'errors':<46} {total.failures:>22,}  0: {mark(total.failures == 0)}")
    slow = [e.name for e in endpoints[:-1] if e.p99 > TARGET_P99_MS]
    print(f"{'endpoints with P99 over 300 ms':<46} {len(slow):>22}  0: {mark(not slow)}")
    arguments = sent("/arguments")
    print(f"{'contributions stored / sent':<46} {contributions:>13,} / {arguments:,}")
    print(f"{'votes stored / sent':<46} {votes:>13,} / {sent('/votes'):,}")
    print(
        f"{'contributions without a vector afterwards':<46} {missing:>22,}  0: "
        f"{mark(missing == 0)} ({waited:.0f} s after the load ended)"
    )
    before, after = loads
    print()
    print(
        f"machine: {os.cpu_count()} cores; load average before {before[0]:.2f} / "
        f"{before[1]:.2f} / {before[2]:.2f}, after {after[0]:.2f} / {after[1]:.2f} / "
        f"{after[2]:.2f} (1 / 5 / 15 min)"
    )
    spent = ", ".join(f"{role} {value:.0f} s" for role, value in cpu.items())
    cores = os.cpu_count() or 1
    print(
        f"CPU time during the replay: {spent}, of the {cores * seconds:.0f} s the {cores} cores "
        f"had over {seconds:.0f} s"
    )
    # The same work on a machine the product has to itself: the CPU it needed, spread over
    # every core (what the shared machine's load hides).
    product = cpu.get("web", 0.0) + cpu.get("workers", 0.0)
    if total.requests and share:
        per_request = product / total.requests
        whole = per_request * total.requests / (scale * share)
        print(
            f"the product's CPU per request: {per_request * 1000:.0f} ms; the whole consultation "
            f"(≈ {total.requests / (scale * share):,.0f} requests) needs ≈ {whole:,.0f} CPU-s: "
            f"≈ {whole / cores:,.0f} s on {cores} cores the product had to itself "
            f"(≤ {TARGET_SECONDS:.0f} s: {mark(whole / cores <= TARGET_SECONDS)})"
        )
    logins = login_ms * FULL["accounts"] / 1000
    print(
        f"one login's password check (argon2, {current_profile()}): {login_ms:.0f} ms of "
        f"CPU here; the {FULL['accounts']:,} logins of the whole consultation: ≈ {logins:,.0f} "
        f"CPU-s, ≈ {logins / cores:,.0f} s on {cores} cores"
    )


def login_cpu_ms(rounds: int = 5) -> float:
    """CPU milliseconds of one argon2 verification with the product's parameters, here."""
    from argon2 import PasswordHasher

    from consult.accounts.passwords import _hasher

    hasher: PasswordHasher = _hasher
    digest = hasher.hash(PASSWORD)
    started = time.process_time()
    for _ in range(rounds):
        hasher.verify(digest, PASSWORD)
    return (time.process_time() - started) / rounds * 1000


def scaled(scale: float) -> dict[str, int]:
    return {name: max(1, round(count * scale)) for name, count in FULL.items()}


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    name = database_name()
    asyncio.run(create_database(server, name))
    try:
        yield with_database(server, name)
    finally:
        asyncio.run(drop_database(server, name))


def main() -> None:
    arguments = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__)
    arguments.add_argument("--scale", type=float, default=1.0)
    arguments.add_argument("--web-processes", type=int, default=2)
    arguments.add_argument("--workers", type=int, default=1)
    arguments.add_argument("--users", type=int, default=20, help="people online between bursts")
    arguments.add_argument("--max-seconds", type=float, default=TARGET_SECONDS)
    arguments.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    arguments.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    arguments.add_argument("--model", default="", help="CONSULT_EMBEDDING_MODEL (default: USE)")
    arguments.add_argument("--keep-logs", type=Path, default=None)
    arguments.add_argument(
        "--password-hashing",
        default=STANDARD_PROFILE,
        choices=[STANDARD_PROFILE, LIGHTER_PROFILE],
        help="CONSULT_PASSWORD_HASHING of the product, and of the accounts' seeded hash",
    )
    options = arguments.parse_args()
    use_profile(options.password_hashing)
    expected = scaled(options.scale)
    work = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    try:
        with fresh_database(options.postgres) as url:
            run(options, expected, url, work)
    finally:
        if options.keep_logs is not None:
            shutil.copytree(work, options.keep_logs, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def run(options: argparse.Namespace, expected: dict[str, int], url: str, work: Path) -> None:
    upgrade(url)
    seeded = asyncio.run(seed(url, expected["accounts"]))
    texts = work / "texts.jsonl"
    contribution_texts(texts, count=expected["contributions"])
    asyncio.run(forget_redis_keys(options.redis_url))
    environment = {
        **os.environ,
        "CONSULT_DATABASE_URL": url,
        "CONSULT_REDIS_URL": options.redis_url,
        "CONSULT_SECRET_KEY": "replay-secret-key-long-enough-0123456789",
        "CONSULT_EMBEDDING_MODEL": options.model,
        "CONSULT_SYNTHESIS_PROCESSES": "0",  # no synthesis is run: no clustering processes
        "CONSULT_FORM_MIN_SECONDS": "0",
        "CONSULT_LOG_LEVEL": "warning",
        "CONSULT_METRICS_DIRECTORY": str(work / "metrics"),
        "CONSULT_PASSWORD_HASHING": options.password_hashing,
        **{
            f"CONSULT_RATE_LIMIT{suffix}": GENEROUS
            for suffix in ("", "_POST", "_LOGIN", "_CONTRIBUTE", "_VOTE")
        },
    }
    product = Product(environment, free_port(), options.web_processes, options.workers, work, [])
    product.start()
    try:
        product.wait_until_ready()
        load = {
            **environment,
            "REPLAY_SLUG": SLUG,
            "REPLAY_ARTICLES": ",".join(seeded.articles),
            "REPLAY_ACCOUNTS": str(expected["accounts"]),
            "REPLAY_VOTES": str(expected["votes"]),
            "REPLAY_CONTRIBUTIONS": str(expected["contributions"]),
            "REPLAY_PASSWORD": PASSWORD,
            "REPLAY_USERS": str(options.users),
            "REPLAY_TEXTS": str(texts),
        }
        stats = work / "locust"
        loads_before = os.getloadavg()
        cpu_before = product.cpu_seconds()
        started, children_before = time.perf_counter(), os.times()
        locust = subprocess.run(  # noqa: S603 (Locust from this environment)
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(2 * options.users),
                "--spawn-rate",
                str(2 * options.users),
                "--host",
                f"http://127.0.0.1:{product.port}",
                "--run-time",
                f"{options.max_seconds:.0f}s",
                "--csv",
                str(stats),
                "--only-summary",
                "--loglevel",
                "WARNING",
                "--stop-timeout",
                "30",
            ],
            cwd=ROOT,
            env=load,
            stdout=(work / "locust.log").open("wb"),
            stderr=subprocess.STDOUT,
            check=False,
        )
        seconds = time.perf_counter() - started
        cpu_after = product.cpu_seconds()
        cpu = {role: cpu_after[role] - cpu_before.get(role, 0.0) for role in cpu_after}
        children = os.times()  # Locust is the only child waited for so far
        cpu["load generator (Locust)"] = (
            children.children_user
            + children.children_system
            - children_before.children_user
            - children_before.children_system
        )
        held = asyncio.run(database_counts(url, options.model))
        loads_after = os.getloadavg()
        if locust.returncode not in (0, 1):  # 1: some requests failed, reported below
            print((work / "locust.log").read_text()[-3000:], file=sys.stderr)
        report(
            read_stats(stats),
            seconds,
            options.scale,
            held,
            expected,
            cpu,
            (loads_before, loads_after),
            options,
            seeded.seconds_for_accounts,
            login_cpu_ms(),
        )
    finally:
        product.stop()
        asyncio.run(forget_redis_keys(options.redis_url))


if __name__ == "__main__":
    main()
