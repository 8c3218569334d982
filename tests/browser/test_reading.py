"""Reading the demo consultation in a real browser, with and without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from consult.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_SLUG
from tests.support.browser import axe_violations

pytestmark = pytest.mark.browser


def test_read_the_demo_bill_with_javascript(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_role("link", name="participation citoyenne").first.click()
    page.wait_for_url(f"**/consultations/{DEMO_SLUG}")
    assert page.get_by_role("heading", name="Étapes de la consultation").is_visible()
    page.get_by_role("link", name="Article 1er", exact=True).click()
    page.wait_for_url("**/articles/art-1")
    # Mark the document: an htmx swap keeps it, a full page load would not.
    page.evaluate("window.__stillHere = true")
    page.locator("a[rel=next]").click()
    page.wait_for_url("**/articles/art-2")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Article 2")
    assert page.evaluate("window.__stillHere") is True
    # focus moved to the new article's heading for keyboard and screen-reader users
    assert page.evaluate("document.activeElement.id") == "article-title"
    page.go_back()
    page.wait_for_url("**/articles/art-1")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Article 1er")


def test_read_the_demo_bill_without_javascript(no_js_page: Any, live_server: str) -> None:
    page = no_js_page
    page.goto(f"{live_server}/consultations/{DEMO_SLUG}/articles/art-7")
    page.locator("a[rel=next]").click()
    page.wait_for_url("**/articles/art-7-bis")
    assert "Article 7 bis" in page.get_by_role("heading", level=1).inner_text()


def test_switch_to_english_and_back(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/consultations/{DEMO_SLUG}")
    page.get_by_role("combobox", name="Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert page.url.endswith(f"/consultations/{DEMO_SLUG}")
    page.get_by_role("combobox", name="Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"


def test_log_in_with_a_demo_account_and_see_errors_in_place(page: Any, live_server: str) -> None:
    official = next(a for a in DEMO_ACCOUNTS if a.role.value == "official")
    page.goto(f"{live_server}/account/login")
    page.get_by_label("Adresse électronique").fill(official.email)
    page.get_by_label("Mot de passe").fill("wrong password")
    page.get_by_role("button", name="Se connecter").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "incorrect" in alert.inner_text().lower()
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server + "/")
    assert page.get_by_role("link", name="Nouvelle consultation").is_visible()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/consultations/{DEMO_SLUG}",
        f"/consultations/{DEMO_SLUG}/articles/art-3",
        f"/consultations/{DEMO_SLUG}/articles/art-7-bis?sort=contested",
        f"/consultations/{DEMO_SLUG}/contributions/10",
        f"/consultations/{DEMO_SLUG}/motifs",
        "/account/login",
        "/account/register",
    ],
)
def test_pages_have_no_wcag_aa_violation(page: Any, live_server: str, path: str) -> None:
    page.goto(live_server + path)
    assert axe_violations(page) == []


def test_login_error_state_has_no_wcag_aa_violation(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/account/register")
    page.get_by_role("button", name="Créer mon compte").click()
    page.get_by_role("alert").wait_for()
    assert axe_violations(page) == []
