"""Answering a questionnaire over HTTP without JavaScript: once per person, edited while open,
refused with a clear 4xx (and nothing lost) on bad input, when closed, from a stale form."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, VerificationLevel
from consult.consultations.models import Consultation, ConsultationPhase, Phase
from consult.contributions.models import Contribution, ContributionKind, Vote
from consult.questionnaires.models import QuestionAnswer, QuestionnaireResponse
from tests.support.questionnaires import (
    PROPOSAL,
    QUESTIONNAIRE_MD,
    QUESTIONNAIRE_SLUG,
    SCALE,
    THEMES,
    WHO,
    make_questionnaire,
)
from tests.support.seeding import ministry
from tests.support.site import Site

PAGE = f"/consultations/{QUESTIONNAIRE_SLUG}/questionnaire"
PROPOSAL_TEXT = "Publier en ligne les agendas des ministres chaque semaine."


def _responses(site: Site) -> int:
    return int(site.scalar(select(func.count()).select_from(QuestionnaireResponse)))


def _close(site: Site) -> None:
    async def close(session: AsyncSession) -> None:
        session.add(
            ConsultationPhase(
                consultation_id=1,
                phase=Phase.CLOSED,
                starts_at=site.clock() - __import__("datetime").timedelta(minutes=1),
            )
        )

    site.db(close)


def test_a_visitor_reads_the_questions_and_is_asked_to_log_in(site: Site) -> None:
    make_questionnaire(site)
    page = site.client.get(PAGE)
    assert page.status_code == 200
    assert "Vous répondez en tant que" in page.text and "Tout à fait" in page.text
    assert "gouvernement ouvert" in page.text  # the introduction, in Markdown
    assert "Se connecter pour répondre" in page.text or "Log in to answer" in page.text
    overview = site.client.get(f"/consultations/{QUESTIONNAIRE_SLUG}")
    assert PAGE in overview.text
    sent = site.client.post(PAGE, data={WHO: "1"})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/account/login")


def test_a_citizen_answers_once_then_edits_while_open(site: Site) -> None:
    make_questionnaire(site)
    citizen = site.user()
    site.login(citizen)
    first = site.client.post(
        PAGE,
        data={"revision": "0", WHO: "2", THEMES: ["1", "3"], PROPOSAL: PROPOSAL_TEXT, SCALE: "2"},
    )
    assert first.status_code == 303, first.text
    shown = site.client.get(first.headers["location"])
    assert "Vos réponses sont enregistrées" in shown.text
    assert PROPOSAL_TEXT in shown.text
    assert 'value="2" checked' in shown.text  # the association, and the point 2 of the scale
    assert 'name="revision" value="1"' in shown.text
    # the open answer is a contribution of its own kind, scoped to its question
    body, kind, key = site.rows(
        select(Contribution.body, Contribution.kind, Contribution.article_key)
    )[0]
    assert (body, kind, key) == (PROPOSAL_TEXT, ContributionKind.RESPONSE, "q3")

    edited = site.client.post(
        PAGE,
        data={
            "revision": "1",
            WHO: "1",
            THEMES: "2",
            PROPOSAL: "Ouvrir les données des marchés publics.",
        },
    )
    assert edited.status_code == 303
    assert _responses(site) == 1
    assert site.rows(select(Contribution.body)) == [("Ouvrir les données des marchés publics.",)]
    choices = sorted(tuple(c) for (c,) in site.rows(select(QuestionAnswer.choices)) if c)
    assert choices == [(1,), (2,)]
    # the point of the scale left out is withdrawn
    assert (
        site.scalar(
            select(func.count())
            .select_from(QuestionAnswer)
            .where(QuestionAnswer.value.is_not(None))
        )
        == 0
    )


def test_bad_answers_are_refused_with_the_form_and_nothing_saved(site: Site) -> None:
    make_questionnaire(site)
    site.login(site.user())
    cases = {
        "unknown option": {WHO: "9"},
        "two options of a single choice": {WHO: ["1", "2"]},
        "not a number": {THEMES: "Transparence"},
        "out of the scale": {SCALE: "6"},
        "too long": {PROPOSAL: "x" * 2001},
        "nothing answered": {PROPOSAL: "   "},
    }
    for case, data in cases.items():
        response = site.client.post(PAGE, data={"revision": "0", **data})
        assert response.status_code == 422, case
        assert 'role="alert"' in response.text, case
        assert "<form" in response.text, case
    assert _responses(site) == 0
    assert site.scalar(select(func.count()).select_from(Contribution)) == 0
    # what was typed comes back in the form
    kept = site.client.post(PAGE, data={"revision": "0", SCALE: "6", PROPOSAL: PROPOSAL_TEXT})
    assert kept.status_code == 422 and PROPOSAL_TEXT in kept.text


def test_a_form_from_an_older_revision_is_refused_and_the_saved_answers_kept(site: Site) -> None:
    make_questionnaire(site)
    site.login(site.user())
    assert (
        site.client.post(PAGE, data={"revision": "0", PROPOSAL: PROPOSAL_TEXT}).status_code == 303
    )
    # a second tab, opened before the first answer, sends its form
    stale = site.client.post(PAGE, data={"revision": "0", PROPOSAL: "Autre chose."})
    assert stale.status_code == 409
    assert "Autre chose." in stale.text and 'name="revision" value="1"' in stale.text
    assert site.rows(select(Contribution.body)) == [(PROPOSAL_TEXT,)]
    # sent again from the form it was shown, it replaces the answer
    again = site.client.post(PAGE, data={"revision": "1", PROPOSAL: "Autre chose."})
    assert again.status_code == 303
    assert site.rows(select(Contribution.body)) == [("Autre chose.",)]


def test_answers_are_refused_once_closed_and_stay_as_saved(site: Site) -> None:
    make_questionnaire(site)
    site.login(site.user())
    assert site.client.post(PAGE, data={"revision": "0", WHO: "3"}).status_code == 303
    _close(site)
    refused = site.client.post(PAGE, data={"revision": "1", WHO: "1"})
    assert refused.status_code == 422
    assert "pas ouverte" in refused.text
    assert site.rows(select(QuestionAnswer.choices)) == [([3],)]
    page = site.client.get(PAGE)
    assert "disabled" in page.text and "Envoyer mes réponses" not in page.text


def test_results_are_for_officials_while_open_then_for_everyone(site: Site) -> None:
    make_questionnaire(site)
    for who, themes in (("1", ["1", "2"]), ("1", ["2"]), ("2", ["2", "3"])):
        site.client.cookies.clear()
        site.login(site.user())
        assert (
            site.client.post(PAGE, data={"revision": "0", WHO: who, THEMES: themes}).status_code
            == 303
        )
    site.client.cookies.clear()
    assert site.client.get(f"{PAGE}/results").status_code == 404
    official = site.user(Role.OFFICIAL)
    site.login(official)
    results = site.client.get(f"{PAGE}/results")
    assert results.status_code == 200
    assert "3 participants" in results.text
    # the figures are text (2 of 3 chose the citizen option: 67 %), the bars only draw them
    assert "2 (67&nbsp;%)" in results.text and "3 (100&nbsp;%)" in results.text
    assert '<svg class="result-bar"' in results.text
    site.client.cookies.clear()
    _close(site)
    assert site.client.get(f"{PAGE}/results").status_code == 200


def test_an_official_imports_the_questions_and_a_bad_text_names_its_line(site: Site) -> None:
    consultation = make_questionnaire(site, published=False)
    official = site.user(Role.OFFICIAL)
    site.login(official)
    assert site.client.get(PAGE).status_code == 200
    form = site.client.get(f"{PAGE}/import")
    assert form.status_code == 200
    bad = QUESTIONNAIRE_MD.replace("[choix unique]", "[au hasard]")
    preview = site.client.post(f"{PAGE}/preview", data={"source": bad, "format": "markdown"})
    assert preview.status_code == 422
    assert "Ligne 5" in preview.text and "au hasard" in preview.text
    good = site.client.post(
        f"{PAGE}/preview", data={"source": QUESTIONNAIRE_MD, "format": "markdown"}
    )
    assert good.status_code == 200 and "4 questions" in good.text
    published = site.client.post(
        f"{PAGE}/versions", data={"source": QUESTIONNAIRE_MD, "format": "markdown"}
    )
    assert published.status_code == 303
    assert "Décrivez votre proposition" in site.client.get(PAGE).text
    assert consultation.slug == QUESTIONNAIRE_SLUG


def test_another_ministrys_official_cannot_import_questions(site: Site) -> None:
    make_questionnaire(site, published=False)
    site.login(site.official_of_another_ministry())
    assert site.client.get(f"{PAGE}/import").status_code == 403
    refused = site.client.post(f"{PAGE}/versions", data={"source": QUESTIONNAIRE_MD})
    assert refused.status_code == 403
    assert site.client.get(f"{PAGE}/answers/import").status_code == 403
    assert "Décrivez" not in site.client.get(PAGE).text


def test_every_page_of_a_questionnaire_consultation_answers(site: Site) -> None:
    """The questionnaire's own pages, and the pages it shares with bills (inbox, feedback,
    dashboard, a contribution, moderation), for a visitor and an official, plain and htmx."""
    make_questionnaire(site)
    site.login(site.user())
    assert (
        site.client.post(PAGE, data={"revision": "0", PROPOSAL: PROPOSAL_TEXT}).status_code == 303
    )
    response_id = site.scalar(select(Contribution.id))
    site.client.cookies.clear()
    base = f"/consultations/{QUESTIONNAIRE_SLUG}"
    public = [
        base,
        PAGE,
        f"{base}/contributions/{response_id}",
        f"{base}/feedback",
        f"{base}/synthesis",
    ]
    official_only = [
        f"{PAGE}/results",
        f"{PAGE}/import",
        f"{PAGE}/answers/import",
        f"{base}/inbox",
        f"{base}/inbox/articles/q3",
        f"{base}/dashboard",
        f"{base}/moderation",
        f"{base}/answers/contribution/{response_id}",
    ]
    for path in public:
        assert site.client.get(path).status_code == 200, path
    site.login(site.user(Role.OFFICIAL))
    for path in public + official_only:
        plain = site.client.get(path)
        assert plain.status_code == 200, path
        partial = site.client.get(
            path, headers={"HX-Request": "true", "HX-Request-Type": "partial"}
        )
        assert partial.status_code == 200, path
    inbox = site.client.get(f"{base}/inbox/articles/q3").text
    assert PROPOSAL_TEXT in inbox
    dashboard = site.client.get(f"{base}/dashboard").text
    assert f"{PAGE}/results" in dashboard and "/versions/next" not in dashboard
    # a question is no article: its address leads to the questionnaire, and nothing is posted
    article = site.client.get(f"{base}/articles/q3")
    assert article.status_code == 303 and article.headers["location"] == PAGE
    refused = site.client.post(
        f"{base}/articles/q3/arguments", data={"stance": "pour", "body": "Oui."}
    )
    assert refused.status_code == 404


def test_an_official_creates_a_questionnaire_consultation_from_the_form(site: Site) -> None:
    site.db(ministry)
    site.login(site.user(Role.OFFICIAL))
    form = site.client.get("/consultations/new")
    assert 'value="questionnaire"' in form.text
    data = {"title": "Appel à idées", "slug": "appel", "open": "2027-03-01T09:00"}
    odd = site.client.post("/consultations", data={**data, "kind": "sondage"})
    assert odd.status_code == 422 and "un projet de loi ou un questionnaire" in odd.text
    created = site.client.post("/consultations", data={**data, "kind": "questionnaire"})
    assert created.status_code == 303
    assert created.headers["location"] == "/consultations/appel/questionnaire/import"
    # a consultation on a bill has no questionnaire, and a questionnaire no bill import
    assert site.client.get("/consultations/appel/questionnaire").status_code == 200
    published = site.client.post(
        "/consultations/appel/questionnaire/versions", data={"source": QUESTIONNAIRE_MD}
    )
    assert published.status_code == 303
    overview = site.client.get("/consultations/appel")
    assert "Répondre au questionnaire" not in overview.text  # not open yet
    assert "Lire le questionnaire" in overview.text and "Le projet de loi" not in overview.text


def test_a_questionnaire_asking_for_a_confirmed_address_refuses_the_others(site: Site) -> None:
    make_questionnaire(site)

    async def require(session: AsyncSession) -> None:
        await session.execute(
            update(Consultation).values(participation_requires=VerificationLevel.EMAIL)
        )

    site.db(require)
    site.login(site.user())
    page = site.client.get(PAGE).text
    assert "confirmer leur adresse électronique" in page and "Envoyer mes réponses" not in page
    refused = site.client.post(PAGE, data={"revision": "0", WHO: "1"})
    assert refused.status_code == 422 and "confirmer leur adresse" in refused.text
    assert _responses(site) == 0


def test_an_answer_hidden_by_moderation_leaves_the_figures_and_the_synthesis(site: Site) -> None:
    make_questionnaire(site)
    site.login(site.user())
    sent = site.client.post(PAGE, data={"revision": "0", WHO: "1", PROPOSAL: "Des insultes."})
    assert sent.status_code == 303
    site.client.cookies.clear()
    site.login(site.user(Role.OFFICIAL))
    response_id = site.scalar(select(Contribution.id))
    hidden = site.client.post(
        f"/consultations/{QUESTIONNAIRE_SLUG}/moderation/contributions/{response_id}",
        data={"action": "hide", "reason": "Propos injurieux."},
    )
    assert hidden.status_code == 303, hidden.text
    results = site.client.get(f"{PAGE}/results").text
    open_question = results.split('id="result-q3"', 1)[1].split("</section>", 1)[0]
    assert "0 réponse" in open_question
    closed_question = results.split('id="result-q1"', 1)[1].split("</section>", 1)[0]
    assert "1 réponse" in closed_question


def test_odd_values_are_refused_never_a_server_error(site: Site) -> None:
    make_questionnaire(site)
    site.login(site.user())
    odd = ["²", "٣", "1e3", "-1", "0", "99999999999999999999", " 2 ", "", "1,2", "🙂", "\u200b1"]
    for field in (WHO, THEMES, SCALE):
        for value in odd:
            response = site.client.post(PAGE, data={"revision": "0", field: value})
            assert response.status_code in (303, 409, 422), (field, value, response.status_code)
    # a well-formed number with spaces around is taken; nothing else was
    assert site.rows(select(QuestionAnswer.choices, QuestionAnswer.value)) in (
        [([2], None)],
        [([], 2)],
    )
    stale = site.client.post(PAGE, data={"revision": "x", WHO: "1"})
    assert stale.status_code == 409


def test_open_answers_take_no_vote_and_no_reply(site: Site) -> None:
    make_questionnaire(site)
    site.login(site.user())
    assert (
        site.client.post(PAGE, data={"revision": "0", PROPOSAL: PROPOSAL_TEXT}).status_code == 303
    )
    answer_id = site.scalar(select(Contribution.id))
    site.client.cookies.clear()
    site.login(site.user())
    thread = f"/consultations/{QUESTIONNAIRE_SLUG}/articles/q3/contributions/{answer_id}"
    assert site.client.post(f"{thread}/votes", data={"value": "pour"}).status_code == 404
    assert site.client.post(f"{thread}/replies", data={"body": "D'accord."}).status_code == 404
    assert site.scalar(select(func.count()).select_from(Vote)) == 0
    assert site.scalar(select(func.count()).select_from(Contribution)) == 1
