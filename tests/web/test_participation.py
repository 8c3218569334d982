"""Citizens annotate, amend, argue, reply, cite and vote on an article (no JS and htmx)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role
from consult.contributions.listing import THREAD_SHOWN
from consult.contributions.models import Contribution, ContributionKind, Vote
from consult.contributions.writing import MAX_BODY
from tests.support.site import Clock, Site, htmx_headers, make_settings, start_site

ARTICLE = "/consultations/bibliotheques/articles/art-1"


@pytest.fixture
def open_site(library: Site) -> Site:
    """The consultation on libraries, open, with a citizen logged in."""
    library.login(library.user())
    return library


def contributions(site: Site) -> list[Contribution]:
    return site.db(_all)


async def _all(session: AsyncSession) -> list[Contribution]:
    return list((await session.scalars(select(Contribution).order_by(Contribution.id))).all())


def post(site: Site, path: str, data: dict[str, str], **kwargs: Any) -> httpx2.Response:
    return site.client.post(ARTICLE + path, data=data, **kwargs)


def test_annotate_a_passage_without_javascript(open_site: Site) -> None:
    response = post(
        open_site,
        "/annotations",
        {"alinea": "1", "quote": "le dimanche", "body": "Et les jours fériés ?"},
    )
    assert response.status_code == 303
    (annotation,) = contributions(open_site)
    assert response.headers["location"] == (
        f"{ARTICLE}?sort=newest&posted={annotation.id}#c{annotation.id}"
    )
    assert annotation.kind is ContributionKind.ANNOTATION
    assert (annotation.quote_exact, annotation.quote_start, annotation.quote_end) == (
        "le dimanche",
        38,
        49,
    )
    assert annotation.quote_prefix.endswith("ouvrent ")
    page = open_site.client.get(ARTICLE)
    assert f'<mark class="passage">le dimanche</mark><a href="#c{annotation.id}"' in page.text
    assert "Et les jours fériés ?" in page.text


def test_annotation_quote_must_be_in_the_alinea(open_site: Site) -> None:
    response = post(
        open_site,
        "/annotations",
        {"alinea": "2", "quote": "le dimanche", "body": "Mon commentaire <b>gras</b>"},
    )
    assert response.status_code == 422
    assert "alinéa 2" in response.text
    assert "Mon commentaire &lt;b&gt;gras&lt;/b&gt;" in response.text  # kept, escaped
    assert 'id="annotate" class="contribute" open' in response.text
    assert contributions(open_site) == []


def test_annotation_as_htmx_redirects_to_the_new_contribution(open_site: Site) -> None:
    response = post(
        open_site,
        "/annotations",
        {"alinea": "2", "quote": "horaires", "body": "Lesquels ?"},
        headers=htmx_headers(),
    )
    assert response.status_code == 200
    assert re.fullmatch(
        rf"{ARTICLE}\?sort=newest&posted=(\d+)#c\1", response.headers["HX-Redirect"]
    )
    bad = post(
        open_site, "/annotations", {"alinea": "2", "quote": "", "body": ""}, headers=htmx_headers()
    )
    assert bad.status_code == 422
    assert bad.text.lstrip().startswith('<div id="article"')


def test_amendment_preview_then_publish(open_site: Site) -> None:
    data = {
        "operation": "replace_words",
        "alinea": "1",
        "old_text": "le dimanche",
        "occurrence": "1",
        "new_text": "le dimanche et les jours fériés",
        "body": "Les jours fériés comptent aussi.",
    }
    preview = post(open_site, "/amendments", {**data, "action": "preview"})
    assert preview.status_code == 200
    assert "remplacer les mots" in preview.text
    assert "<ins>" in preview.text
    assert contributions(open_site) == []

    published = post(open_site, "/amendments", {**data, "action": "publish"})
    assert published.status_code == 303
    (amendment,) = contributions(open_site)
    assert amendment.operation == "replace_words"
    page = open_site.client.get(ARTICLE)
    assert "remplacer les mots" in page.text
    permalink = open_site.client.get(f"/consultations/bibliotheques/contributions/{amendment.id}")
    assert permalink.status_code == 200
    assert "le dimanche et les jours fériés" in permalink.text


def test_amendment_errors_name_the_field(open_site: Site) -> None:
    response = post(
        open_site,
        "/amendments",
        {"operation": "delete_words", "alinea": "1", "old_text": "le lundi", "body": "x"},
    )
    assert response.status_code == 422
    assert 'id="error-amend-old_text"' in response.text
    assert 'value="delete_words" selected' in response.text
    unknown = post(open_site, "/amendments", {"operation": "explode", "body": "x"})
    assert unknown.status_code == 422
    assert contributions(open_site) == []


def test_overlapping_amendments_are_listed_together(open_site: Site) -> None:
    for new in ("le samedi", "chaque dimanche"):
        post(
            open_site,
            "/amendments",
            {
                "operation": "replace_words",
                "alinea": "1",
                "old_text": "le dimanche",
                "new_text": new,
                "body": "Autre idée.",
            },
        )
    first, second = contributions(open_site)
    page = open_site.client.get(ARTICLE)
    assert f'<a href="#c{second.id}">#{second.id}</a>' in page.text
    assert f'<a href="#c{first.id}">#{first.id}</a>' in page.text
    permalink = open_site.client.get(f"/consultations/bibliotheques/contributions/{first.id}")
    assert "chaque dimanche" in permalink.text.split('class="competing"')[1]


@pytest.mark.each_database
def test_arguments_replies_and_thread_depth(open_site: Site) -> None:
    post(open_site, "/arguments", {"stance": "pour", "body": "Excellente mesure."})
    (argument,) = contributions(open_site)
    parent_id = argument.id
    for depth in range(1, 4):
        response = open_site.client.post(
            f"{ARTICLE}/contributions/{parent_id}/replies", data={"body": f"Réponse {depth}"}
        )
        assert response.status_code == 303
        parent_id = contributions(open_site)[-1].id
    too_deep = open_site.client.post(
        f"{ARTICLE}/contributions/{parent_id}/replies", data={"body": "Encore"}
    )
    assert too_deep.status_code == 422
    items = contributions(open_site)
    assert [c.depth for c in items] == [0, 1, 2, 3]
    assert {c.root_id for c in items[1:]} == {argument.id}
    page = open_site.client.get(ARTICLE)
    assert all(f"Réponse {n}" in page.text for n in (1, 2, 3))
    bad_stance = post(open_site, "/arguments", {"stance": "peut-être", "body": "?"})
    assert bad_stance.status_code == 422


def test_argue_on_an_amendment(open_site: Site) -> None:
    post(
        open_site,
        "/amendments",
        {"operation": "delete_alinea", "alinea": "2", "body": "Inutile."},
    )
    (amendment,) = contributions(open_site)
    post(
        open_site,
        "/arguments",
        {"stance": "contre", "body": "Le décret est utile.", "amendment": str(amendment.id)},
    )
    argument = contributions(open_site)[-1]
    assert argument.parent_id == amendment.id and argument.stance == "contre"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.org/x",
        "https://",
        "example.org",
        "https://exa mple.org",
        "https://x.org/" + "a" * 2100,
    ],
)
def test_sources_need_a_web_address(open_site: Site, url: str) -> None:
    response = post(open_site, "/sources", {"url": url, "body": "Une note."})
    assert response.status_code == 422
    assert contributions(open_site) == []


def test_source_link_is_safe(open_site: Site) -> None:
    post(open_site, "/sources", {"url": "https://www.legifrance.gouv.fr/", "body": "Le code."})
    page = open_site.client.get(ARTICLE)
    assert (
        '<a href="https://www.legifrance.gouv.fr/" rel="nofollow ugc noopener noreferrer">'
        in page.text
    )


def test_markdown_and_html_in_bodies_are_sanitised(open_site: Site) -> None:
    body = (
        "**Important** <script>alert(1)</script> [lien](javascript:alert(2))"
        " <img src=x onerror=alert(3)>"
    )
    post(open_site, "/arguments", {"stance": "neutre", "body": body})
    page = open_site.client.get(ARTICLE)
    assert "<strong>Important</strong>" in page.text
    assert "<script>alert(1)" not in page.text
    assert 'href="javascript' not in page.text
    assert "<img" not in page.text


@pytest.mark.parametrize(
    "data",
    [
        {"stance": "pour", "body": ""},
        {"stance": "pour", "body": "   \n  "},
        {"stance": "pour", "body": "x" * (MAX_BODY + 1)},
    ],
)
def test_empty_or_oversized_texts_are_refused_and_kept(
    open_site: Site, data: dict[str, str]
) -> None:
    response = post(open_site, "/arguments", data)
    assert response.status_code == 422
    assert 'id="error-argue-body"' in response.text
    assert contributions(open_site) == []


def test_invalid_utf8_never_crashes(open_site: Site) -> None:
    response = open_site.client.post(
        ARTICLE + "/arguments",
        content=b"stance=pour&body=%FF%FE%FA",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # Undecodable bytes arrive as U+FFFD replacement characters: stored as sent, never a crash.
    assert response.status_code in (303, 400, 422)


@pytest.mark.each_database
def test_vote_change_and_withdraw(open_site: Site) -> None:
    post(open_site, "/arguments", {"stance": "pour", "body": "Oui."})
    (argument,) = contributions(open_site)
    vote_url = f"{ARTICLE}/contributions/{argument.id}/votes"
    assert open_site.client.post(vote_url, data={"value": "pour"}).status_code == 303
    assert contributions(open_site)[0].votes_for == 1
    open_site.client.post(vote_url, data={"value": "contre"})
    (argument,) = contributions(open_site)
    assert (argument.votes_for, argument.votes_against) == (0, 1)
    fragment = open_site.client.post(vote_url, data={"value": "mitige"}, headers=htmx_headers())
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith(f'<div id="votes-c{argument.id}"')
    assert 'value="mitige" class="vote vote-mitige" aria-pressed="true"' in fragment.text
    assert "Mitigé 1" in fragment.text or "Mixed 1" in fragment.text
    open_site.client.post(vote_url, data={"value": ""})
    (argument,) = contributions(open_site)
    assert argument.votes_total == 0
    assert open_site.scalar(select(func.count()).select_from(Vote)) == 0
    assert open_site.client.post(vote_url, data={"value": "bof"}).status_code == 422


def test_vote_on_the_article(open_site: Site) -> None:
    response = open_site.client.post(
        f"{ARTICLE}/votes", data={"value": "contre"}, headers=htmx_headers()
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="article_votes"')
    assert 'aria-pressed="true"' in response.text
    other = open_site.user()
    open_site.client.post("/account/logout")
    open_site.login(other)
    open_site.client.post(f"{ARTICLE}/votes", data={"value": "pour"})
    page = open_site.client.get(ARTICLE)
    assert re.search(r"(Pour|For) 1</span> ·", page.text)
    assert re.search(r"(Contre|Against) 1</span>", page.text)


@pytest.mark.each_database
def test_an_article_vote_is_changed_withdrawn_and_refused_on_an_unknown_article(
    open_site: Site,
) -> None:
    for value in ("pour", "pour", "mitige"):
        changed = open_site.client.post(
            f"{ARTICLE}/votes", data={"value": value}, headers=htmx_headers()
        )
        assert changed.status_code == 200
    (vote,) = open_site.db(_votes)
    assert vote.value.value == "mitige" and vote.article_key == ARTICLE.rsplit("/", 1)[1]
    assert re.search(r"(Mitigé|Mixed) 1</span>", changed.text)
    withdrawn = open_site.client.post(f"{ARTICLE}/votes", data={"value": ""})
    assert withdrawn.status_code == 303
    assert open_site.db(_votes) == []
    unknown = ARTICLE.rsplit("/", 1)[0] + "/art-999/votes"
    assert open_site.client.post(unknown, data={"value": "pour"}).status_code == 404
    assert open_site.db(_votes) == []


@pytest.mark.each_database
def test_one_vote_per_person_is_enforced_by_the_database(open_site: Site) -> None:
    post(open_site, "/arguments", {"stance": "pour", "body": "Oui."})
    (argument,) = contributions(open_site)
    open_site.client.post(f"{ARTICLE}/contributions/{argument.id}/votes", data={"value": "pour"})
    (vote,) = open_site.db(_votes)

    async def duplicate(session: AsyncSession) -> None:
        session.add(
            Vote(
                voter_id=vote.voter_id,
                consultation_id=vote.consultation_id,
                contribution_id=argument.id,
                value="contre",
            )
        )
        await session.flush()

    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        open_site.db(duplicate)


async def _votes(session: AsyncSession) -> list[Vote]:
    return list((await session.scalars(select(Vote))).all())


@pytest.mark.each_database
def test_closed_consultation_is_read_only(open_site: Site) -> None:
    post(open_site, "/arguments", {"stance": "pour", "body": "Avant la clôture."})
    (argument,) = contributions(open_site)

    async def close(session: AsyncSession) -> None:
        from consult.consultations.models import Consultation, ConsultationPhase, Phase

        consultation = await session.scalar(select(Consultation))
        assert consultation is not None
        session.add(
            ConsultationPhase(
                consultation_id=consultation.id,
                phase=Phase.CLOSED,
                starts_at=open_site.clock() - timedelta(minutes=1),
            )
        )

    open_site.db(close)
    page = open_site.client.get(ARTICLE)
    assert "Avant la clôture." in page.text
    assert 'id="annotate-form"' not in page.text
    assert "vote-form" not in page.text
    for path, data in (
        ("/arguments", {"stance": "pour", "body": "Trop tard"}),
        ("/annotations", {"alinea": "1", "quote": "le dimanche", "body": "Trop tard"}),
        ("/votes", {"value": "pour"}),
        (f"/contributions/{argument.id}/votes", {"value": "pour"}),
        (f"/contributions/{argument.id}/replies", {"body": "Trop tard"}),
    ):
        response = post(open_site, path, data)
        assert response.status_code == 422, path
        assert "not open" in response.text or "pas ouverte" in response.text
    assert len(contributions(open_site)) == 1


@pytest.mark.each_database
def test_sort_filter_and_paginate(open_site: Site) -> None:
    for n in range(25):
        post(open_site, "/arguments", {"stance": "pour", "body": f"Argument numéro {n:02d}"})
    post(open_site, "/annotations", {"alinea": "2", "quote": "décret", "body": "Quel décret ?"})
    items = contributions(open_site)
    loved, disputed = items[3], items[7]
    voters = [open_site.user() for _ in range(4)]
    for index, voter in enumerate(voters):
        open_site.client.post("/account/logout")
        open_site.login(voter)
        open_site.client.post(f"{ARTICLE}/contributions/{loved.id}/votes", data={"value": "pour"})
        value = "pour" if index % 2 else "contre"
        open_site.client.post(f"{ARTICLE}/contributions/{disputed.id}/votes", data={"value": value})

    def ids(query: str) -> list[int]:
        text = open_site.client.get(f"{ARTICLE}?{query}").text
        return [int(i) for i in re.findall(r'<article id="c(\d+)"', text)]

    assert ids("sort=supported")[0] == loved.id
    assert ids("sort=contested")[0] == disputed.id
    assert ids("sort=newest")[0] == items[-1].id
    assert ids("kind=annotation") == [items[-1].id]
    assert ids("alinea=2") == [items[-1].id]
    first_page, second_page = ids("sort=newest&page=1"), ids("sort=newest&page=2")
    assert len(first_page) == 20 and len(second_page) == 6
    assert not set(first_page) & set(second_page)
    fragment = open_site.client.get(
        f"{ARTICLE}?sort=newest&page=2&region=contributions", headers=htmx_headers()
    )
    assert fragment.text.lstrip().startswith('<div id="contributions"')
    assert open_site.client.get(f"{ARTICLE}?sort=<script>&page=-3&alinea=x").status_code == 200


@pytest.mark.each_database
def test_a_long_thread_shows_its_start_and_the_rest_one_link_away(open_site: Site) -> None:
    post(open_site, "/arguments", {"stance": "pour", "body": "Racine du fil."})
    (root,) = contributions(open_site)
    replies = THREAD_SHOWN + 3
    for n in range(replies):
        path = f"{ARTICLE}/contributions/{root.id}/replies"
        assert open_site.client.post(path, data={"body": f"Réponse numéro {n}."}).status_code == 303
    page = open_site.client.get(ARTICLE).text
    assert "Réponse numéro 0." in page and f"Réponse numéro {THREAD_SHOWN - 1}." in page
    assert f"Réponse numéro {THREAD_SHOWN}." not in page
    link = re.search(
        r'<p class="thread-more"><a href="([^"]+)" hx-get="([^"]+)"[^>]*>([^<]+)<', page
    )
    assert link, "the rest of the thread is one link away"
    assert " 3 " in link.group(3)
    # Without JavaScript: the contribution alone, with its whole thread.
    whole = open_site.client.get(link.group(1).replace("&amp;", "&")).text
    assert all(f"Réponse numéro {n}." in whole for n in range(replies))
    assert "thread-more" not in whole and "Racine du fil." in whole
    # With htmx: only the list is swapped in place.
    region = open_site.client.get(link.group(2).replace("&amp;", "&"), headers=htmx_headers())
    assert region.text.lstrip().startswith('<div id="contributions"')
    assert f"Réponse numéro {replies - 1}." in region.text and "<html" not in region.text


@pytest.mark.each_database
def test_article_page_query_count_does_not_grow_with_contributions(open_site: Site) -> None:
    def queries_for_page() -> int:
        # Embedding jobs queued by the posts run in the background: let them finish first.
        open_site.drain_jobs()

        def read() -> None:
            assert open_site.client.get(ARTICLE).status_code == 200

        return len(open_site.statements_during(read))

    post(open_site, "/arguments", {"stance": "pour", "body": "Un."})
    few = queries_for_page()
    parent = contributions(open_site)[0].id
    for n in range(15):
        post(open_site, "/arguments", {"stance": "contre", "body": f"Autre {n}"})
        open_site.client.post(f"{ARTICLE}/contributions/{parent}/replies", data={"body": f"R {n}"})
        post(
            open_site,
            "/amendments",
            {
                "operation": "insert_alinea",
                "alinea": "2",
                "new_text": f"Nouvel alinéa {n}.",
                "body": "Ajout.",
            },
        )
        post(
            open_site,
            "/annotations",
            {"alinea": "1", "quote": "bibliothèques", "body": f"Note {n}"},
        )
    many = queries_for_page()
    assert many == few


@pytest.mark.each_database
def test_a_vote_on_a_contribution_is_a_few_statements_and_no_savepoint(open_site: Site) -> None:
    """A vote is written in one statement, with no lock taken first and no savepoint."""
    post(open_site, "/arguments", {"stance": "pour", "body": "Un argument."})
    open_site.drain_jobs()
    target = contributions(open_site)[0].id
    path = f"{ARTICLE}/contributions/{target}/votes"
    for value in ("pour", "contre", ""):  # a first vote, a change, a withdrawal
        sent = open_site.statements_during(
            lambda value=value: open_site.client.post(path, data={"value": value})
        )
        assert not [s for s in sent if "SAVEPOINT" in s.upper()], sent
        # The session, the suspension, the consultation, the contribution, the vote: its
        # counters move in the database with it (decision 0043).
        assert len(sent) <= 5, sent
    assert contributions(open_site)[0].votes_for == 0


def test_anti_automation(library_url: str, clock: Clock) -> None:
    with start_site(make_settings(library_url, form_min_seconds=3), clock) as site:
        site.login(site.user(Role.OFFICIAL))
        page = site.client.get(ARTICLE)
        started = re.search(r'name="form_started" value="([^"]+)"', page.text)
        assert started, "the form carries the moment it was shown"
        data = {"stance": "pour", "body": "Trop rapide", "form_started": started.group(1)}
        assert post(site, "/arguments", data).status_code == 422  # sent at once
        site.clock.advance(seconds=5)
        assert post(site, "/arguments", {**data, "website": "spam"}).status_code == 422
        assert post(site, "/arguments", {**data, "form_started": "1.forged"}).status_code == 422
        assert post(site, "/arguments", data).status_code == 303


def test_posting_is_rate_limited_per_account(library_url: str, clock: Clock) -> None:
    settings = make_settings(library_url, rate_limit_contribute="3/minute", form_min_seconds=0)
    with start_site(settings, clock) as site:
        site.login(site.user(Role.OFFICIAL))
        codes = [
            post(site, "/arguments", {"stance": "pour", "body": f"n{n}"}).status_code
            for n in range(4)
        ]
        assert codes == [303, 303, 303, 429]


@pytest.mark.each_database
def test_double_submission_adds_nothing(open_site: Site) -> None:
    data = {"stance": "contre", "body": "Envoyé deux fois par un double clic."}
    first = post(open_site, "/arguments", data)
    second = post(open_site, "/arguments", data)
    assert first.headers["location"] == second.headers["location"]
    assert len(contributions(open_site)) == 1
    open_site.clock.advance(minutes=11)  # the same words later are a new contribution
    post(open_site, "/arguments", data)
    assert len(contributions(open_site)) == 2
