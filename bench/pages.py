"""Page throughput: consult's pages against a bare Starlette app serving the same bytes.

    .venv/bin/python -m bench.pages [--requests 2000] [--concurrency 16]

Both servers run under uvicorn in threads of this process, on loopback; the load client is a
separate process so that it does not compete with the servers. The ratio of consult's
requests/s to the bare app's is the figure that carries over between machines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from consult.db import create_engine, create_session_factory
from consult.demo.seed import DEMO_SLUG, seed_demo
from consult.migrate import upgrade
from consult.settings import Settings, normalise_database_url

PAGES = ["/", f"/consultations/{DEMO_SLUG}", f"/consultations/{DEMO_SLUG}/articles/art-3"]
HEADER = ("database", "page", "server", "req/s", "p50 ms", "p95 ms", "ratio")
ROW = "{:<11}{:<52}{:<9}{:>8}{:>9}{:>9}{:>7}"


def serve(app: Any, port: int) -> Any:
    """Start uvicorn on 127.0.0.1:port in a daemon thread."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", access_log=False)
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def load(
    url: str,
    requests: int,
    concurrency: int,
    method: str = "GET",
    body: str = "",
    cookie: str = "",
) -> dict[str, float]:
    """Run the load client in a child process and read its figures."""
    command = [sys.executable, "-m", "bench.client", url, str(requests), str(concurrency)]
    command += [method, body, cookie]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    rps, p50, p95, errors = (float(x) for x in output.split())
    return {"rps": rps, "p50": p50, "p95": p95, "errors": errors}


async def seed(database_url: str) -> None:
    """Seed the demo consultation."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            await seed_demo(session)
            await session.commit()
    finally:
        await engine.dispose()


def measure(name: str, database_url: str, port: int, requests: int, concurrency: int) -> None:
    """Print the figures of every page on one database."""
    from consult.web.app import create_app

    upgrade(database_url)
    asyncio.run(seed(database_url))
    settings = Settings(
        database_url=database_url,
        base_url=f"http://127.0.0.1:{port}",
        rate_limit="1000000/minute",
        rate_limit_post="1000000/minute",
    )
    consult_server = serve(create_app(settings), port)
    try:
        for page in PAGES:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}") as response:
                body = response.read()
            bare_server = serve(
                Starlette(routes=[Route(page, lambda _request, b=body: HTMLResponse(b))]), port + 1
            )
            ours = load(f"http://127.0.0.1:{port}{page}", requests, concurrency)
            bare = load(f"http://127.0.0.1:{port + 1}{page}", requests, concurrency)
            bare_server.should_exit = True
            time.sleep(0.3)
            ratio = f"{ours['rps'] / bare['rps']:.2f}"
            for label, figures, shown_ratio in (("consult", ours, ratio), ("bare", bare, "")):
                print(
                    ROW.format(
                        name,
                        page,
                        label,
                        f"{figures['rps']:.0f}",
                        f"{figures['p50']:.1f}",
                        f"{figures['p95']:.1f}",
                        shown_ratio,
                    )
                )
            if ours["errors"]:
                print(f"  ! consult answered {ours['errors']:.0f} errors under load")
    finally:
        consult_server.should_exit = True
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print(ROW.format(*HEADER))
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        measure("sqlite", sqlite, 18700, args.requests, args.concurrency)
    postgres = os.environ.get("CONSULT_BENCH_DATABASE_URL")
    if postgres:
        measure(
            "postgresql", normalise_database_url(postgres), 18702, args.requests, args.concurrency
        )
    else:
        print("postgresql: set CONSULT_BENCH_DATABASE_URL (an empty database) to measure it")


if __name__ == "__main__":
    main()
