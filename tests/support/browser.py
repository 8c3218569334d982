"""A real server on loopback, and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
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

from consult.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.support.databases import DatabaseTemplates
from tests.support.site import make_settings

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
def serving(templates: DatabaseTemplates, directory: Path, **overrides: Any) -> Iterator[LiveSite]:
    """The demo site, as just seeded, served by uvicorn on a free loopback port (settings
    ``overrides``)."""
    import uvicorn

    from consult.web.app import create_app

    url = templates.sqlite_copy("fresh_demo", directory / "consult.sqlite3")
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


ASSERTION_WAIT_MS = 20_000


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium (a failure instead of a skip when CI requires the browser tests)."""
    if not (Path(CHROMIUM).exists() and shutil.which("chromium")):
        message = "browser tests need Debian's chromium (apt-get install chromium)"
        if os.environ.get("CONSULT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for what they check; Playwright's 5-second default fails them when
    # several test processes share two busy cores, though the page comes right in the end.
    expect.set_options(timeout=ASSERTION_WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any) -> list[str]:
    """The WCAG 2.1 A and AA rules axe-core finds broken on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            # The nodes of the rules that pass are not sent back: a third of each check's time.
            "resultTypes": ["violations"],
        },
    )
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


def log_in_as_citizen(page: Any, live_server: str, next_path: str, index: int = 0) -> None:
    """Log one of the demo's citizens in through the French form, back to `next_path`."""
    citizen = [a for a in DEMO_ACCOUNTS if a.role.value == "citizen"][index]
    page.goto(f"{live_server}/account/login?next={next_path}")
    page.get_by_label("Adresse électronique").fill(citizen.email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(rf"^{re.escape(live_server + next_path)}$"))
