"""Moderation in a browser: three citizens report a contribution (two with JavaScript, one
without), it is hidden pending review, a moderator restores it with a reason from the queue,
and the public moderation log shows the decision."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consult.accounts.services import create_user
from consult.contributions.models import Contribution, ContributionKind
from consult.db import create_engine, create_session_factory
from consult.demo.seed import DEMO_PASSWORD, DEMO_SLUG
from tests.support.browser import LiveSite, axe_violations, chromium, serving
from tests.support.databases import DatabaseTemplates

pytestmark = pytest.mark.browser
CONSULTATION = f"/consultations/{DEMO_SLUG}"
REPORTERS = [f"signalement-{n}@example.org" for n in range(3)]
REASON = "Critique vive, mais sans insulte : elle reste en ligne."


@pytest.fixture(scope="module")
def moderated_site(
    database_templates: DatabaseTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveSite]:
    with serving(database_templates, tmp_path_factory.mktemp("moderation")) as site:
        yield site


@pytest.fixture(scope="module")
def browser(moderated_site: LiveSite) -> Iterator[Any]:
    """Chromium, started after the server (whose setup needs a free event loop)."""
    with chromium() as running:
        yield running


def _prepare(site: LiveSite) -> int:
    """Three citizens of the site, and the argument on article 1 they will report."""

    async def write() -> int:
        engine = create_engine(site.database_url)
        try:
            async with create_session_factory(engine)() as session:
                for n, email in enumerate(REPORTERS):
                    await create_user(session, email, f"Lectrice {n}", DEMO_PASSWORD)
                target = await session.scalar(
                    select(Contribution.id)
                    .where(
                        Contribution.article_key == "art-1",
                        Contribution.kind == ContributionKind.ARGUMENT,
                        Contribution.parent_id.is_(None),
                    )
                    .order_by(Contribution.id)
                    .limit(1)
                )
                await session.commit()
                assert target is not None
                return int(target)
        finally:
            await engine.dispose()

    # Playwright's loop runs in this thread: the database is written from another one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, write()).result()


def _log_in(browser: Any, site: LiveSite, email: str, javascript: bool = True) -> Any:
    context = browser.new_context(locale="en-GB", java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{site.base_url}/account/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.base_url}/")
    return page


def test_three_reports_hide_a_contribution_and_a_moderator_restores_it(
    browser: Any, moderated_site: LiveSite
) -> None:
    site = moderated_site
    target = _prepare(site)
    permalink = f"{site.base_url}{CONSULTATION}/contributions/{target}"

    # Two citizens report it with JavaScript: the form answers in place.
    for email in REPORTERS[:2]:
        page = _log_in(browser, site, email)
        page.goto(permalink)
        panel = page.locator(f"#report-c{target}")
        panel.get_by_text("Report", exact=False).first.click()
        assert axe_violations(page) == []
        panel.get_by_label("Insult or harassment").check()
        panel.get_by_role("button", name="Send my report").click()
        expect(page.locator(f"#report-c{target}")).to_contain_text("your report was sent")
        page.context.close()

    # The third without JavaScript: POST, then the page that says it is recorded.
    page = _log_in(browser, site, REPORTERS[2], javascript=False)
    page.goto(permalink)
    page.locator(f"#report-c{target} summary").click()
    page.get_by_label("Off topic").check()
    page.get_by_role("button", name="Send my report").click()
    page.wait_for_url(f"{permalink}/report")
    expect(page.locator(".alert-success")).to_contain_text("You reported this contribution")
    page.context.close()

    # Hidden pending review, for everyone.
    reader = browser.new_context(locale="en-GB").new_page()
    reader.goto(permalink)
    expect(reader.locator(".hidden-note")).to_contain_text("Hidden pending review")
    reader.context.close()

    # The moderator finds it first in the queue, with its reasons, and restores it.
    page = _log_in(browser, site, "moderation@demo.consult.test")
    page.goto(f"{site.base_url}{CONSULTATION}")
    page.get_by_role("link", name="Moderate the contributions").click()
    item = page.locator(f"#q{target}")
    expect(page.locator(".queue-item").first).to_have_id(f"q{target}")
    expect(item).to_contain_text("Hidden pending review")
    expect(item).to_contain_text("Insult or harassment — 2")
    expect(item).to_contain_text("Off topic — 1")
    assert axe_violations(page) == []
    item.get_by_label("Public reason").fill(REASON)
    item.get_by_role("button", name="Restore").click()
    page.wait_for_url(f"{site.base_url}{CONSULTATION}/moderation#q{target}")
    page.context.close()

    # The public log says what, why and when; the contribution reads as before.
    reader = browser.new_context(locale="fr-FR").new_page()
    reader.goto(f"{site.base_url}{CONSULTATION}/moderation/log")
    rows = reader.locator("table.moderation-log tbody tr")
    expect(rows.first).to_contain_text("Rétablie")
    expect(rows.first).to_contain_text(REASON)
    expect(rows.nth(1)).to_contain_text("Masquée en attente d’examen")
    assert axe_violations(reader) == []
    reader.goto(permalink)
    expect(reader.locator(".hidden-note")).to_have_count(0)
    reader.context.close()
