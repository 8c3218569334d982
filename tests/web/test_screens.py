"""What citizens meet on their screens, without JavaScript: forms that take no side, error
summaries that lead to their fields, previews next to their form, banners after each action,
the way back after registering, and a consultation page with its figures."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.contributions.models import Contribution
from consult.demo.seed import DEMO_SLUG
from tests.support.seeding import PASSWORD
from tests.support.site import Site

CONSULTATION = "/consultations/bibliotheques"
ARTICLE = f"{CONSULTATION}/articles/art-1"


@pytest.fixture
def citizen_site(library: Site) -> Site:
    """The consultation on libraries, open, with a citizen logged in."""
    library.login(library.user())
    return library


def count_contributions(site: Site) -> int:
    return int(site.scalar(select(func.count()).select_from(Contribution)))


def test_the_argument_form_takes_no_side(citizen_site: Site) -> None:
    page = citizen_site.client.get(ARTICLE)
    form = page.text[page.text.index('id="argue-form"') :]
    form = form[: form.index("</form>")]
    radios = re.findall(r'<input type="radio"[^>]*>', form)
    assert len(radios) == 3
    assert not any("checked" in radio for radio in radios)
    assert all("required" in radio for radio in radios)
    # each radio button has its own label, right after it
    for value in ("pour", "contre", "neutre"):
        assert re.search(
            rf'id="argue-stance-{value}"[^>]*>\s*<label for="argue-stance-{value}"', form
        )

    sent = citizen_site.client.post(f"{ARTICLE}/arguments", data={"body": "Un argument."})
    assert sent.status_code == 422
    assert count_contributions(citizen_site) == 0
    assert re.search(r'class="alert alert-error error-summary"[^>]*autofocus', sent.text)
    assert 'href="#argue-stance-pour"' in sent.text
    assert 'id="argue-stance-pour"' in sent.text
    assert "Un argument." in sent.text  # what was typed stays


def test_each_error_of_the_summary_links_to_its_field(citizen_site: Site) -> None:
    sent = citizen_site.client.post(
        f"{ARTICLE}/annotations",
        data={"alinea": "1", "quote": "des mots absents", "body": ""},
    )
    assert sent.status_code == 422
    summary = sent.text[sent.text.index("error-summary") :]
    summary = summary[: summary.index("</div>")]
    links = re.findall(r'href="#([^"]+)"', summary)
    assert links and set(links) <= {"annotate-quote", "annotate-body", "annotate-alinea"}
    for target in links:  # every link leads to a field of the page
        assert re.search(rf'<(textarea|select|input)[^>]* id="{target}"|id="{target}"', sent.text)

    with citizen_site.anonymously() as anonymous:
        refused = anonymous.post(
            "/account/register", data={"email": "pas-une-adresse", "password": "court"}
        )
    assert refused.status_code == 422
    for name in ("email", "display_name", "password"):
        assert f'href="#field-{name}"' in refused.text
        assert f'id="field-{name}"' in refused.text


def test_a_preview_is_shown_under_its_form_and_focused_without_javascript(
    citizen_site: Site,
) -> None:
    page = citizen_site.client.get(ARTICLE)
    # No fragment in the form's address: browsers skip autofocus on a page opened at one.
    assert f'action="{ARTICLE}/annotations"' in page.text
    assert f'action="{ARTICLE}/amendments"' in page.text
    shown = citizen_site.client.post(
        f"{ARTICLE}/annotations",
        data={
            "alinea": "1",
            "quote": "le dimanche",
            "body": "Et les jours fériés ?",
            "action": "preview",
        },
    )
    assert shown.status_code == 200
    assert count_contributions(citizen_site) == 0
    text = shown.text
    form_end = text.index("</form>", text.index('id="annotate-form"'))
    preview = text.index('id="annotate-preview"')
    similar = text.index('id="annotate-similar"')
    assert form_end < preview < similar  # right under the form's buttons
    assert re.search(r'<h3 id="annotate-preview-title"[^>]*autofocus', text)

    amended = citizen_site.client.post(
        f"{ARTICLE}/amendments",
        data={
            "operation": "replace_words",
            "alinea": "1",
            "old_text": "le dimanche",
            "new_text": "le samedi",
            "body": "Plus simple.",
            "action": "preview",
        },
    )
    assert amended.status_code == 200
    assert re.search(r'<h3 id="amend-preview-title"[^>]*autofocus', amended.text)


def test_long_text_fields_state_their_limit(citizen_site: Site) -> None:
    page = citizen_site.client.get(ARTICLE)
    for field in ("annotate-body", "amend-body", "argue-body", "cite-body"):
        assert f'id="{field}-count"' in page.text
        assert re.search(rf'id="{field}"[^>]*aria-describedby="{field}-count"', page.text)
    assert "20\u202f000 caractères au plus." in page.text or "20 000" in page.text


def test_alinea_choices_are_short(citizen_site: Site) -> None:
    page = citizen_site.client.get(ARTICLE)
    select_html = page.text[page.text.index('id="annotate-alinea"') :]
    select_html = select_html[: select_html.index("</select>")]
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select_html)
    assert labels and all(len(label) <= 40 for label in labels)


def test_a_banner_confirms_a_published_contribution(citizen_site: Site) -> None:
    sent = citizen_site.client.post(
        f"{ARTICLE}/annotations",
        data={"alinea": "1", "quote": "le dimanche", "body": "Et les jours fériés ?"},
    )
    assert sent.status_code == 303
    page = citizen_site.client.get(sent.headers["location"])
    assert 'class="alert alert-success" role="status"' in page.text


def test_registering_leads_back_to_the_article_with_a_welcome(library: Site) -> None:
    article = library.client.get(ARTICLE)
    assert f"/account/register?next={ARTICLE}" in article.text
    form = library.client.get(f"/account/register?next={ARTICLE}")
    assert f'name="next" value="{ARTICLE}"' in form.text
    registered = library.client.post(
        "/account/register",
        data={
            "email": "nouvelle@example.org",
            "display_name": "Nouvelle",
            "password": PASSWORD,
            "next": ARTICLE,
            "accept_terms": "1",
        },
    )
    assert registered.status_code == 303
    assert registered.headers["location"] == f"{ARTICLE}?welcome=1"
    welcomed = library.client.get(registered.headers["location"])
    assert 'id="welcome"' in welcomed.text and "Nouvelle" in welcomed.text
    # The same address read by someone not logged in welcomes no one.
    with library.anonymously() as anonymous:
        assert 'id="welcome"' not in anonymous.get(f"{ARTICLE}?welcome=1").text


@pytest.mark.parametrize("elsewhere", ["https://example.com/", "//example.com/x", "javascript:x"])
def test_registering_never_leads_to_another_site(library: Site, elsewhere: str) -> None:
    form = library.client.get("/account/register", params={"next": elsewhere})
    assert 'name="next" value=""' in form.text
    registered = library.client.post(
        "/account/register",
        data={
            "email": "n@example.org",
            "display_name": "N",
            "password": PASSWORD,
            "next": elsewhere,
            "accept_terms": "1",
        },
    )
    assert registered.headers["location"] == "/?welcome=1"
    assert library.scalar(
        select(func.count()).select_from(User).where(User.email == "n@example.org")
    )


def figures(site: Site) -> dict[str, int]:
    with site.anonymously() as anonymous:
        page = anonymous.get(CONSULTATION).text
    found = {}
    for name in ("participants", "contributions", "votes"):
        match = re.search(rf'id="figure-{name}"><span class="figure-number">([^<]+)</span>', page)
        assert match, name
        found[name] = int(re.sub(r"\D", "", match.group(1)))
    return found


def test_the_consultation_page_counts_participants_contributions_and_votes(
    library: Site,
) -> None:
    assert figures(library) == {"participants": 0, "contributions": 0, "votes": 0}
    page = library.client.get(CONSULTATION).text
    assert "Participer" in page and f'href="{ARTICLE}"' in page
    # Nothing to read yet: no link to a synthesis or to answers.
    assert f"{CONSULTATION}/synthesis" not in page
    assert f"{CONSULTATION}/feedback" not in page

    first = library.user(email="premiere@example.org")
    library.login(first)
    assert (
        library.client.post(
            f"{ARTICLE}/annotations",
            data={"alinea": "1", "quote": "le dimanche", "body": "Et les jours fériés ?"},
        ).status_code
        == 303
    )
    assert library.client.post(f"{ARTICLE}/votes", data={"value": "pour"}).status_code in (200, 303)
    second = library.user(email="second@example.org")
    library.login(second)
    assert library.client.post(f"{ARTICLE}/votes", data={"value": "contre"}).status_code in (
        200,
        303,
    )
    assert figures(library) == {"participants": 2, "contributions": 1, "votes": 2}
    page = library.client.get(CONSULTATION).text
    assert re.search(
        r'href="' + re.escape(ARTICLE) + r'">Article 1er</a>.*?\(1 contribution\)', page, re.S
    )


def test_the_demo_consultation_says_how_many_days_are_left(demo: Site) -> None:
    page = demo.client.get(f"/consultations/{DEMO_SLUG}").text
    assert re.search(r'class="days-left">\d+ jours? restants?<', page)
