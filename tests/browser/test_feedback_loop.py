"""The whole loop in a browser: a citizen amends and votes, the synthesis runs, the ministry
answers a group and accepts the amendment, publishes version 2 and the feedback, and the citizen
finds the outcome on "my contributions", in the changes of version 2 and by email."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consult.db import create_engine, create_session_factory
from consult.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_SLUG
from consult.synthesis.models import SynthesisCluster, SynthesisMembership, SynthesisRun
from tests.support.browser import LiveSite, axe_violations, chromium, serving
from tests.support.databases import DatabaseTemplates
from tests.support.mail import MailServer, mail_server

pytestmark = pytest.mark.browser
CONSULTATION = f"/consultations/{DEMO_SLUG}"
ARTICLE = f"{CONSULTATION}/articles/art-1"
COMPLETION_MS = 180_000
REASON = "Le terme « assurer » dit mieux l’obligation qui pèse sur l’administration."


@pytest.fixture(scope="module")
def mailbox() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


@pytest.fixture(scope="module")
def loop_site(
    database_templates: DatabaseTemplates,
    tmp_path_factory: pytest.TempPathFactory,
    mailbox: MailServer,
) -> Iterator[LiveSite]:
    with serving(
        database_templates,
        tmp_path_factory.mktemp("loop"),
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
    ) as site:
        yield site


@pytest.fixture(scope="module")
def browser(loop_site: LiveSite) -> Iterator[Any]:
    """Chromium, started after the server (whose setup needs a free event loop)."""
    with chromium() as running:
        yield running


def _person(browser: Any, site: LiveSite, email: str | None) -> Any:
    """A page of someone's own browser (English), logged in when ``email`` is given."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    if email:
        page.goto(f"{site.base_url}/account/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{site.base_url}/")
    return page


def _email_of(role: str) -> str:
    return next(a.email for a in DEMO_ACCOUNTS if a.role.value == role)


def _cluster_holding(site: LiveSite, contribution_id: int) -> int:
    """A group of the latest run holding the contribution (its article's, else the whole
    consultation's); the consultation's largest group if it is in none (an "other")."""

    async def read() -> int:
        engine = create_engine(site.database_url)
        try:
            async with create_session_factory(engine)() as db:
                run_id = await db.scalar(select(SynthesisRun.id).order_by(SynthesisRun.id.desc()))
                holding = await db.scalar(
                    select(SynthesisCluster.id)
                    .join(
                        SynthesisMembership,
                        SynthesisMembership.cluster_id == SynthesisCluster.id,
                    )
                    .where(
                        SynthesisMembership.run_id == run_id,
                        SynthesisMembership.contribution_id == contribution_id,
                        SynthesisCluster.position >= 0,
                    )
                    .order_by(SynthesisCluster.scope.desc())
                    .limit(1)
                )
                if holding is not None:
                    return int(holding)
                largest = await db.scalar(
                    select(SynthesisCluster.id).where(
                        SynthesisCluster.run_id == run_id,
                        SynthesisCluster.scope == "",
                        SynthesisCluster.position == 0,
                    )
                )
                assert largest is not None
                return int(largest)
        finally:
            await engine.dispose()

    # Playwright's own event loop runs in this thread: query from another one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, read()).result()


def test_a_citizen_follows_her_amendment_from_writing_to_the_next_version(
    browser: Any, loop_site: LiveSite, mailbox: MailServer
) -> None:
    inbox = mailbox.inbox
    base = loop_site.base_url

    # A citizen amends article 1 and votes for it.
    citizen = _person(browser, loop_site, _email_of("citizen"))
    citizen.goto(base + ARTICLE)
    citizen.get_by_text("Propose an amendment").click()
    citizen.get_by_label("What the amendment does").select_option("replace_words")
    citizen.get_by_label("Alinéa concerned").select_option("1")
    citizen.get_by_label("The current words").fill("garantir")
    citizen.get_by_label("The new wording").fill("assurer")
    citizen.get_by_label("Why (exposé)").fill("« Assurer » marque mieux l’obligation.")
    citizen.get_by_role("button", name="Publish my amendment").click()
    citizen.wait_for_url(re.compile(r".*posted=\d+.*"))
    posted = re.search(r"posted=(\d+)", citizen.url)
    assert posted, citizen.url
    amendment_id = int(posted.group(1))
    votes = citizen.locator("#article_votes")
    votes.get_by_role("button", name="For").click()
    expect(votes.get_by_role("button", name="For")).to_have_attribute("aria-pressed", "true")

    # The ministry runs the synthesis.
    official = _person(browser, loop_site, _email_of("official"))
    official.goto(f"{base}{CONSULTATION}/synthesis")
    official.get_by_role("button", name="Start a synthesis").click()
    expect(official.get_by_role("link", name="Read the report")).to_be_visible(
        timeout=COMPLETION_MS
    )

    # It answers the group holding the amendment, then accepts the amendment itself.
    official.goto(f"{base}{CONSULTATION}/inbox")
    assert axe_violations(official) == []
    group = _cluster_holding(loop_site, amendment_id)
    official.goto(f"{base}{CONSULTATION}/answers/cluster/{group}")
    expect(
        official.get_by_text(re.compile(r"This answer reaches \d+ contribution"))
    ).to_be_visible()
    official.get_by_label("Partially accepted").check()
    official.get_by_label("Reason").fill("Les propositions de ce groupe sont reprises en partie.")
    official.get_by_role("button", name=re.compile(r"Publish to \d+ contribution")).click()
    official.wait_for_url(re.compile(r".*/inbox(/articles/[\w-]+)?$"))
    official.goto(f"{base}{CONSULTATION}/answers/contribution/{amendment_id}")
    official.get_by_label("Accepted", exact=True).check()
    official.get_by_label("Reason").fill(REASON)
    official.get_by_role("button", name="Publish to 1 contribution").click()
    override = official.get_by_label("Give this contribution an answer of its own")
    if override.count():  # the group's answer covered it: confirm the override
        override.check()
        official.get_by_role("button", name="Publish to 1 contribution").click()
    official.wait_for_url(re.compile(r".*/inbox/articles/art-1.*"))

    # Version 2 takes the amendment.
    official.goto(f"{base}{CONSULTATION}/versions/next")
    assert axe_violations(official) == []
    official.get_by_label(re.compile(rf"Amendment #{amendment_id}\b")).check()
    official.get_by_role("button", name="Update the text").click()
    official.get_by_role("button", name="Publish version 2").click()
    official.wait_for_url(f"{base}{CONSULTATION}/versions/2/changes")
    changed = official.locator("ins.by-amendment", has_text="assurer")
    expect(changed).to_be_visible()
    assert axe_violations(official) == []

    # The consultation is closed, answered and its feedback published.
    official.goto(f"{base}{CONSULTATION}/inbox")
    for button in (
        "Close the contributions now",
        "Mark the consultation as answered",
        "Publish the feedback",
    ):
        official.get_by_role("button", name=button).click()
        official.wait_for_url(f"{base}{CONSULTATION}")
        official.goto(f"{base}{CONSULTATION}/inbox")
    official.goto(base + CONSULTATION)
    expect(official.locator(".badge.phase-published")).to_be_visible()

    # The citizen sees the outcome on her list, in the changes of version 2, and by email.
    citizen.goto(f"{base}/account/contributions")
    entry = citizen.locator(
        "li.my-contribution", has=citizen.locator(f'a:text-is("#{amendment_id}")')
    )
    expect(entry.locator(".badge.state-accepted")).to_be_visible()
    expect(entry).to_contain_text("dit mieux l’obligation")
    citizen.goto(f"{base}{CONSULTATION}/contributions/{amendment_id}")
    expect(citizen.locator(".changed-words ins", has_text="assurer")).to_be_visible()
    citizen.goto(f"{base}{CONSULTATION}/versions/2/changes")
    expect(citizen.locator(f'sup.origin a:text-is("#{amendment_id}")').first).to_be_visible()
    messages = [
        m
        for m, to in zip(inbox.messages, inbox.recipients, strict=True)
        if to == [_email_of("citizen")]
    ]
    assert messages, "the citizen was not emailed"
    assert any(
        "Retenue" in m.get_content() and str(amendment_id) in m.get_content() for m in messages
    )

    # Anyone reads the feedback, without JavaScript too.
    reader = browser.new_context(locale="en-GB", java_script_enabled=False).new_page()
    reader.goto(f"{base}{CONSULTATION}/feedback")
    expect(reader.get_by_role("heading", name="What became of the contributions")).to_be_visible()
    expect(reader.get_by_text("What changed in the text, and why")).to_be_visible()
    assert axe_violations(citizen) == []
