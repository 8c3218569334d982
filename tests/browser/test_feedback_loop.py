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

from consult.answers.models import Answer, AnswerCoverage
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


def _largest_article_group(site: LiveSite) -> tuple[int, str, list[int]]:
    """The largest group of one article in the latest run: its id, its article, its members."""

    async def read() -> tuple[int, str, list[int]]:
        engine = create_engine(site.database_url)
        try:
            async with create_session_factory(engine)() as db:
                run_id = await db.scalar(select(SynthesisRun.id).order_by(SynthesisRun.id.desc()))
                group = await db.scalar(
                    select(SynthesisCluster)
                    .where(
                        SynthesisCluster.run_id == run_id,
                        SynthesisCluster.scope != "",
                        SynthesisCluster.position >= 0,
                    )
                    .order_by(SynthesisCluster.contributions.desc(), SynthesisCluster.id)
                    .limit(1)
                )
                assert group is not None, "the demo's articles form groups"
                members = await db.scalars(
                    select(SynthesisMembership.contribution_id).where(
                        SynthesisMembership.cluster_id == group.id
                    )
                )
                return group.id, group.scope, sorted(members.all())
        finally:
            await engine.dispose()

    # Playwright's own event loop runs in this thread: query from another one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, read()).result()


def _covered_by_group_answer(site: LiveSite, group_id: int) -> list[int]:
    """The contributions the answer given to a group reaches."""

    async def read() -> list[int]:
        engine = create_engine(site.database_url)
        try:
            async with create_session_factory(engine)() as db:
                answer_id = await db.scalar(select(Answer.id).where(Answer.cluster_id == group_id))
                covered = await db.scalars(
                    select(AnswerCoverage.contribution_id).where(
                        AnswerCoverage.answer_id == answer_id
                    )
                )
                return sorted(covered.all())
        finally:
            await engine.dispose()

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

    # The ministry runs the synthesis: a draft that only officials see.
    official = _person(browser, loop_site, _email_of("official"))
    official.goto(f"{base}{CONSULTATION}/synthesis")
    official.get_by_role("button", name="Start a synthesis").click()
    expect(official.get_by_role("link", name="Read the report")).to_be_visible(
        timeout=COMPLETION_MS
    )
    official.get_by_role("link", name="Read the report").click()
    expect(official.get_by_text("Only officials see this synthesis")).to_be_visible()
    group_id, article_key, members = _largest_article_group(loop_site)
    reader = browser.new_context(locale="en-GB").new_page()
    reader.goto(f"{base}{CONSULTATION}/synthesis/articles/{article_key}")
    expect(reader.get_by_text("No synthesis covers this article yet")).to_be_visible()

    # It reviews the article's groups, gives one a title of its own, and publishes.
    official.goto(f"{base}{CONSULTATION}/synthesis/articles/{article_key}")
    group = official.locator(f"#group-{group_id}")
    group.get_by_label("New title").fill("Le montant de l’amende")
    group.get_by_role("button", name="Rename").click()
    expect(official.locator(f"#group-{group_id} h3")).to_contain_text("Le montant de l’amende")
    assert axe_violations(official) == []
    official.get_by_role("button", name="Publish this synthesis").click()
    expect(official.get_by_text("The synthesis is published")).to_be_visible()

    # It answers that group from the synthesis page; the answer reaches its members only.
    official.goto(f"{base}{CONSULTATION}/synthesis/articles/{article_key}")
    official.locator(f"#group-{group_id}").get_by_role("link", name="Answer this group").click()
    expect(official.get_by_text(f"This answer reaches {len(members)} contribution")).to_be_visible()
    official.get_by_label("Partially accepted").check()
    official.get_by_label("Reason").fill("Les propositions de ce groupe sont reprises en partie.")
    official.get_by_role("button", name=re.compile(r"Publish to \d+ contribution")).click()
    official.wait_for_url(re.compile(r".*/inbox(/articles/[\w-]+)?(\?.*)?$"))
    expect(
        official.get_by_role("status").filter(has_text="Your answer is published")
    ).to_be_visible()
    assert _covered_by_group_answer(loop_site, group_id) == members

    # Anyone reads the published synthesis, with the ministry's title and its answer.
    reader.goto(f"{base}{CONSULTATION}/synthesis/articles/{article_key}")
    published_group = reader.locator(f"#group-{group_id}")
    expect(published_group.locator("h3")).to_contain_text("Le montant de l’amende")
    expect(published_group).to_contain_text("Les propositions de ce groupe sont reprises")
    expect(reader.get_by_role("button", name="Publish this synthesis")).to_have_count(0)

    # It accepts the amendment itself.
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
    official.get_by_role("button", name="Review and publish version 2").click()
    official.wait_for_url(f"{base}{CONSULTATION}/versions/next/publish")
    assert axe_violations(official) == []
    official.get_by_label("Why publish it before contributions close?").fill(
        "Le texte doit partir au Conseil d’État avant la clôture."
    )
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
        "li.my-contribution", has=citizen.locator(f'h2 a[href$="/contributions/{amendment_id}"]')
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
