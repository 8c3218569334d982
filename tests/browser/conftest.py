"""A real server on loopback and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from consult.db import create_engine, create_session_factory
from consult.demo.seed import seed_demo
from consult.migrate import upgrade
from tests.conftest import make_settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveSite:
    """A site served on loopback: its address and its database."""

    base_url: str
    database_url: str


@contextmanager
def serving(directory: Path, **overrides: Any) -> Iterator[LiveSite]:
    """The demo site served by uvicorn on a free loopback port (settings ``overrides``)."""
    import uvicorn

    from consult.web.app import create_app

    url = f"sqlite+aiosqlite:///{directory / 'consult.sqlite3'}"
    upgrade(url)

    async def seed() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                await seed_demo(session)
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(seed())
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = make_settings(url, base_url=base_url, **overrides)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveSite(base_url, url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# Module scope: sync Playwright keeps an event loop running in this thread while it is
# open, so it must be closed before other tests use asyncio.run again.
@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo site served by uvicorn on a free loopback port."""
    with serving(tmp_path_factory.mktemp("browser")) as site:
        yield site.base_url


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator[Any]:
    """Chromium, started after the server (whose setup needs a free event loop)."""
    if not (Path(CHROMIUM).exists() and shutil.which("chromium")):
        message = "browser tests need Debian's chromium (apt-get install chromium)"
        if os.environ.get("CONSULT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page with JavaScript, as most people browse."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message: Any) -> None:
        # A 4xx answer is expected (422 form errors); CSP violations and script errors are not.
        expected = message.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        )
        if message.type == "error" and not expected:
            errors.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors or CSP violations: {errors}"


@pytest.fixture
def no_js_page(browser: Any) -> Iterator[Any]:
    """A page with JavaScript disabled."""
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    yield context.new_page()
    context.close()
