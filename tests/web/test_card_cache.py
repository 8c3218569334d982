"""Contribution cards are rendered once and kept: what a reader sees of them must still be
theirs, current after their own vote, and never the text of a contribution hidden since."""

from __future__ import annotations

import re

import pytest

from consult.accounts.models import Role
from tests.support.cards import ARTICLE, SLUG, TEXT, argue, card_of, log_in_as, pressed
from tests.support.seeding import read_in_english
from tests.support.site import Site, htmx_headers


@pytest.fixture
def english(library: Site) -> Site:
    return read_in_english(library)


def _form_token(card: str) -> str:
    found = re.search(r'name="form_started" value="([^"]+)"', card)
    assert found, "the reply form carries the page's form token"
    return found.group(1)


@pytest.mark.each_database
def test_a_readers_own_vote_forms_and_token_never_reach_another(english: Site) -> None:
    site = english
    author, voter = site.user(), site.user()
    target = argue(site, author)
    log_in_as(site, voter)
    assert site.client.post(f"{ARTICLE}/contributions/{target}/votes", data={"value": "pour"})
    voters_card = card_of(site.client.get(ARTICLE).text, target)
    assert pressed(voters_card) == ["pour"]
    assert "Withdraw my vote" in voters_card
    assert f'id="report-c{target}"' in voters_card  # someone else's contribution
    # The voter sends an empty reply: the form comes back open with its error, for them.
    refused = site.client.post(f"{ARTICLE}/contributions/{target}/replies", data={"body": " "})
    assert refused.status_code == 422
    assert f'id="error-reply-{target}"' in card_of(refused.text, target)

    # The author reads the same card straight after, from the same process.
    log_in_as(site, author)
    authors_card = card_of(site.client.get(ARTICLE).text, target)
    assert pressed(authors_card) == []
    assert "Withdraw my vote" not in authors_card
    assert f'id="report-c{target}"' not in authors_card  # one's own is not reported
    assert f'id="error-reply-{target}"' not in authors_card
    assert '<details class="reply" open>' not in authors_card
    assert _form_token(authors_card) != _form_token(voters_card)
    assert "For 1" in authors_card  # the count is everyone's

    with site.anonymously() as reader:
        readers_card = card_of(reader.get(ARTICLE).text, target)
    assert "vote-form" not in readers_card and "form_started" not in readers_card
    assert f'id="report-c{target}"' not in readers_card
    assert "For 1" in readers_card


@pytest.mark.each_database
def test_a_hidden_contributions_text_is_gone_from_every_readers_card(english: Site) -> None:
    site = english
    author, reader = site.user(), site.user()
    target = argue(site, author)
    log_in_as(site, reader)
    assert TEXT in card_of(site.client.get(ARTICLE).text, target)
    with site.anonymously() as anonymous:
        assert TEXT in card_of(anonymous.get(ARTICLE).text, target)

    log_in_as(site, site.user(Role.MODERATOR))
    decide = f"/consultations/{SLUG}/moderation/contributions/{target}"
    hid = site.client.post(decide, data={"action": "hide", "reason": "Hors sujet."})
    assert hid.status_code == 303, hid.text

    for who in (reader, author):
        log_in_as(site, who)
        card = card_of(site.client.get(ARTICLE).text, target)
        assert TEXT not in card
        assert "Hidden by moderation: Hors sujet." in card
        assert f'id="report-c{target}"' not in card and "form_started" not in card
    with site.anonymously() as anonymous:
        page = anonymous.get(ARTICLE).text
    assert TEXT not in page and "Hidden by moderation: Hors sujet." in card_of(page, target)


@pytest.mark.each_database
def test_the_voter_sees_the_count_their_vote_made_at_once(english: Site) -> None:
    site = english
    target = argue(site, site.user())
    voter, other = site.user(), site.user()
    log_in_as(site, voter)
    vote = f"{ARTICLE}/contributions/{target}/votes"
    assert "For 0" in card_of(site.client.get(ARTICLE).text, target)  # kept in the cache

    # Without JavaScript: the vote, then the page it sends back to.
    sent = site.client.post(vote, data={"value": "pour"})
    assert sent.status_code == 303 and sent.headers["location"].endswith(f"#c{target}")
    card = card_of(site.client.get(sent.headers["location"]).text, target)
    assert "For 1" in card and pressed(card) == ["pour"]

    # With htmx: only the widget comes back, with the new count.
    widget = site.client.post(vote, data={"value": "contre"}, headers=htmx_headers())
    assert widget.status_code == 200
    assert widget.text.lstrip().startswith(f'<div id="votes-c{target}"')
    assert "For 0" in widget.text and "Against 1" in widget.text
    assert "<html" not in widget.text
    card = card_of(site.client.get(ARTICLE).text, target)
    assert "For 0" in card and "Against 1" in card and pressed(card) == ["contre"]

    # Someone else's vote shows on the voter's next page.
    log_in_as(site, other)
    site.client.post(vote, data={"value": "contre"})
    log_in_as(site, voter)
    card = card_of(site.client.get(ARTICLE).text, target)
    assert "Against 2" in card and pressed(card) == ["contre"]
