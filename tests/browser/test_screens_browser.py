"""Every page and state a citizen or an official reaches, on a 320 px phone: nothing wider
than the screen (WCAG 1.4.10 reflow, which axe does not check), axe finds nothing, no CSP
violation; and a preview asked for is shown and focused, with and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import expect

from consult.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_SLUG
from tests.support.browser import axe_violations

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
C = f"/consultations/{DEMO_SLUG}"
ARTICLE = f"{C}/articles/art-4"


def email_of(role: str, index: int = 0) -> str:
    return [a.email for a in DEMO_ACCOUNTS if a.role.value == role][index]


def log_in(page: Any, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/account/login?next=/account")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/account")


def open_form(name: str) -> Callable[[Any], None]:
    def act(page: Any) -> None:
        page.locator(f"#{name} > summary").click()

    return act


def preview_annotation(page: Any) -> None:
    page.locator("#annotate > summary").click()
    page.locator("#annotate-quote").fill(page.locator("#art-4-al-1 .alinea-text").inner_text()[:30])
    page.locator("#annotate-body").fill("Une remarque sur ce passage.")
    page.locator("#annotate-form").get_by_role("button", name="Aperçu").click()
    page.locator("#annotate-preview").wait_for()


def preview_amendment(page: Any) -> None:
    page.locator("#amend > summary").click()
    words = page.locator("#art-4-al-1 .alinea-text").inner_text().split()[:3]
    page.locator("#amend-old").fill(" ".join(words))
    page.locator("#amend-new").fill("Une autre formulation")
    page.locator("#amend-body").fill("Plus clair.")
    page.locator("#amend-form").get_by_role("button", name="Aperçu").click()
    page.locator("#amend-preview").wait_for()


def argue_without_a_position(page: Any) -> None:
    page.locator("#argue > summary").click()
    page.locator("#argue-body").fill("Un argument sans position.")
    # The browser would stop the form for the missing choice; the server must say it too.
    page.evaluate("document.getElementById('argue-form').noValidate = true")
    page.locator("#argue-form").get_by_role("button", name="Publier mon argument").click()
    page.locator("#argue .error-summary").wait_for()


def open_the_menu(page: Any) -> None:
    page.locator(".phone-menu > summary").click()


def register_with_errors(page: Any) -> None:
    page.get_by_role("button", name="Créer mon compte").click()
    page.locator(".error-summary").wait_for()


def edit_with_errors(page: Any) -> None:
    page.locator("#field-title").fill("")
    page.locator("#field-open").fill("")
    page.get_by_role("button", name="Enregistrer la consultation").click()
    page.locator("#edit_form .error-summary").wait_for()


def publish_without_a_reason(page: Any) -> None:
    page.get_by_role("button", name=re.compile(r"^Publier la version \d+$")).click()
    page.locator("#error-reason").wait_for()


@dataclass(frozen=True)
class State:
    """A page, and what the reader does on it before it is checked."""

    path: str
    act: Callable[[Any], None] | None = None
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name or self.path


ANONYMOUS = [
    State("/"),
    State(C),
    State(C, open_the_menu, "menu open"),
    State(f"{C}/motifs"),
    State(ARTICLE),
    State(f"{C}/articles/art-7-bis?sort=contested"),
    State(f"{C}/contributions/10"),
    State(f"{C}/feedback"),
    State(f"{C}/synthesis"),
    State(f"{C}/compare"),
    State("/account/login"),
    State("/account/register"),
    State("/account/register", register_with_errors, "registration errors"),
    State("/account/forgot"),
    State("/legal/privacy"),
    State("/legal/accessibility"),
    State("/legal/terms"),
]
CITIZEN = [
    State(C),
    State(ARTICLE),
    State(ARTICLE, open_form("annotate"), "annotate form"),
    State(ARTICLE, open_form("amend"), "amend form"),
    State(ARTICLE, open_form("argue"), "argue form"),
    State(ARTICLE, open_form("cite"), "cite form"),
    State(ARTICLE, preview_annotation, "annotation preview"),
    State(ARTICLE, preview_amendment, "amendment preview"),
    State(ARTICLE, argue_without_a_position, "argument error"),
    State(f"{C}/articles/art-13"),
    State(f"{C}/contributions/10"),
    State(f"{C}/feedback"),
    State("/account/contributions"),
    State("/account"),
    State("/account/password"),
    State("/account/close"),
    State("/account/two-factor"),
    State(f"{C}/moderation/log"),
    State("/", open_the_menu, "menu open"),
]
OFFICIAL = [
    State(C),
    State(f"{C}/inbox"),
    State(f"{C}/inbox/articles/art-4"),
    State(f"{C}/inbox/articles/art-13"),
    State(f"{C}/synthesis"),
    State(f"{C}/feedback"),
    State(f"{C}/versions/next"),
    State(f"{C}/dashboard"),
    State(f"{C}/moderation"),
    State(f"{C}/edit"),
    State(f"{C}/edit", edit_with_errors, "edit errors"),
    State(f"{C}/versions/next/publish"),
    State(f"{C}/versions/next/publish", publish_without_a_reason, "publish refused while open"),
    State(f"{C}/bill/import"),
    State("/consultations/new"),
    State(ARTICLE),
]
STATES = (
    [("anonymous", s) for s in ANONYMOUS]
    + [("citizen", s) for s in CITIZEN]
    + [("official", s) for s in OFFICIAL]
)


@pytest.fixture(scope="module")
def phones(browser: Any, live_server: str) -> Iterator[dict[str, Any]]:
    """A phone-sized browser context per role, logged in once."""
    contexts = {}
    for role in ("anonymous", "citizen", "official"):
        context = browser.new_context(viewport=PHONE, locale="fr-FR")
        if role != "anonymous":
            page = context.new_page()
            log_in(page, live_server, email_of(role, 1 if role == "citizen" else 0))
            page.close()
        contexts[role] = context
    yield contexts
    for context in contexts.values():
        context.close()


def overflow(page: Any) -> str:
    """What sticks out of the screen, if anything: the widest elements past its edge."""
    return str(
        page.evaluate(
            """() => {
              const width = document.documentElement.clientWidth;
              if (document.documentElement.scrollWidth <= width) return "";
              const over = [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > width + 0.5)
                .map((e) => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + " "
                  + Math.round(e.getBoundingClientRect().right));
              return document.documentElement.scrollWidth + "px: " + over.slice(-5).join(", ");
            }"""
        )
    )


@pytest.mark.parametrize(("role", "state"), STATES, ids=[f"{r}:{s}" for r, s in STATES])
def test_no_page_is_wider_than_a_phone(
    phones: dict[str, Any], live_server: str, role: str, state: State
) -> None:
    page = phones[role].new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "status of 4" not in message.text
            else None
        ),
    )
    try:
        response = page.goto(live_server + state.path)
        assert response is not None and response.status == 200
        if state.act:
            state.act(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], overflow(
            page
        )
        assert axe_violations(page) == []
        assert errors == [], f"console errors (CSP violations?): {errors}"
    finally:
        page.close()


def test_the_phone_header_is_one_line_and_the_breadcrumb_its_parent(
    phones: dict[str, Any], live_server: str
) -> None:
    page = phones["citizen"].new_page()
    try:
        page.goto(live_server + ARTICLE)
        assert page.locator(".site-header").bounding_box()["height"] <= 100
        crumbs = page.locator(".breadcrumb li:visible")
        expect(crumbs).to_have_count(1)
        expect(crumbs.get_by_role("link")).to_have_attribute("href", C)
        assert page.locator(".breadcrumb").bounding_box()["height"] <= 60
    finally:
        page.close()


def in_view(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(selector) => {
              const box = document.querySelector(selector).getBoundingClientRect();
              return box.top >= 0 && box.top < window.innerHeight;
            }""",
            selector,
        )
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without"])
@pytest.mark.parametrize("form", ["annotate", "amend"])
def test_the_preview_is_shown_where_the_reader_is_and_focused(
    browser: Any, live_server: str, javascript: bool, form: str
) -> None:
    for viewport in (PHONE, {"width": 1280, "height": 800}):
        context = browser.new_context(
            viewport=viewport, locale="fr-FR", java_script_enabled=javascript
        )
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda message, errors=errors: (
                errors.append(message.text) if message.type == "error" else None
            ),
        )
        try:
            log_in(page, live_server, email_of("citizen", 1))
            page.goto(live_server + ARTICLE)
            (preview_annotation if form == "annotate" else preview_amendment)(page)
            title = f"#{form}-preview-title"
            expect(page.locator(title)).to_be_focused()
            assert in_view(page, title), f"the preview is off screen at {viewport['width']} px"
            assert errors == []
        finally:
            context.close()


def test_the_selection_toolbar_appears_under_the_selected_alinea(
    page: Any, live_server: str
) -> None:
    log_in(page, live_server, email_of("citizen", 1))
    page.goto(live_server + ARTICLE)
    text = page.locator("#art-4-al-3 .alinea-text")
    box = text.bounding_box()
    page.mouse.move(box["x"] + 1, box["y"] + 8)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 8, steps=6)
    page.mouse.up()
    toolbar = page.get_by_role("toolbar")
    expect(toolbar).to_be_visible()
    expect(page.locator("#art-4-al-3 #selection-toolbar")).to_be_visible()
    assert toolbar.bounding_box()["y"] - (box["y"] + box["height"]) < 120


def test_a_character_counter_follows_the_typing(page: Any, live_server: str) -> None:
    log_in(page, live_server, email_of("citizen", 1))
    page.goto(live_server + ARTICLE)
    page.locator("#argue > summary").click()
    counter = page.locator("#argue-body-count")
    page.locator("#argue-body").fill("x" * 15)
    expect(counter).to_have_text(re.compile(r"Caractères restants\s*:\s*19\D?985"))


def test_the_accessibility_check_names_what_is_broken(page: Any) -> None:
    """The check every screen passes does find broken rules: an image without a text
    alternative and a field without a label."""
    page.set_content(
        '<!doctype html><html lang="fr"><head><title>t</title></head><body><main>'
        '<img src="data:,"><input type="text"></main></body></html>'
    )
    found = {violation.split(":")[0] for violation in axe_violations(page)}
    assert {"image-alt", "label"} <= found
