"""The demo served on loopback, and Chromium pages with and without JavaScript."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import chromium, serving
from tests.support.databases import DatabaseTemplates


# Module scope: sync Playwright keeps an event loop running in this thread while it is
# open, so it must be closed before other tests use asyncio.run again.
@pytest.fixture(scope="module")
def live_server(
    database_templates: DatabaseTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The demo site served by uvicorn on a free loopback port."""
    with serving(database_templates, tmp_path_factory.mktemp("browser")) as site:
        yield site.base_url


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator[Any]:
    """Chromium, started after the server (whose setup needs a free event loop)."""
    with chromium() as running:
        yield running


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
