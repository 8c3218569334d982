"""An official imports a bill (paste or upload), previews it, publishes it; citizens read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.bills.models import BillVersion, Provision
from tests.support.seeding import SMALL_BILL, make_consultation, ministry
from tests.support.site import Site, htmx_headers

MALFORMED = sorted((Path(__file__).parents[1] / "bills" / "malformed").glob("*.txt"))


def count(site: Site, model: type) -> int:
    return int(site.scalar(select(func.count()).select_from(model)))


@pytest.mark.each_database
def test_official_previews_publishes_and_a_citizen_reads(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    form = site.client.get("/consultations/bibliotheques/bill/import")
    assert form.status_code == 200

    preview = site.client.post(
        "/consultations/bibliotheques/bill/preview",
        data={"source": SMALL_BILL, "format": "markdown"},
    )
    assert preview.status_code == 200
    assert "3 articles" in preview.text
    assert "Article 2 bis" in preview.text
    assert count(site, BillVersion) == 0  # a preview saves nothing

    published = site.client.post(
        "/consultations/bibliotheques/bill/versions",
        data={"source": SMALL_BILL, "format": "markdown"},
    )
    assert published.status_code == 303
    assert published.headers["location"] == "/consultations/bibliotheques?published=1"

    site.client.post("/account/logout")
    site.login(site.user(Role.CITIZEN))
    overview = site.client.get("/consultations/bibliotheques")
    assert overview.status_code == 200
    for expected in ("Horaires", "Gratuité", "/consultations/bibliotheques/articles/art-2-bis"):
        assert expected in overview.text
    article = site.client.get("/consultations/bibliotheques/articles/art-2")
    assert article.status_code == 200
    assert "1° Les mineurs ;" in article.text
    assert 'rel="prev" href="/consultations/bibliotheques/articles/art-1"' in article.text
    assert 'rel="next" href="/consultations/bibliotheques/articles/art-2-bis"' in article.text
    assert "Gratuité" in article.text  # breadcrumb shows the chapter
    memorandum = site.client.get("/consultations/bibliotheques/motifs")
    assert "améliore l’accès aux bibliothèques" in memorandum.text


@pytest.mark.each_database
def test_publishing_again_creates_version_two_and_keeps_version_one(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    for _ in range(2):
        site.client.post(
            "/consultations/bibliotheques/bill/versions",
            data={"source": SMALL_BILL, "format": "markdown"},
        )
    assert count(site, BillVersion) == 2
    old = site.client.get("/consultations/bibliotheques/articles/art-1?version=1")
    assert old.status_code == 200 and "Version 1" in old.text
    assert (
        site.client.get("/consultations/bibliotheques/articles/art-1?version=3").status_code == 404
    )
    assert (
        site.client.get("/consultations/bibliotheques/articles/art-1?version=x").status_code == 404
    )


def test_upload_a_plain_text_file(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    text = "Article 1er\nPremier alinéa.\nDeuxième alinéa.\nArticle 2\nSeul alinéa.\n"
    response = site.client.post(
        "/consultations/bibliotheques/bill/versions",
        files={"file": ("projet.txt", text.encode("utf-8"), "text/plain")},
        data={"format": "markdown"},  # the .txt extension wins
    )
    assert response.status_code == 303
    article = site.client.get("/consultations/bibliotheques/articles/art-1")
    assert article.text.count('class="alinea"') == 2


def test_upload_that_is_not_utf8_is_refused_clearly(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    response = site.client.post(
        "/consultations/bibliotheques/bill/preview",
        files={"file": ("projet.md", "Article 1er\n\nÉté".encode("latin-1"), "text/markdown")},
    )
    assert response.status_code == 422
    assert "UTF-8" in response.text
    assert count(site, BillVersion) == 0


@pytest.mark.parametrize("path", MALFORMED, ids=[p.stem for p in MALFORMED])
def test_malformed_bills_get_an_error_naming_the_line_and_nothing_is_saved(
    site: Site, path: Path
) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    expected_line = int(path.stem.split("__")[0])
    response = site.client.post(
        "/consultations/bibliotheques/bill/versions",
        data={"source": path.read_text(encoding="utf-8"), "format": "markdown"},
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    if expected_line:
        assert str(expected_line) in response.text
    assert count(site, BillVersion) == 0
    assert count(site, Provision) == 0
    # the official's text is kept in the form so it can be corrected
    first_line = path.read_text(encoding="utf-8").strip().splitlines()[:1]
    if first_line and "<" not in first_line[0] and "&" not in first_line[0]:
        assert first_line[0].strip() in response.text


def test_preview_as_htmx_returns_only_the_import_region(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    response = site.client.post(
        "/consultations/bibliotheques/bill/preview",
        data={"source": "Article 1er\n\nTexte.", "format": "markdown"},
        headers=htmx_headers(),
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="bill_import">')
    assert "<html" not in response.text
    published = site.client.post(
        "/consultations/bibliotheques/bill/versions",
        data={"source": "Article 1er\n\nTexte.", "format": "markdown"},
        headers=htmx_headers(),
    )
    assert published.headers["HX-Redirect"] == "/consultations/bibliotheques?published=1"


def test_script_in_a_bill_is_shown_as_text(site: Site) -> None:
    make_consultation(site)
    site.login(site.user(Role.OFFICIAL))
    source = "Article 1er : <script>alert(1)</script>\n\n<img src=x onerror=alert(2)> est interdit."
    site.client.post(
        "/consultations/bibliotheques/bill/versions", data={"source": source, "format": "markdown"}
    )
    article = site.client.get("/consultations/bibliotheques/articles/art-1")
    assert "<script>alert(1)" not in article.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article.text
    assert "<img src=x" not in article.text


def test_officials_create_a_consultation_with_its_schedule(site: Site) -> None:
    site.db(ministry)
    site.login(site.user(Role.OFFICIAL))  # a member of the ministry
    bad = site.client.post(
        "/consultations",
        data={
            "title": "",
            "slug": "Pas Valide!",
            "open": "2027-03-01T09:00",
            "closed": "2027-02-01T09:00",
        },
    )
    assert bad.status_code == 422
    assert 'value="Pas Valide!"' in bad.text
    assert bad.text.count('aria-invalid="true"') >= 3  # title, slug, closing date
    created = site.client.post(
        "/consultations",
        data={
            "title": "Eau potable",
            "slug": "eau-potable",
            "ministry": "Ministère de l’Écologie",
            "summary": "Un texte sur l’eau.",
            "open": "2027-03-01T09:00",
            "closed": "2027-04-01T18:00",
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/consultations/eau-potable/bill/import"
    page = site.client.get("/consultations/eau-potable")
    assert "Eau potable" in page.text
    assert "2027" in page.text


def test_draft_consultations_are_hidden_from_the_public(site: Site) -> None:
    make_consultation(site, "brouillon", opened=False)
    assert site.client.get("/consultations/brouillon").status_code == 404
    assert "Bibliothèques ouvertes" not in site.client.get("/").text
    site.login(site.user(Role.OFFICIAL))
    assert site.client.get("/consultations/brouillon").status_code == 200
