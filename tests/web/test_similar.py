"""Similar contributions shown while a citizen writes (htmx) and on the preview step (no JS)."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role
from consult.contributions.models import Contribution, Visibility
from consult.contributions.writing import MAX_BODY
from consult.synthesis.similar import ConsultationIndex
from tests.support.seeding import LIBRARY_SLUG, SMALL_BILL, make_consultation
from tests.support.site import Site, htmx_headers

SLUG = LIBRARY_SLUG
ARTICLE = f"/consultations/{SLUG}/articles/art-1"
SIMILAR = f"{ARTICLE}/similar-contributions"

HOLIDAYS = "Les bibliothèques devraient aussi ouvrir les jours fériés, pas seulement le dimanche."
HOLIDAYS_AGAIN = (
    "Il faudrait que les bibliothèques ouvrent également les jours fériés "
    "et pas uniquement le dimanche."
)
BICYCLES = "Le stationnement des vélos devant la mairie est insuffisant depuis des années."


def publish_bill(site: Site, slug: str) -> None:
    make_consultation(site, slug=slug)
    site.login(site.user(Role.OFFICIAL, email=f"redaction-{slug}@example.org"))
    response = site.client.post(
        f"/consultations/{slug}/bill/versions", data={"source": SMALL_BILL, "format": "markdown"}
    )
    assert response.status_code == 303
    site.client.post("/account/logout")


def annotate(site: Site, body: str, article: str = ARTICLE, quote: str = "le dimanche") -> int:
    """Publish an annotation through the form, its vector stored by the job; returns its id."""
    alinea = "1" if article.endswith("art-1") else "2"
    response = site.client.post(
        f"{article}/annotations", data={"alinea": alinea, "quote": quote, "body": body}
    )
    assert response.status_code == 303, response.text
    site.drain_jobs()
    return int(response.headers["location"].rsplit("#c", 1)[1])


@pytest.fixture
def site(library: Site) -> Site:
    """Here, the site holds the consultation on libraries, open, its bill published."""
    return library


@pytest.fixture
def written(site: Site) -> dict[str, int]:
    """A consultation where a first citizen wrote two annotations; a second one is logged in."""
    site.login(site.user())
    ids = {"holidays": annotate(site, HOLIDAYS), "bicycles": annotate(site, BICYCLES)}
    site.client.post("/account/logout")
    site.login(site.user())
    return ids


def ask(site: Site, body: str, **fields: str) -> httpx2.Response:
    return site.client.post(
        SIMILAR, data={"form": "annotate", "body": body, **fields}, headers=htmx_headers()
    )


@pytest.mark.each_database
def test_a_paraphrase_is_shown_and_an_unrelated_text_is_not(
    site: Site, written: dict[str, int]
) -> None:
    response = ask(site, HOLIDAYS_AGAIN)
    assert response.status_code == 200
    assert f"/contributions/{written['holidays']}" in response.text
    assert f"/contributions/{written['bicycles']}" not in response.text
    # A vote widget of its own, answering under this list's element id.
    assert f'id="annotate-similar-votes-c{written["holidays"]}"' in response.text
    assert 'role="alert"' not in response.text  # nothing may take the focus while typing
    unrelated = ask(site, "Les horaires des piscines municipales sont trop courts en été.")
    assert unrelated.status_code == 200
    assert "/contributions/" not in unrelated.text


def test_short_or_missing_text_shows_nothing(site: Site, written: dict[str, int]) -> None:
    for body in ("", "Jours fériés aussi", "   "):
        response = ask(site, body)
        assert response.status_code == 200
        assert "/contributions/" not in response.text
    no_field = site.client.post(SIMILAR, data={}, headers=htmx_headers())
    assert no_field.status_code == 200 and "/contributions/" not in no_field.text


def test_hidden_contributions_are_not_shown(site: Site, written: dict[str, int]) -> None:
    assert f"/contributions/{written['holidays']}" in ask(site, HOLIDAYS_AGAIN).text

    async def hide(session: AsyncSession) -> None:
        await session.execute(
            update(Contribution)
            .where(Contribution.id == written["holidays"])
            .values(visibility=Visibility.HIDDEN)
        )

    site.db(hide)  # hidden after the index was loaded
    assert f"/contributions/{written['holidays']}" not in ask(site, HOLIDAYS_AGAIN).text
    # and a fresh process never loads it
    with site.restarted() as fresh:
        assert f"/contributions/{written['holidays']}" not in ask(fresh, HOLIDAYS_AGAIN).text


def test_new_contributions_join_the_index_once_embedded(
    site: Site, written: dict[str, int]
) -> None:
    assert (
        "/contributions/"
        not in ask(site, "Le prêt de liseuses numériques devrait être gratuit.").text
    )
    later = annotate(
        site, "Le prêt de liseuses numériques doit être gratuit pour tous les lecteurs."
    )
    response = ask(site, "Le prêt de liseuses numériques devrait être gratuit.")
    assert f"/contributions/{later}" in response.text


def test_other_consultations_are_not_searched(site: Site, written: dict[str, int]) -> None:
    site.client.post("/account/logout")
    publish_bill(site, slug="musees")
    site.login(site.user())
    elsewhere = annotate(site, HOLIDAYS, article="/consultations/musees/articles/art-1")
    response = ask(site, HOLIDAYS_AGAIN)
    assert f"/contributions/{written['holidays']}" in response.text
    assert f"/contributions/{elsewhere}" not in response.text


def test_the_same_article_comes_first(site: Site, written: dict[str, int]) -> None:
    other_article = annotate(
        site,
        "Les bibliothèques devraient ouvrir également les jours fériés, "
        "et pas seulement le dimanche.",
        article=f"/consultations/{SLUG}/articles/art-2",
        quote="Les mineurs",
    )
    text = ask(site, HOLIDAYS_AGAIN).text
    here, there = f"/contributions/{written['holidays']}", f"/contributions/{other_article}"
    assert here in text and there in text
    assert text.index(here) < text.index(there)
    assert text.count("another article") + text.count("autre article") == 1


def test_bad_input_is_refused_with_a_message(site: Site, written: dict[str, int]) -> None:
    too_long = ask(site, "mot " * (MAX_BODY // 4 + 1))
    assert too_long.status_code == 422
    assert f"{MAX_BODY}" in too_long.text or f"{MAX_BODY:,}".replace(",", " ") in too_long.text
    with_nul = site.client.post(SIMILAR, data={"body": "a\x00b " * 5}, headers=htmx_headers())
    assert with_nul.status_code == 400
    unknown_form = site.client.post(
        SIMILAR, data={"form": "<script>", "body": HOLIDAYS_AGAIN}, headers=htmx_headers()
    )
    assert unknown_form.status_code == 200 and "<script>" not in unknown_form.text
    missing = site.client.post(
        f"/consultations/{SLUG}/articles/art-99/similar-contributions", data={"body": HOLIDAYS}
    )
    assert missing.status_code == 404


def test_anonymous_readers_are_sent_to_log_in(site: Site, written: dict[str, int]) -> None:
    site.client.post("/account/logout")
    response = site.client.post(SIMILAR, data={"body": HOLIDAYS_AGAIN})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login")


def test_a_closed_consultation_answers_with_a_message(site: Site, written: dict[str, int]) -> None:
    async def close(session: AsyncSession) -> None:
        from consult.consultations.models import Consultation, ConsultationPhase, Phase

        consultation = await session.scalar(select(Consultation))
        assert consultation is not None
        session.add(
            ConsultationPhase(
                consultation_id=consultation.id,
                phase=Phase.CLOSED,
                starts_at=site.clock() - timedelta(minutes=1),
            )
        )

    site.db(close)
    response = ask(site, HOLIDAYS_AGAIN)
    assert response.status_code == 422
    assert "not open" in response.text or "pas ouverte" in response.text
    assert "/contributions/" not in response.text


def test_the_page_asks_while_typing(site: Site, written: dict[str, int]) -> None:
    page = site.client.get(ARTICLE).text
    assert 'id="annotate-similar" class="similar" aria-live="polite"' in page
    assert 'id="amend-similar" class="similar" aria-live="polite"' in page
    assert f'hx-post="{SIMILAR}"' in page
    assert 'hx-trigger="input changed delay:800ms"' in page
    assert 'hx-target="#annotate-similar"' in page


def region(page: str, form: str) -> str:
    """The similar-contributions region of one form on a full page."""
    start = page.index(f'id="{form}-similar"')
    return page[start : page.index("</details>", start)]


def count_contributions(site: Site) -> int:
    return int(site.scalar(select(func.count()).select_from(Contribution)))


def test_annotation_preview_without_javascript_then_publish(
    site: Site, written: dict[str, int]
) -> None:
    data = {"alinea": "1", "quote": "le dimanche", "body": HOLIDAYS_AGAIN}
    before = count_contributions(site)
    preview = site.client.post(f"{ARTICLE}/annotations", data={**data, "action": "preview"})
    assert preview.status_code == 200
    assert 'id="annotate" class="contribute" open' in preview.text
    assert "annotate-preview-title" in preview.text
    shown = region(preview.text, "annotate")
    assert f"/contributions/{written['holidays']}" in shown
    assert f"/contributions/{written['bicycles']}" not in shown
    assert count_contributions(site) == before  # a preview saves nothing
    published = site.client.post(f"{ARTICLE}/annotations", data={**data, "action": "publish"})
    assert published.status_code == 303
    assert count_contributions(site) == before + 1


def test_annotation_preview_checks_like_publishing(site: Site, written: dict[str, int]) -> None:
    wrong = site.client.post(
        f"{ARTICLE}/annotations",
        data={"alinea": "2", "quote": "le dimanche", "body": HOLIDAYS_AGAIN, "action": "preview"},
    )
    assert wrong.status_code == 422
    assert 'id="error-annotate-quote"' in wrong.text


def test_amendment_preview_shows_similar_contributions(site: Site, written: dict[str, int]) -> None:
    data = {
        "operation": "replace_words",
        "alinea": "1",
        "old_text": "le dimanche",
        "occurrence": "1",
        "new_text": "le dimanche et les jours fériés",
        "body": "Les bibliothèques doivent ouvrir aussi les jours fériés, "
        "pas seulement le dimanche.",
    }
    preview = site.client.post(f"{ARTICLE}/amendments", data={**data, "action": "preview"})
    assert preview.status_code == 200
    assert "remplacer les mots" in preview.text
    assert f'id="amend-similar-votes-c{written["holidays"]}"' in region(preview.text, "amend")
    assert "/contributions/" not in region(preview.text, "annotate")
    published = site.client.post(f"{ARTICLE}/amendments", data={**data, "action": "publish"})
    assert published.status_code == 303


def test_a_vote_from_the_list_answers_with_the_list_widget(
    site: Site, written: dict[str, int]
) -> None:
    holidays = written["holidays"]
    vote_url = f"{ARTICLE}/contributions/{holidays}/votes"
    response = site.client.post(
        f"{vote_url}?similar=annotate", data={"value": "pour"}, headers=htmx_headers()
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<div id="annotate-similar-votes-c{holidays}"')
    assert 'aria-pressed="true"' in response.text
    plain = site.client.post(vote_url, data={"value": "contre"}, headers=htmx_headers())
    assert plain.text.lstrip().startswith(f'<div id="votes-c{holidays}"')
    without_js = site.client.post(f"{vote_url}?similar=annotate", data={"value": "pour"})
    assert without_js.status_code == 303


def test_the_index_keeps_the_newest_rows_within_its_budget() -> None:
    import numpy as np

    from consult.synthesis.similar import _Row

    index = ConsultationIndex(1, "test", max_bytes=3 * (4 * 4 + 20))
    vectors = np.eye(4, dtype=np.float32)
    rows = [_Row(i, "art-1", f"{i:064x}") for i in range(1, 5)]
    index.add(rows[:2], vectors[:2])
    index.add(rows[2:], vectors[2:])
    assert index.size == 3
    assert list(index.ids[: index.size]) == [2, 3, 4]
    found = index.search(vectors[3], "art-1", 0.5, 5)
    assert [match.contribution_id for match in found] == [4]
    index.forget([4])
    assert index.search(vectors[3], "art-1", 0.5, 5) == []
