"""Open-data export of a large consultation: time, size and memory while it streams.

    .venv/bin/python -m bench.export [--contributions 1000000] [--database-url URL]

Fills a fresh database (a temporary SQLite file, or the empty database named by
``--database-url``) with a consultation on the demo bill and N synthetic contributions (the
corpus of bench/corpus.py, 100,000 at a time with new ids), then downloads
``/consultations/SLUG/export.zip`` through the application, reading the response as it comes,
and prints the rows per second, the size of the zip, the time to the first bytes and the peak
resident memory of the process during the download against its memory before: an export that
streams keeps that difference to a batch of rows, whatever N.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from sqlalchemy import insert, select

from bench.corpus import make_consultation_corpus
from bench.synthesis import _status_mb, contribution_row, prepare
from consult.bills.models import BillVersion
from consult.contributions.models import Contribution
from consult.db import create_engine, create_session_factory
from consult.demo.seed import DEMO_SLUG
from consult.migrate import downgrade, upgrade
from consult.settings import normalise_database_url

CHUNK = 100_000
INSERT_BATCH = 5_000


async def fill(url: str, total: int) -> float:
    """The consultation with ``total`` contributions; returns the rows inserted per second."""
    engine = create_engine(url)
    factory = create_session_factory(engine)
    try:
        corpus = make_consultation_corpus(min(total, CHUNK), 7)
        consultation_id, _owner, _speed = await prepare(factory, corpus)
        started = time.perf_counter()
        async with factory() as session:
            version_id = await session.scalar(
                select(BillVersion.id).where(BillVersion.consultation_id == consultation_id)
            )
            assert version_id is not None
            for offset in range(CHUNK, total, CHUNK):
                size = min(CHUNK, total - offset)
                for start in range(0, size, INSERT_BATCH):
                    rows = []
                    for c in corpus[start : min(start + INSERT_BATCH, size)]:
                        row = contribution_row(c, consultation_id, version_id)
                        row["id"] = c.id + offset
                        row["external_ref"] = f"bench-{c.id + offset}"
                        rows.append(row)
                    await session.execute(insert(Contribution), rows)
                await session.commit()
        return (total - min(total, CHUNK)) / max(time.perf_counter() - started, 1e-9)
    finally:
        await engine.dispose()


_SERVER = """
import sys, uvicorn
from consult.web.app import create_app
uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _cpu_seconds(pid: str) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_idle(pid: str, timeout: float = 1800) -> None:
    """Wait for the server's start-up work (the sweep that embeds every contribution) to end,
    so that the figures are the export's own."""
    deadline = time.monotonic() + timeout
    previous = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(2)
        current = _cpu_seconds(pid)
        if current - previous < 0.1:
            return
        previous = current


def download(url: str, target: Path) -> tuple[int, float, float, float, float, int]:
    """Bytes, seconds, seconds to the first bytes, the server's resident memory before and its
    peak growth, and the rows of contributions.csv.

    The application runs as its own uvicorn process (configured from the environment, as in
    production), so its memory is measured alone; the zip goes to ``target`` as it arrives.
    """
    import httpx2

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "CONSULT_DATABASE_URL": url,
        "CONSULT_RATE_LIMIT": "100000/minute",
        "CONSULT_SYNTHESIS_PROCESSES": "0",
        "CONSULT_EMBEDDING_MODEL": "hashing",
    }
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", _SERVER, str(port)], env=environment
    )
    pid = str(server.pid)
    size, first = 0, 0.0
    try:
        for _attempt in range(600):
            try:
                httpx2.get(f"{base}/", timeout=1)
                break
            except httpx2.TransportError:
                time.sleep(0.1)
        _wait_until_idle(pid)
        before = _status_mb("VmRSS", pid)
        Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="ascii")
        started = time.perf_counter()
        with (
            httpx2.stream(
                "GET", f"{base}/consultations/{DEMO_SLUG}/export.zip", timeout=3600
            ) as response,
            target.open("wb") as out,
        ):
            assert response.status_code == 200, response.status_code
            for chunk in response.iter_raw():
                if not first:
                    first = time.perf_counter() - started
                out.write(chunk)
                size += len(chunk)
        seconds = time.perf_counter() - started
        peak = _status_mb("VmHWM", pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with zipfile.ZipFile(target) as archive, archive.open("contributions.csv") as rows:
        counted = sum(1 for _row in csv.reader(io.TextIOWrapper(rows, encoding="utf-8"))) - 1
    return size, seconds, first, before, peak - before, counted


def measure(url: str, total: int) -> None:
    started = time.perf_counter()
    speed = asyncio.run(fill(url, total))
    print(
        f"{total:,} contributions inserted in {time.perf_counter() - started:.0f} s "
        f"({speed:,.0f} rows/s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        size, seconds, first, before, extra, counted = download(url, Path(tmp) / "export.zip")
    print(
        f"  export: {size / 2**20:,.1f} MB zip in {seconds:.1f} s "
        f"({counted / seconds:,.0f} contributions/s, first bytes after {first:.2f} s)"
    )
    print(f"  contributions.csv rows: {counted:,} (expected {total:,})")
    print(
        f"  server's resident memory: {before:,.0f} MB before; its peak during the download "
        f"{extra:+,.0f} MB beyond it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contributions", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty database to use (it is emptied)")
    args = parser.parse_args()
    if args.database_url:
        url = normalise_database_url(args.database_url)
        downgrade(url, "base")
        upgrade(url)
        measure(url, args.contributions)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'export.sqlite3'}"
        upgrade(url)
        measure(url, args.contributions)


if __name__ == "__main__":
    main()
