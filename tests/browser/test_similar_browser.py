"""Similar contributions shown while a citizen writes, by htmx, and on the preview step without
JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from consult.demo.seed import DEMO_SLUG
from tests.support.browser import log_in_as_citizen

pytestmark = pytest.mark.browser
ARTICLE = f"/consultations/{DEMO_SLUG}/articles/art-4"

PUBLISHED = (
    "Les notes de présentation devraient être relues par des citoyens tirés au sort "
    "avant toute publication officielle."
)
CLOSE_TO_PUBLISHED = (
    "Je voudrais que des citoyens tirés au sort relisent les notes de présentation "
    "avant leur publication officielle."
)
UNRELATED = "Les horaires des piscines municipales sont trop courts pendant tout l’été."
# A demo annotation of article 4, and the same idea in other words.
DEMO_ANNOTATION = "Qui juge de la clarté ?"
CLOSE_TO_DEMO_ANNOTATION = (
    "Qui juge de la clarté de la note ? Je propose qu’un panel de lecteurs non juristes "
    "relise la note de présentation avant sa publication."
)


def annotate_first_alinea(page: Any, body: str, action: str) -> None:
    """Fill the annotation form without selecting words, then press `action`."""
    page.locator("#annotate summary").click()
    page.locator("#annotate-alinea").select_option("1")
    words = page.locator("#art-4-al-1 .alinea-text").inner_text().split()[2:5]
    page.locator("#annotate-quote").fill(" ".join(words))
    page.locator("#annotate-body").fill(body)
    page.locator("#annotate-form").get_by_role("button", name=action).click()


@pytest.fixture(scope="module")
def published_id(browser: Any, live_server: str) -> str:
    """An annotation that a first citizen published on article 4 (its vector is stored by
    the embedding job queued on publication)."""
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    try:
        log_in_as_citizen(page, live_server, ARTICLE, index=0)
        annotate_first_alinea(page, PUBLISHED, "Publier mon annotation")
        page.wait_for_url(re.compile(r".*#c\d+$"))
        return str(page.url).rsplit("#c", 1)[1]
    finally:
        context.close()


def link_to(contribution_id: str) -> str:
    return f'a[href$="/consultations/{DEMO_SLUG}/contributions/{contribution_id}"]'


def test_similar_contributions_appear_while_typing(
    page: Any, live_server: str, published_id: str
) -> None:
    log_in_as_citizen(page, live_server, ARTICLE, index=1)
    page.evaluate("window.__stillHere = true")
    page.locator("#annotate summary").click()
    similar = page.locator("#annotate-similar")

    page.locator("#annotate-body").fill(CLOSE_TO_PUBLISHED)
    expect(similar.locator(link_to(published_id))).to_be_visible(timeout=10_000)
    expect(similar.locator(".similar-excerpt").first).to_have_text(PUBLISHED)

    page.locator("#annotate-body").fill(UNRELATED)
    expect(similar.locator("a")).to_have_count(0, timeout=10_000)
    assert page.evaluate("window.__stillHere") is True


def test_preview_shows_similar_contributions_and_publishing_works_without_javascript(
    no_js_page: Any, live_server: str, published_id: str
) -> None:
    page = no_js_page
    log_in_as_citizen(page, live_server, ARTICLE, index=1)
    annotate_first_alinea(page, CLOSE_TO_PUBLISHED, "Aperçu")
    expect(page.locator("#annotate-preview-title")).to_be_visible()
    expect(page.locator("#annotate-similar").locator(link_to(published_id))).to_be_visible()

    page.locator("#annotate-form").get_by_role("button", name="Publier mon annotation").click()
    page.wait_for_url(re.compile(r".*#c\d+$"))
    new_id = page.url.rsplit("#c", 1)[1]
    expect(page.locator(f"#c{new_id}")).to_contain_text(CLOSE_TO_PUBLISHED)


def test_demo_contributions_are_found_as_soon_as_the_demo_starts(
    page: Any, live_server: str
) -> None:
    log_in_as_citizen(page, live_server, ARTICLE, index=1)
    card = page.locator("article.contribution", has_text=DEMO_ANNOTATION).first
    demo_id = str(card.get_attribute("id")).removeprefix("c")
    page.locator("#annotate summary").click()
    page.locator("#annotate-body").fill(CLOSE_TO_DEMO_ANNOTATION)
    expect(page.locator("#annotate-similar").locator(link_to(demo_id))).to_be_visible(
        timeout=10_000
    )
