"""Answering a questionnaire in Chromium: with JavaScript (sent in place, errors shown where the
form is) and without (plain form posts), coming back to edit; no overflow on a phone, no axe
violation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from consult.db import create_engine, create_session_factory, utcnow
from consult.demo.questionnaire import QUESTIONNAIRE_SLUG, seed_questionnaire_demo
from tests.support.browser import axe_violations, chromium, log_in_as_citizen, serving
from tests.support.databases import DatabaseTemplates

pytestmark = pytest.mark.browser
PAGE = f"/consultations/{QUESTIONNAIRE_SLUG}/questionnaire"


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            await seed_questionnaire_demo(session, utcnow(), count=60)
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def live_server(
    database_templates: DatabaseTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The demo with its call for proposals (60 answers imported and the demo citizen's own)."""
    with serving(database_templates, tmp_path_factory.mktemp("questionnaire")) as site:
        asyncio.run(_seed(site.database_url))
        yield site.base_url


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator[Any]:
    with chromium() as running:
        yield running


def test_with_javascript_an_error_is_shown_in_place_then_the_answers_are_saved(
    page: Any, live_server: str
) -> None:
    log_in_as_citizen(page, live_server, PAGE, index=1)
    assert axe_violations(page) == []
    page.get_by_role("button", name="Envoyer mes réponses").click()
    alert = page.locator(".error-summary")
    expect(alert).to_contain_text("Répondez à au moins une question")
    assert page.url == live_server + PAGE  # sent in place: the page was not reloaded
    page.get_by_label("Agent public").check()
    page.get_by_label("Données ouvertes").check()
    page.get_by_label("Numérique et communs").check()
    page.get_by_label("Quelle action proposez-vous ?").fill(
        "Ouvrir le code source des algorithmes publics qui décident des dossiers des usagers."
    )
    page.get_by_role("radio", name=re.compile(r"^4")).check()
    page.get_by_role("button", name="Envoyer mes réponses").click()
    page.wait_for_url(re.compile(rf"^{re.escape(live_server + PAGE)}\?saved=1$"))
    expect(page.get_by_role("status").first).to_contain_text("Vos réponses sont enregistrées")
    expect(page.get_by_label("Données ouvertes")).to_be_checked()
    expect(page.get_by_label("Quelle action proposez-vous ?")).to_have_value(
        re.compile("algorithmes publics")
    )
    expect(page.get_by_role("button", name="Enregistrer mes modifications")).to_be_visible()
    assert axe_violations(page) == []


def test_without_javascript_a_participant_comes_back_and_edits(
    no_js_page: Any, live_server: str
) -> None:
    page = no_js_page
    log_in_as_citizen(page, live_server, PAGE, index=0)
    # the demo citizen answered already: her answers are in the form
    expect(page.get_by_label("Citoyen ou citoyenne")).to_be_checked()
    expect(page.get_by_label("Quelle action proposez-vous ?")).to_have_value(
        re.compile("commande publique")
    )
    page.get_by_label("Association ou collectif").check()
    page.get_by_label("Qui devrait la mener, et avec qui ?").fill("Les acheteurs publics.")
    page.get_by_role("button", name="Enregistrer mes modifications").click()
    page.wait_for_url(re.compile(rf"^{re.escape(live_server + PAGE)}\?saved=1$"))
    expect(page.get_by_label("Association ou collectif")).to_be_checked()
    expect(page.get_by_label("Citoyen ou citoyenne")).not_to_be_checked()
    expect(page.get_by_label("Qui devrait la mener, et avec qui ?")).to_have_value(
        "Les acheteurs publics."
    )


@pytest.mark.parametrize("width", [320, 1280])
def test_the_questionnaire_fits_the_screen(page: Any, live_server: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server + PAGE)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert axe_violations(page) == []
