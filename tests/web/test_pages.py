"""Public pages on the demo consultation: without JavaScript, as htmx, in French and English."""

from __future__ import annotations

from urllib.parse import quote

import httpx2
import pytest

from consult.accounts.models import Role
from consult.demo.seed import DEMO_SLUG
from consult.notifications.services import unsubscribe_token
from tests.support.routes import sample_requests
from tests.support.site import Clock, Site, htmx_headers, make_settings, start_site

# Each public page, and the start of the region an htmx partial request gets (None: the page
# has no region of its own, so the whole page comes back).
PUBLIC_PAGES: dict[str, str | None] = {
    "/": '<section id="consultations"',
    f"/consultations/{DEMO_SLUG}": None,
    f"/consultations/{DEMO_SLUG}/motifs": None,
    f"/consultations/{DEMO_SLUG}/articles/art-1": '<div id="article"',
    f"/consultations/{DEMO_SLUG}/articles/art-7-bis": '<div id="article"',
    "/account/login": None,
    "/account/register": None,
}


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


@pytest.mark.parametrize(("path", "region"), PUBLIC_PAGES.items())
def test_public_pages_as_htmx_requests(demo: Site, path: str, region: str | None) -> None:
    """A partial request gets the page's own region (or the full page if it has none)."""
    partial = demo.client.get(path, headers=htmx_headers(partial=True))
    full = demo.client.get(path, headers=htmx_headers(partial=False))
    assert partial.status_code == full.status_code == 200
    assert full.text.startswith("<!doctype html>")
    assert "<main" in full.text
    if region is None:
        assert partial.text.startswith("<!doctype html>") and "<main" in partial.text
    else:
        assert partial.text.lstrip().startswith(region)
        assert "<!doctype" not in partial.text and "<main" not in partial.text
        assert region in full.text  # the same region, within the whole page


def test_article_navigation_fragment_is_the_article_region(demo: Site) -> None:
    response = demo.client.get(f"/consultations/{DEMO_SLUG}/articles/art-3", headers=htmx_headers())
    assert response.text.lstrip().startswith('<div id="article"')
    assert "<!doctype" not in response.text and "site-header" not in response.text
    assert "Article 3" in response.text


# What each GET route answers to a visitor and to a logged-in official: the page itself, a
# redirection to the login form (back to the page afterwards), or, for the forms of people not
# logged in, a redirection home; administrators' pages are refused to an official.
PAGE, LOGIN, HOME, EXPIRED, DENIED = "page", "login", "home", "expired", "denied"
ABSENT = "absent"  # a feature this site does not offer (no identity provider configured)
GET_ROUTES: dict[str, tuple[str, str]] = {
    "home": (PAGE, PAGE),
    "health": (PAGE, PAGE),
    "ready": (PAGE, PAGE),
    # Only the monitoring reads it (its token, or loopback): the test client is neither.
    "metrics": (ABSENT, ABSENT),
    "register_form": (PAGE, HOME),
    "login_form": (PAGE, HOME),
    "profile": (LOGIN, PAGE),
    "password_form": (LOGIN, PAGE),
    "my_contributions": (LOGIN, PAGE),
    "unsubscribe_form": (PAGE, PAGE),
    "forgot_form": (PAGE, PAGE),
    "export": (LOGIN, PAGE),
    "close_form": (LOGIN, PAGE),
    "legal_page": (PAGE, PAGE),
    "legal_page_form": (LOGIN, DENIED),
    "two_factor": (LOGIN, PAGE),
    "identity_start": (ABSENT, ABSENT),
    "identity_callback": (ABSENT, ABSENT),
    # The sample link is no link the site sent: it says so.
    "reset_form": (EXPIRED, EXPIRED),
    "confirm_form": (EXPIRED, EXPIRED),
    "consultation_new": (LOGIN, PAGE),
    "consultation": (PAGE, PAGE),
    "memorandum": (PAGE, PAGE),
    "bill_import_form": (LOGIN, PAGE),
    # The demo's consultation is on a bill: its questionnaire pages are not found (the
    # questionnaire's own pages are walked in tests/web/test_questionnaires.py).
    "questionnaire": (ABSENT, ABSENT),
    "questionnaire_results": (ABSENT, ABSENT),
    "questionnaire_import_form": (LOGIN, ABSENT),
    "questionnaire_answers_import_form": (LOGIN, ABSENT),
    "article": (PAGE, PAGE),
    "contribution": (PAGE, PAGE),
    "report_form": (LOGIN, PAGE),
    "moderation_queue": (LOGIN, PAGE),
    "moderation_log": (PAGE, PAGE),
    "synthesis": (PAGE, PAGE),
    "synthesis_json": (PAGE, PAGE),
    "synthesis_pdf": (PAGE, PAGE),
    "synthesis_article": (PAGE, PAGE),
    "synthesis_article_json": (PAGE, PAGE),
    "synthesis_article_pdf": (PAGE, PAGE),
    "synthesis_run": (LOGIN, PAGE),
    "cluster_split_form": (LOGIN, PAGE),
    "inbox": (LOGIN, PAGE),
    "inbox_article": (LOGIN, PAGE),
    "answer_form": (LOGIN, PAGE),
    "feedback": (PAGE, PAGE),
    "version_draft": (LOGIN, PAGE),
    "version_draft_text": (LOGIN, PAGE),
    "version_publish_confirm": (LOGIN, PAGE),
    "consultation_dashboard": (LOGIN, PAGE),
    "consultation_edit": (LOGIN, PAGE),
    "version_changes": (PAGE, PAGE),
    "version_compare": (PAGE, PAGE),
    "open_data": (PAGE, PAGE),
    "api_openapi": (PAGE, PAGE),
    "api_consultations": (PAGE, PAGE),
    "api_consultation": (PAGE, PAGE),
    "api_version": (PAGE, PAGE),
    "api_changes": (PAGE, PAGE),
    "api_contributions": (PAGE, PAGE),
    "api_contribution": (PAGE, PAGE),
    "api_answers": (PAGE, PAGE),
    "api_feedback": (PAGE, PAGE),
    "api_questionnaire": (ABSENT, ABSENT),
    "organisations": (LOGIN, DENIED),
    "organisation": (LOGIN, DENIED),
}


def check_answer(response: httpx2.Response, expected: str, path: str, htmx: bool) -> None:
    where = (expected, path, "htmx" if htmx else "plain")
    if expected == PAGE:
        assert response.status_code == 200, (*where, response.status_code)
        assert "HX-Redirect" not in response.headers, where
    elif expected == EXPIRED:
        assert response.status_code == 410, (*where, response.status_code)
    elif expected == ABSENT:
        assert response.status_code == 404, (*where, response.status_code)
    elif expected == DENIED:
        assert response.status_code == 403, (*where, response.status_code)
    elif expected == LOGIN:
        assert response.status_code == 303, (*where, response.status_code)
        assert response.headers["location"] == f"/account/login?next={quote(path, safe='')}"
    elif htmx:  # htmx follows a redirection it is told about in a header
        assert response.status_code == 200, (*where, response.status_code)
        assert response.headers["HX-Redirect"] == "/", where
    else:
        assert response.status_code == 303, (*where, response.status_code)
        assert response.headers["location"] == "/", where


def test_every_get_route_answers_without_js_and_as_htmx(demo: Site) -> None:
    official = demo.user(Role.OFFICIAL)
    demo.login(official)
    # a synthesis run (no. 1), published, so that its page and the reports exist for everyone
    assert demo.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs").status_code == 303
    demo.drain_jobs()
    published = demo.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs/1/publish")
    assert published.status_code == 303
    # a version 2, so that what changed in it can be shown
    publish = f"/consultations/{DEMO_SLUG}/versions/next/publish"
    assert (
        demo.client.post(
            publish,
            data={
                "number": "2",
                "reason": "Le texte doit partir au Conseil d’État avant la clôture.",
            },
        ).status_code
        == 303
    )
    demo.client.post("/account/logout")
    requests = [
        (route.name, path)
        for route, method, path in sample_requests(demo.app, slug=DEMO_SLUG)
        if method == "GET"
    ]
    assert sorted(name for name, _ in requests) == sorted(GET_ROUTES), "state what each answers"
    for reader in (0, 1):  # a visitor, then the official
        if reader:
            demo.login(official)
        for name, path in requests:
            if name == "unsubscribe_form":  # the link of an email carries its secret
                path = f"/account/unsubscribe/1/{unsubscribe_token(demo.settings, 1)}"
            plain = demo.client.get(path)
            check_answer(plain, GET_ROUTES[name][reader], path, htmx=False)
            partial = demo.client.get(path, headers=htmx_headers())
            check_answer(partial, GET_ROUTES[name][reader], path, htmx=True)


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


def test_health_probes(demo: Site) -> None:
    response = demo.client.get("/healthz")
    assert response.json() == {"status": "ok"}
    ready = demo.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok"})


def test_liveness_asks_nothing_of_the_database_even_for_a_logged_in_reader(demo: Site) -> None:
    demo.login(demo.user(Role.CITIZEN))
    assert demo.statements_during(lambda: demo.client.get("/healthz")) == []


def test_unknown_language_is_ignored(demo: Site) -> None:
    demo.client.post("/language", data={"language": "xx", "next": "/"})
    assert '<html lang="fr">' in demo.client.get("/").text


def test_anonymous_pages_are_cached_briefly_but_never_for_logged_in_readers(
    demo_url: str, clock: Clock
) -> None:
    with start_site(make_settings(demo_url, page_cache_seconds=60), clock) as site:
        path = f"/consultations/{DEMO_SLUG}/articles/art-2"
        first = site.client.get(path)
        second = site.client.get(path)

        def nonce(response: httpx2.Response) -> str:
            return response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]

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
