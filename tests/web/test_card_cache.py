"""Contribution cards are rendered once and kept: what a reader sees of them must still be
theirs, current after their own vote, and never the text of a contribution hidden since."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role, User
from consult.contributions.models import Contribution
from tests.support.seeding import read_in_english
from tests.support.site import Site, htmx_headers

SLUG = "bibliotheques"
ARTICLE = f"/consultations/{SLUG}/articles/art-1"
TEXT = "Ouvrir le dimanche matin, pour les familles qui travaillent en semaine."


@pytest.fixture
def english(library: Site) -> Site:
    return read_in_english(library)


def _as(site: Site, user: User) -> None:
    site.client.cookies.clear()
    site.login(user)


def _argue(site: Site, author: User, body: str = TEXT) -> int:
    _as(site, author)
    response = site.client.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": body})
    assert response.status_code == 303, response.text
    return int(site.scalar(select(func.max(Contribution.id))))


def _card(page: str, contribution_id: int) -> str:
    """The card of a contribution without replies, as the page shows it."""
    start = page.index(f'<article id="c{contribution_id}"')
    return page[start : page.index("</article>", start)]


def _pressed(card: str) -> list[str]:
    return re.findall(r'value="(\w+)" class="vote vote-\w+" aria-pressed="true"', card)


def _form_token(card: str) -> str:
    found = re.search(r'name="form_started" value="([^"]+)"', card)
    assert found, "the reply form carries the page's form token"
    return found.group(1)


@pytest.mark.each_database
def test_a_readers_own_vote_forms_and_token_never_reach_another(english: Site) -> None:
    site = english
    author, voter = site.user(), site.user()
    target = _argue(site, author)
    _as(site, voter)
    assert site.client.post(f"{ARTICLE}/contributions/{target}/votes", data={"value": "pour"})
    voters_card = _card(site.client.get(ARTICLE).text, target)
    assert _pressed(voters_card) == ["pour"]
    assert "Withdraw my vote" in voters_card
    assert f'id="report-c{target}"' in voters_card  # someone else's contribution
    # The voter sends an empty reply: the form comes back open with its error, for them.
    refused = site.client.post(f"{ARTICLE}/contributions/{target}/replies", data={"body": " "})
    assert refused.status_code == 422
    assert f'id="error-reply-{target}"' in _card(refused.text, target)

    # The author reads the same card straight after, from the same process.
    _as(site, author)
    authors_card = _card(site.client.get(ARTICLE).text, target)
    assert _pressed(authors_card) == []
    assert "Withdraw my vote" not in authors_card
    assert f'id="report-c{target}"' not in authors_card  # one's own is not reported
    assert f'id="error-reply-{target}"' not in authors_card
    assert '<details class="reply" open>' not in authors_card
    assert _form_token(authors_card) != _form_token(voters_card)
    assert "For 1" in authors_card  # the count is everyone's

    with site.anonymously() as reader:
        readers_card = _card(reader.get(ARTICLE).text, target)
    assert "vote-form" not in readers_card and "form_started" not in readers_card
    assert f'id="report-c{target}"' not in readers_card
    assert "For 1" in readers_card


@pytest.mark.each_database
def test_a_hidden_contributions_text_is_gone_from_every_readers_card(english: Site) -> None:
    site = english
    author, reader = site.user(), site.user()
    target = _argue(site, author)
    _as(site, reader)
    assert TEXT in _card(site.client.get(ARTICLE).text, target)
    with site.anonymously() as anonymous:
        assert TEXT in _card(anonymous.get(ARTICLE).text, target)

    _as(site, site.user(Role.MODERATOR))
    decide = f"/consultations/{SLUG}/moderation/contributions/{target}"
    hid = site.client.post(decide, data={"action": "hide", "reason": "Hors sujet."})
    assert hid.status_code == 303, hid.text

    for who in (reader, author):
        _as(site, who)
        card = _card(site.client.get(ARTICLE).text, target)
        assert TEXT not in card
        assert "Hidden by moderation: Hors sujet." in card
        assert f'id="report-c{target}"' not in card and "form_started" not in card
    with site.anonymously() as anonymous:
        page = anonymous.get(ARTICLE).text
    assert TEXT not in page and "Hidden by moderation: Hors sujet." in _card(page, target)


@pytest.mark.each_database
def test_the_voter_sees_the_count_their_vote_made_at_once(english: Site) -> None:
    site = english
    target = _argue(site, site.user())
    voter, other = site.user(), site.user()
    _as(site, voter)
    vote = f"{ARTICLE}/contributions/{target}/votes"
    assert "For 0" in _card(site.client.get(ARTICLE).text, target)  # kept in the cache

    # Without JavaScript: the vote, then the page it sends back to.
    sent = site.client.post(vote, data={"value": "pour"})
    assert sent.status_code == 303 and sent.headers["location"].endswith(f"#c{target}")
    card = _card(site.client.get(sent.headers["location"]).text, target)
    assert "For 1" in card and _pressed(card) == ["pour"]

    # With htmx: only the widget comes back, with the new count.
    widget = site.client.post(vote, data={"value": "contre"}, headers=htmx_headers())
    assert widget.status_code == 200
    assert widget.text.lstrip().startswith(f'<div id="votes-c{target}"')
    assert "For 0" in widget.text and "Against 1" in widget.text
    assert "<html" not in widget.text
    card = _card(site.client.get(ARTICLE).text, target)
    assert "For 0" in card and "Against 1" in card and _pressed(card) == ["contre"]

    # Someone else's vote shows on the voter's next page.
    _as(site, other)
    site.client.post(vote, data={"value": "contre"})
    _as(site, voter)
    card = _card(site.client.get(ARTICLE).text, target)
    assert "Against 2" in card and _pressed(card) == ["contre"]
