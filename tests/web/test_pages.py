"""Public pages on the demo consultation: without JavaScript, as htmx, in French and English."""

from __future__ import annotations

import pytest

from consult.accounts.models import Role
from consult.demo.seed import DEMO_SLUG, seed_demo
from consult.notifications.services import unsubscribe_token
from tests.conftest import Site, htmx_headers
from tests.web.routes_sample import sample_requests

PUBLIC_PAGES = [
    "/",
    f"/consultations/{DEMO_SLUG}",
    f"/consultations/{DEMO_SLUG}/motifs",
    f"/consultations/{DEMO_SLUG}/articles/art-1",
    f"/consultations/{DEMO_SLUG}/articles/art-7-bis",
    "/account/login",
    "/account/register",
]


@pytest.fixture
def demo(site: Site) -> Site:
    site.db(lambda s: seed_demo(s, now=site.clock()))
    return site


def test_demo_consultation_reads_like_a_bill(demo: Site) -> None:
    home = demo.client.get("/")
    assert "participation citoyenne" in home.text
    overview = demo.client.get(f"/consultations/{DEMO_SLUG}")
    assert overview.status_code == 200
    assert overview.text.count(f"/consultations/{DEMO_SLUG}/articles/art-") >= 12
    for division in ("TITRE", "Chapitre", "Section"):
        assert division.lower() in overview.text.lower()
    assert 'aria-current="step"' in overview.text  # the timeline marks the open phase
    article = demo.client.get(f"/consultations/{DEMO_SLUG}/articles/art-2")
    assert article.status_code == 200
    assert 'class="alinea"' in article.text
    assert 'rel="prev"' in article.text and 'rel="next"' in article.text
    last = demo.client.get(f"/consultations/{DEMO_SLUG}/articles/art-16")
    assert 'rel="next"' not in last.text
    assert demo.client.get(f"/consultations/{DEMO_SLUG}/articles/art-99").status_code == 404
    assert demo.client.get("/consultations/nope").status_code == 404


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_render_without_javascript(demo: Site, path: str) -> None:
    response = demo.client.get(path)
    assert response.status_code == 200
    assert response.text.startswith("<!doctype html>")
    assert "<main" in response.text
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_as_htmx_requests(demo: Site, path: str) -> None:
    """A partial request gets the page's own region (or the full page if it has none)."""
    partial = demo.client.get(path, headers=htmx_headers(partial=True))
    full = demo.client.get(path, headers=htmx_headers(partial=False))
    assert partial.status_code == full.status_code == 200
    assert full.text.startswith("<!doctype html>")
    assert "<main" in full.text


def test_article_navigation_fragment_is_the_article_region(demo: Site) -> None:
    response = demo.client.get(f"/consultations/{DEMO_SLUG}/articles/art-3", headers=htmx_headers())
    assert response.text.lstrip().startswith('<div id="article"')
    assert "<!doctype" not in response.text and "site-header" not in response.text
    assert "Article 3" in response.text


def test_every_get_route_answers_without_js_and_as_htmx(demo: Site) -> None:
    demo.login(demo.user(Role.OFFICIAL))
    # a synthesis run (no. 1), so that its page and the reports exist
    assert demo.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs").status_code == 303
    demo.client.portal.call(demo.services.jobs.drain)  # type: ignore[union-attr]
    # a version 2, so that what changed in it can be shown
    assert demo.client.post(f"/consultations/{DEMO_SLUG}/versions/next/publish").status_code == 303
    for route, method, path in sample_requests(demo.app, slug=DEMO_SLUG):
        if method != "GET":
            continue
        if route.name == "unsubscribe_form":  # the link of an email carries its secret
            path = f"/account/unsubscribe/1/{unsubscribe_token(demo.services.settings, 1)}"
        for headers in ({}, htmx_headers()):
            response = demo.client.get(path, headers=headers)
            assert response.status_code in (200, 303), (path, headers, response.status_code)


def test_pages_are_in_french_by_default_and_in_english_on_request(demo: Site) -> None:
    french = demo.client.get(f"/consultations/{DEMO_SLUG}")
    assert '<html lang="fr">' in french.text
    assert "Étapes de la consultation" in french.text
    assert french.headers["Content-Language"] == "fr"

    browser_english = demo.client.get(
        f"/consultations/{DEMO_SLUG}", headers={"Accept-Language": "en-GB,en;q=0.8"}
    )
    assert '<html lang="en">' in browser_english.text
    assert "Timeline" in browser_english.text

    switched = demo.client.post(
        "/language", data={"language": "en", "next": f"/consultations/{DEMO_SLUG}/articles/art-1"}
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/consultations/{DEMO_SLUG}/articles/art-1"
    english = demo.client.get(switched.headers["location"])
    assert '<html lang="en">' in english.text and "Other articles" in english.text
    # the bill itself stays in French, marked as such for screen readers
    assert 'lang="fr"' in english.text

    back = demo.client.post("/language", data={"language": "fr", "next": "https://evil.example"})
    assert back.headers["location"] == "/"
    assert '<html lang="fr">' in demo.client.get("/").text


def test_health_check(demo: Site) -> None:
    response = demo.client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_unknown_language_is_ignored(demo: Site) -> None:
    demo.client.post("/language", data={"language": "xx", "next": "/"})
    assert '<html lang="fr">' in demo.client.get("/").text


def test_anonymous_pages_are_cached_briefly_but_never_for_logged_in_readers(
    sqlite_url: str,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    from tests.conftest import make_settings, start_site

    for site in start_site(make_settings(sqlite_url, page_cache_seconds=60), clock):
        now = site.clock()
        site.db(lambda s, now=now: seed_demo(s, now=now))
        path = f"/consultations/{DEMO_SLUG}/articles/art-2"
        first = site.client.get(path)
        second = site.client.get(path)
        nonce = lambda r: r.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]  # noqa: E731
        assert nonce(first) != nonce(second)
        for response in (first, second):  # each copy carries its own response's nonce
            assert f'nonce="{nonce(response)}"' in response.text
            assert "__consult_csp_nonce__" not in response.text
        assert first.text.replace(nonce(first), "") == second.text.replace(nonce(second), "")
        english = site.client.get(path, headers={"Accept-Language": "en"})
        assert '<html lang="en">' in english.text  # the language is part of the key

        # A logged-in citizen sees the page fresh, with the forms that are theirs.
        site.login(site.user())
        response = site.client.post(
            f"{path}/arguments", data={"stance": "pour", "body": "Tout frais."}
        )
        assert response.status_code == 303
        assert "Tout frais." in site.client.get(path + "?sort=newest").text
        assert 'id="annotate-form"' in site.client.get(path).text
