"""The library article as a reader of its contribution cards: arguing as someone, and reading
one card or the votes pressed on it out of the page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from consult.accounts.models import User
from consult.contributions.models import Contribution
from tests.support.site import Site

SLUG = "bibliotheques"
ARTICLE = f"/consultations/{SLUG}/articles/art-1"
TEXT = "Ouvrir le dimanche matin, pour les familles qui travaillent en semaine."


def log_in_as(site: Site, user: User) -> None:
    """`user` alone logged in on the site's client."""
    site.client.cookies.clear()
    site.login(user)


def argue(site: Site, author: User, body: str = TEXT) -> int:
    """An argument for, posted by `author` on the article; its id."""
    log_in_as(site, author)
    response = site.client.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": body})
    assert response.status_code == 303, response.text
    return int(site.scalar(select(func.max(Contribution.id))))


def card_of(page: str, contribution_id: int) -> str:
    """The card of a contribution without replies, as the page shows it."""
    start = page.index(f'<article id="c{contribution_id}"')
    return page[start : page.index("</article>", start)]


def pressed(card_html: str) -> list[str]:
    """The votes shown pressed on a card."""
    return re.findall(r'value="(\w+)" class="vote vote-\w+" aria-pressed="true"', card_html)
