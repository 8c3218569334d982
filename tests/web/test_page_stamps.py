"""The article page is kept for every reader under the article's stamp, which the database keeps:
whatever changes what the page shows, through the site or in SQL by hand, is seen at once by a
reader who had the page kept; and what is one reader's own never reaches another."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, User
from consult.contributions.models import Contribution
from consult.demo.seed import DEMO_SLUG
from tests.support.cards import ARTICLE, SLUG, TEXT, argue, card_of, log_in_as, pressed
from tests.support.seeding import REASON, read_in_english
from tests.support.site import PASSWORD, Site, htmx_headers


@pytest.fixture
def english(library: Site) -> Site:
    return read_in_english(library)


def _read(site: Site, url: str = ARTICLE) -> str:
    page = site.client.get(url)
    assert page.status_code == 200, page.text
    return page.text


def _article_widget(page: str) -> str:
    start = page.index('<div id="article_votes"')
    return page[start : page.index("</div>", start)]


def _tokens(page: str) -> set[str]:
    return set(re.findall(r'name="form_started" value="([^"]+)"', page))


def _kept_pages(site: Site) -> int:
    from consult.web.fragments import renderer_of

    return len(renderer_of(site.services.templates).pages.entries)


# --- what a logged-in page costs ----------------------------------------------------------


def test_a_logged_in_page_read_again_asks_the_database_three_things(english: Site) -> None:
    """The session, the consultation with its phases, and the article's stamp with the
    reader's votes: nothing else while nothing the page shows has changed."""
    site = english
    argue(site, site.user())
    log_in_as(site, site.user())
    first = site.statements_during(lambda: _read(site))
    again = site.statements_during(lambda: _read(site))
    assert len(again) <= 3, again
    assert len(first) > len(again) + 5  # the first reading built the page
    assert any("page_stamps" in statement for statement in again)


# --- stale pages: every write path is seen at once -----------------------------------------


@pytest.mark.each_database
def test_another_persons_vote_is_seen_at_once(english: Site) -> None:
    site = english
    target = argue(site, site.user())
    reader, voter = site.user(), site.user()
    log_in_as(site, reader)
    assert "For 0" in card_of(_read(site), target)
    log_in_as(site, voter)
    assert site.client.post(f"{ARTICLE}/contributions/{target}/votes", data={"value": "pour"})
    assert site.client.post(f"/consultations/{SLUG}/articles/art-1/votes", data={"value": "contre"})
    log_in_as(site, reader)
    page = _read(site)
    assert "For 1" in card_of(page, target)
    assert "Against 1" in _article_widget(page)
    assert pressed(page) == []  # the voter's votes are theirs


@pytest.mark.each_database
def test_a_new_contribution_and_a_reply_are_seen_at_once(english: Site) -> None:
    site = english
    reader = site.user()
    log_in_as(site, reader)
    assert TEXT not in _read(site)
    target = argue(site, site.user())
    log_in_as(site, reader)
    assert TEXT in card_of(_read(site), target)

    log_in_as(site, site.user())
    replied = site.client.post(
        f"{ARTICLE}/contributions/{target}/replies", data={"body": "Et le samedi soir ?"}
    )
    assert replied.status_code == 303, replied.text
    log_in_as(site, reader)
    assert "Et le samedi soir ?" in _read(site)


@pytest.mark.each_database
def test_a_moderators_decision_is_seen_at_once(english: Site) -> None:
    site = english
    target = argue(site, site.user())
    reader = site.user()
    log_in_as(site, reader)
    assert TEXT in _read(site)
    log_in_as(site, site.user(Role.MODERATOR))
    decide = f"/consultations/{SLUG}/moderation/contributions/{target}"
    hid = site.client.post(decide, data={"action": "hide", "reason": "Hors sujet."})
    assert hid.status_code == 303, hid.text
    log_in_as(site, reader)
    page = _read(site)
    assert TEXT not in page
    assert "Hidden by moderation: Hors sujet." in card_of(page, target)


@pytest.mark.each_database
def test_a_closed_accounts_pseudonym_is_gone_at_once(english: Site) -> None:
    site = english
    author = site.user()
    target = argue(site, author)
    reader = site.user()
    log_in_as(site, reader)
    assert "citizen tester" in card_of(_read(site), target)
    log_in_as(site, author)
    closed = site.client.post(
        "/account/close", data={"password": PASSWORD, "contributions": "keep"}
    )
    assert closed.status_code == 200, closed.text
    log_in_as(site, reader)
    card = card_of(_read(site), target)
    assert "citizen tester" not in card and "Deleted account" in card


@pytest.mark.each_database
def test_a_new_version_is_seen_at_once(demo: Site) -> None:
    site = read_in_english(demo)
    base = f"/consultations/{DEMO_SLUG}"
    article = f"{base}/articles/art-5"
    reader = site.user()
    log_in_as(site, reader)
    assert "Version 1 of the bill" in _read(site, article)
    amendment = int(site.scalar(select(Contribution.id).where(Contribution.external_ref == "c038")))
    log_in_as(site, site.user(Role.OFFICIAL))
    answered = site.client.post(
        f"{base}/answers/contribution/{amendment}",
        data={"state": "accepted", "reason": REASON, "action": "publish", "override": "1"},
    )
    assert answered.status_code == 303, answered.text
    assert site.client.post(f"{base}/versions/next", data={"amendment": str(amendment)})
    published = site.client.post(
        f"{base}/versions/next/publish", data={"number": "2", "reason": "Avant la clôture."}
    )
    assert published.status_code == 303, published.text
    log_in_as(site, reader)
    page = _read(site, article)
    assert "Version 2 of the bill" in page and "trente jours" in page


@pytest.mark.each_database
def test_a_write_made_in_sql_by_hand_is_seen_at_once(english: Site) -> None:
    """The triggers count it: no code of the site had to say that something changed."""
    site = english
    target = argue(site, site.user())
    log_in_as(site, site.user())
    assert TEXT in _read(site)

    async def edit(session: AsyncSession) -> None:
        await session.execute(
            update(Contribution).where(Contribution.id == target).values(body="Texte corrigé.")
        )

    site.db(edit)
    page = _read(site)
    assert TEXT not in page and "Texte corrigé." in card_of(page, target)

    async def count(session: AsyncSession) -> None:
        await session.execute(
            text("UPDATE contributions SET votes_against = 7 WHERE id = :id"), {"id": target}
        )

    site.db(count)
    assert "Against 7" in card_of(_read(site), target)


# --- one reader's own parts never reach another ---------------------------------------------


@pytest.mark.each_database
def test_a_kept_page_carries_nothing_of_the_reader_it_was_built_for(english: Site) -> None:
    site = english
    author, voter = site.user(), site.user()
    target = argue(site, author)
    log_in_as(site, voter)
    assert site.client.post(f"{ARTICLE}/contributions/{target}/votes", data={"value": "pour"})
    assert site.client.post(f"{ARTICLE}/votes", data={"value": "mitige"})
    voters_page = _read(site)
    assert pressed(card_of(voters_page, target)) == ["pour"]
    assert pressed(_article_widget(voters_page)) == ["mitige"]
    assert f'id="report-c{target}"' in voters_page
    kept = _kept_pages(site)

    # The author reads the page the voter's reading kept (nothing changed since).
    log_in_as(site, author)
    authors_page = _read(site)
    assert _kept_pages(site) == kept
    assert pressed(authors_page) == []
    assert f'id="report-c{target}"' not in authors_page  # one's own is not reported
    assert _tokens(authors_page) and not _tokens(authors_page) & _tokens(voters_page)
    assert "Withdraw my vote" not in authors_page

    with site.anonymously() as reader:
        anonymous = reader.get(ARTICLE).text
    assert "vote-form" not in anonymous and "form_started" not in anonymous
    assert "report-c" not in anonymous and "Log in</a>" in anonymous


def test_a_reader_who_may_not_take_part_yet_is_told_so_on_a_kept_page(english: Site) -> None:
    site = english

    async def require_confirmed_email(session: AsyncSession) -> None:
        await session.execute(
            text("UPDATE consultations SET participation_requires = 1 WHERE slug = :slug"),
            {"slug": SLUG},
        )

    site.db(require_confirmed_email)
    confirmed = site.user()

    async def confirm(session: AsyncSession) -> None:
        await session.execute(
            update(User).where(User.id == confirmed.id).values(verification_level=1)
        )

    site.db(confirm)
    unconfirmed = site.user()

    async def unconfirm(session: AsyncSession) -> None:
        await session.execute(
            update(User).where(User.id == unconfirmed.id).values(verification_level=0)
        )

    site.db(unconfirm)
    log_in_as(site, confirmed)
    assert 'action="' + ARTICLE + '/arguments"' in _read(site)
    log_in_as(site, unconfirmed)
    page = _read(site)
    assert "confirm their email address" in page
    assert 'action="' + ARTICLE + '/arguments"' not in page


def test_a_region_of_a_kept_page_is_filled_in_for_its_reader(english: Site) -> None:
    site = english
    target = argue(site, site.user())
    log_in_as(site, site.user())
    assert site.client.post(f"{ARTICLE}/contributions/{target}/votes", data={"value": "contre"})
    region = site.client.get(f"{ARTICLE}?region=contributions", headers=htmx_headers())
    assert region.status_code == 200
    assert "<html" not in region.text and region.text.lstrip().startswith('<div id="contributions"')
    assert pressed(card_of(region.text, target)) == ["contre"]
    assert "<consult-slot" not in region.text


def test_the_layout_around_a_kept_page_is_the_readers_own(english: Site) -> None:
    """Its menu follows the reader's role, and its scripts carry this response's nonce."""
    site = english
    log_in_as(site, site.user(Role.OFFICIAL))
    officials = site.client.get(ARTICLE)
    assert "New consultation" in officials.text
    log_in_as(site, site.user())
    first, second = site.client.get(ARTICLE), site.client.get(ARTICLE)
    assert "New consultation" not in first.text and "Log out" in first.text
    nonces = []
    for response in (first, second):
        policy = re.search(r"'nonce-([^']+)'", response.headers["content-security-policy"])
        assert policy, response.headers["content-security-policy"]
        assert f'nonce="{policy.group(1)}"' in response.text
        nonces.append(policy.group(1))
    assert nonces[0] != nonces[1]
    with site.anonymously() as reader:
        anonymous = reader.get(ARTICLE).text
    assert "Log out" not in anonymous and "Create an account" in anonymous
