"""Taking part in a real browser: select and annotate, amend, vote; by mouse, keyboard, no JS."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from consult.demo.seed import DEMO_SLUG
from tests.support.browser import axe_violations, log_in_as_citizen

pytestmark = pytest.mark.browser
ARTICLE = f"/consultations/{DEMO_SLUG}/articles/art-4"


def log_in(page: Any, live_server: str, index: int = 0) -> None:
    log_in_as_citizen(page, live_server, ARTICLE, index)


def register(page: Any, live_server: str) -> None:
    """A newcomer creates an account from the article and comes back to it."""
    page.goto(f"{live_server}/account/register?next={ARTICLE}")
    page.get_by_label("Adresse électronique").fill("nouvelle@example.org")
    page.get_by_label("Nom public").fill("Nouvelle citoyenne")
    page.get_by_label("Mot de passe").fill("une phrase de passe solide")
    page.get_by_label("J’accepte les conditions d’utilisation", exact=False).check()
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url(re.compile(rf"^{re.escape(live_server + ARTICLE)}\?welcome=1$"))
    expect(page.locator("#welcome")).to_be_visible()


def select_with_mouse(page: Any, alinea: int, width: int = 160) -> str:
    text = page.locator(f"#art-4-al-{alinea} .alinea-text")
    box = text.bounding_box()
    y = box["y"] + 8
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + width, y, steps=8)
    page.mouse.up()
    return str(page.evaluate("window.getSelection().toString()")).strip()


def test_register_select_with_the_mouse_annotate_amend_and_vote(
    page: Any, live_server: str
) -> None:
    register(page, live_server)
    assert axe_violations(page) == []
    quote = select_with_mouse(page, 1)
    assert len(quote) > 3
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    toolbar.get_by_role("button", name="Annoter").click()
    expect(page.locator("#annotate-quote")).to_have_value(re.compile(re.escape(quote[:10])))
    expect(page.locator("#annotate-body")).to_be_focused()
    assert axe_violations(page) == []
    page.locator("#annotate-body").fill("Passage important, à préciser.")
    page.locator("#annotate-form").get_by_role("button", name="Publier mon annotation").click()
    page.wait_for_url(re.compile(r".*#c\d+$"))
    new_id = page.url.rsplit("#c", 1)[1]
    card = page.locator(f"#c{new_id}")
    expect(card).to_contain_text("Passage important, à préciser.")
    expect(page.locator(f'a.passage-ref[href="#c{new_id}"]').first).to_be_visible()

    # Amend the same words: the form comes pre-filled, the preview shows the diff.
    select_with_mouse(page, 1, width=90)
    page.get_by_role("toolbar").get_by_role("button", name="Amender").click()
    new_text = page.locator("#amend-new")
    expect(new_text).to_be_focused()
    new_text.fill("Dans un délai raisonnable")
    page.locator("#amend-body").fill("Plus souple.")
    page.get_by_role("button", name="Aperçu").click()
    expect(page.locator(".amendment-preview ins").first).to_be_visible()
    assert axe_violations(page) == []
    before = page.url
    page.get_by_role("button", name="Publier mon amendement").click()
    page.wait_for_url(lambda url: url != before and re.search(r"#c\d+$", url) is not None)
    expect(page.locator(page.url[page.url.rindex("#") :]).locator(".wording")).to_contain_text(
        "remplacer les mots"
    )

    # Vote without a page reload: the counts and the pressed state change in place.
    page.evaluate("window.__stillHere = true")
    votes = page.locator(f"#votes-c{new_id}")
    votes.get_by_role("button", name="Pour").click()
    expect(votes.get_by_role("button", name="Pour")).to_have_attribute("aria-pressed", "true")
    expect(votes.locator(".tally-pour")).to_have_text("Pour 1")
    votes.get_by_role("button", name="Contre").click()
    expect(votes.locator(".tally-contre")).to_have_text("Contre 1")
    expect(votes.locator(".tally-pour")).to_have_text("Pour 0")
    assert page.evaluate("window.__stillHere") is True
    assert axe_violations(page) == []


def test_annotate_with_the_keyboard_only(page: Any, live_server: str) -> None:
    log_in(page, live_server, index=1)
    button = page.get_by_role("button", name="Choisir un passage au clavier")
    button.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")  # alinéa 2
    expect(page.locator("#art-4-al-2")).to_be_focused()
    page.keyboard.press("Enter")  # start choosing words: the first word
    page.keyboard.press("ArrowRight")  # the second word
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")  # three words
    chosen = str(page.evaluate("window.getSelection().toString()"))
    assert len(chosen.split()) == 3
    page.keyboard.press("Enter")  # confirm: focus goes to the toolbar
    expect(page.get_by_role("toolbar").get_by_role("button", name="Annoter")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#annotate-body")).to_be_focused()
    page.keyboard.type("Au clavier seulement.")
    page.keyboard.press("Tab")  # the preview button, then the publish button
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Publier mon annotation")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*#c\d+$"))
    card = page.locator(page.url[page.url.rindex("#") :])
    expect(card).to_contain_text("Au clavier seulement.")
    expect(card.locator(".quote")).to_contain_text(chosen.strip())


def test_take_part_without_javascript(browser: Any, live_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    try:
        log_in(page, live_server)
        expect(page.get_by_role("button", name="Choisir un passage au clavier")).to_be_hidden()
        page.locator("#annotate summary").click()
        page.locator("#annotate-alinea").select_option("1")
        words = page.locator("#art-4-al-1 .alinea-text").inner_text().split()[2:5]
        page.locator("#annotate-quote").fill(" ".join(words))
        page.locator("#annotate-body").fill("Sans JavaScript.")
        page.locator("#annotate-form").get_by_role("button", name="Publier mon annotation").click()
        page.wait_for_url(re.compile(r".*#c\d+$"))
        new_id = page.url.rsplit("#c", 1)[1]
        expect(page.locator(f"#c{new_id}")).to_contain_text("Sans JavaScript.")

        page.locator("#annotate summary").click()
        page.locator("#annotate-quote").fill("des mots qui ne sont pas dans le texte")
        page.locator("#annotate-body").fill("Mon texte reste là.")
        page.locator("#annotate-form").get_by_role("button", name="Publier mon annotation").click()
        expect(page.locator("#error-annotate-quote")).to_be_visible()
        expect(page.locator("#annotate-body")).to_have_value("Mon texte reste là.")

        page.locator(f"#votes-c{new_id}").get_by_role("button", name="Mitigé").click()
        page.wait_for_url(re.compile(rf".*#c{new_id}$"))
        expect(page.locator(f"#votes-c{new_id} .tally-mitige")).to_have_text("Mitigé 1")
    finally:
        context.close()
