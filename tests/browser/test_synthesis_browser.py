"""An official starts a synthesis, watches it run without reloading, then reads its report."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from consult.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_SLUG
from consult.synthesis import pipeline, runs
from tests.support.browser import axe_violations

pytestmark = pytest.mark.browser
SYNTHESIS = f"/consultations/{DEMO_SLUG}/synthesis"


# The first clustering of a fresh installation compiles UMAP's numba code (tens of seconds on
# two busy cores; cached on disk afterwards), so a run may take a while to complete.
COMPLETION_MS = 180_000


@pytest.fixture
def campaign_stage_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold every run at its campaign stage until the event is set, so that the progress page
    can be seen while the run is under way (the server runs in this process, in a thread)."""
    gate = threading.Event()
    # The pipeline's own function, which the runs module calls by this name.
    find_copies = pipeline.find_copies

    def find_copies_when_released(*args: Any, **kwargs: Any) -> Any:
        gate.wait(timeout=60)  # called in a worker thread: the server keeps answering
        return find_copies(*args, **kwargs)

    monkeypatch.setattr(runs, "find_copies", find_copies_when_released)
    yield gate
    gate.set()


def log_in_as_official(page: Any, live_server: str, next_path: str) -> None:
    official = next(a for a in DEMO_ACCOUNTS if a.role.value == "official")
    page.goto(f"{live_server}/account/login?next={next_path}")
    page.get_by_label("Adresse électronique").fill(official.email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(live_server + next_path)


def test_start_a_synthesis_and_watch_it_finish_without_reloading(
    page: Any, live_server: str, campaign_stage_gate: threading.Event
) -> None:
    log_in_as_official(page, live_server, SYNTHESIS)
    page.get_by_role("button", name="Lancer une synthèse").click()
    page.wait_for_url(re.compile(rf".*{SYNTHESIS}/runs/\d+$"))
    page.evaluate("window.__stillHere = true")

    progress = page.locator("#run-progress")
    # Reached only through the page polling itself: the run was queued or loading at first.
    expect(progress.locator('[aria-current="step"]')).to_have_text(
        "Recherche des campagnes de copier-coller", timeout=15_000
    )
    expect(progress.get_by_role("status")).to_contain_text("En cours")
    expect(progress.locator("progress")).to_be_visible()
    assert axe_violations(page) == []

    campaign_stage_gate.set()
    expect(progress.get_by_role("status")).to_have_text("Terminée", timeout=COMPLETION_MS)
    expect(progress.locator("progress")).to_have_count(0)
    report_link = progress.get_by_role("link", name="Lire le rapport")
    expect(report_link).to_be_visible()
    assert page.evaluate("window.__stillHere") is True

    report_link.click()
    page.wait_for_url(re.compile(rf".*{SYNTHESIS}\?run=\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Synthèse de la consultation")


def _run_and_open_the_report(page: Any, live_server: str) -> None:
    """As the demo's official: start a synthesis, wait until it is done, open its report."""
    log_in_as_official(page, live_server, SYNTHESIS)
    page.get_by_role("button", name="Lancer une synthèse").click()
    progress = page.locator("#run-progress")
    expect(progress.get_by_role("status")).to_have_text("Terminée", timeout=COMPLETION_MS)
    progress.get_by_role("link", name="Lire le rapport").click()
    page.wait_for_url(re.compile(rf".*{SYNTHESIS}\?run=\d+$"))


def test_read_the_report_follow_a_quote_and_download_it(
    page: Any, live_server: str, campaign_stage_gate: threading.Event
) -> None:
    campaign_stage_gate.set()
    _run_and_open_the_report(page, live_server)

    # A draft: the official reviews it before anyone else reads it.
    expect(page.get_by_role("button", name="Publier cette synthèse")).to_be_visible()
    themes = page.locator(".cluster-list > li.cluster")
    assert themes.count() >= 2
    first = themes.first
    expect(first.get_by_role("heading", level=3)).to_have_text(re.compile(r"^\d+ \S"))
    assert first.locator(".keyword").count() >= 1
    assert first.locator(".theme-groups li").count() >= 1
    expect(page.locator("svg.map-svg[role=img]")).to_be_visible()
    assert page.locator("svg.map-svg circle").count() >= 10
    expect(
        page.get_by_role("heading", name="Campagnes de copier-coller", exact=True)
    ).to_be_visible()
    assert page.locator("article.campaign").count() >= 1
    article_rows = page.locator("table.synthesis-articles tbody tr")
    assert article_rows.count() >= 2
    assert axe_violations(page) == []

    exports = page.locator("p.exports")
    json_answer = page.request.get(
        live_server + exports.get_by_role("link", name="Télécharger en JSON").get_attribute("href")
    )
    assert json_answer.ok
    assert json_answer.headers["content-type"].startswith("application/json")
    assert json_answer.json()["groups"]
    pdf_answer = page.request.get(
        live_server + exports.get_by_role("link", name="Télécharger en PDF").get_attribute("href")
    )
    assert pdf_answer.ok
    assert pdf_answer.headers["content-type"] == "application/pdf"
    assert pdf_answer.body().startswith(b"%PDF")

    # A theme leads to the groups it gathers, each on its article, and a quote to its source.
    first.locator(".theme-groups a").first.click()
    page.wait_for_url(re.compile(rf".*{SYNTHESIS}/articles/[\w-]+\?run=\d+#group-\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Synthèse\s*:\s*Article")
    )
    quote_link = page.locator("figure.synthesis-quote figcaption a").last
    contribution_id = re.sub(r"\D", "", quote_link.inner_text())
    quote_link.click()
    page.wait_for_url(f"**/consultations/{DEMO_SLUG}/contributions/{contribution_id}")
    expect(page.locator("#contribution-title")).to_contain_text(f"#{contribution_id}")

    page.go_back()
    expect(page.locator("dl.run-facts")).to_be_visible()
    assert page.locator("p.exports a").count() == 2
    assert axe_violations(page) == []


def test_an_official_reviews_an_articles_opinion_figures_on_a_phone(
    page: Any, live_server: str, campaign_stage_gate: threading.Event
) -> None:
    campaign_stage_gate.set()
    _run_and_open_the_report(page, live_server)
    # The demo's voters form opinion groups: the report says what brings them together.
    expect(page.get_by_role("heading", name="Ce qui rassemble / ce qui divise")).to_be_visible()

    page.set_viewport_size({"width": 320, "height": 640})
    page.locator("table.synthesis-articles tbody th a").first.click()
    page.wait_for_url(re.compile(rf".*{SYNTHESIS}/articles/[\w-]+\?run=\d+$"))
    figures = page.locator(".opinion-figures").first
    expect(
        figures.get_by_role("heading", name="Comment les groupes d’opinion ont voté")
    ).to_be_visible()
    line = figures.locator(".opinion-figure-list > li").first
    expect(line).to_contain_text(re.compile(r"rang de rassemblement \d+ sur \d+"))
    expect(line.locator(".opinion-support li").first).to_contain_text(
        re.compile(r"^Groupe 1\s*: Pour \d+ · Mitigé \d+ · Contre \d+$")
    )
    # Nothing wider than the phone's screen.
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    assert axe_violations(page) == []
