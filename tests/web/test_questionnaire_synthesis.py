"""Answers imported from CSV, then the synthesis of an open question through the real pipeline:
groups with titles and quotes, answered as a group, the answer reaching its authors, and the
closed questions crossed with the groups."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markupsafe import escape
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.answers.models import ContributionOutcome
from consult.contributions.models import Contribution, ContributionKind
from consult.demo.questionnaire import QUESTIONNAIRE_MD, answers_csv, demo_answers
from consult.questionnaires.models import QuestionnaireResponse
from consult.synthesis.models import SynthesisCluster
from tests.support.pdf import pdf_text
from tests.support.questionnaires import QUESTIONNAIRE_SLUG, make_questionnaire
from tests.support.site import Site
from tests.support.synthesis import run_rows, start_and_finish

BASE = f"/consultations/{QUESTIONNAIRE_SLUG}"
PAGE = f"{BASE}/questionnaire"
MINE = (
    "Publier en ligne l’agenda des ministres et de leurs cabinets chaque semaine. On saurait"
    " enfin qui rencontre qui avant qu’une loi soit écrite."
)


def _import(site: Site, text: str, name: str = "answers.csv") -> str:
    response = site.client.post(
        f"{PAGE}/answers/import", files={"file": (name, text.encode(), "text/csv")}
    )
    assert response.status_code in (200, 422), response.text
    return response.text


def test_answers_imported_from_csv_are_kept_once_and_bad_rows_named(site: Site) -> None:
    make_questionnaire(site, source=QUESTIONNAIRE_MD)
    site.login(site.user(Role.OFFICIAL))
    answers = demo_answers(40)
    csv_text = answers_csv(answers)
    # the Grand Débat way: columns named by an identifier and the question's text
    csv_text = csv_text.replace(
        "reference,q1,q2,q3,q4,q5",
        "reference,QUXVlc3Rpb246MTYw - Vous répondez en tant que,q2,"
        "Quelle action proposez-vous ?,q4,q5,authorZipCode",
        1,
    )
    bad = (
        "ogp-9001,7,,Une idée.,,\n"
        "ogp-9002,1,,,,9\n"
        'ogp-9003,1,"1|Numérique et communs",Ouvrir le code.,,\n'
    )
    page = _import(site, csv_text + bad)
    assert "41 réponses importées" in page or "41 responses imported" in page
    assert "authorZipCode" in page  # said to be ignored
    for line in ("42", "43"):
        assert f"<td>{line}</td>" in page
    assert site.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 41
    texts = site.scalar(
        select(func.count())
        .select_from(Contribution)
        .where(Contribution.kind == ContributionKind.RESPONSE)
    )
    assert (
        texts == sum(1 for a in answers if a.proposal) + sum(1 for a in answers if a.who_leads) + 1
    )
    # the same file again adds nothing
    again = _import(site, csv_text)
    assert "40 déjà présentes" in again or "40 already present" in again
    assert site.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 41
    # a file that names no participant is refused whole
    refused = _import(site, "q1,q3\n1,Une idée.\n")
    assert "reference" in refused
    assert site.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 41


def test_an_open_question_is_synthesised_answered_as_groups_and_crossed_with_choices(
    site: Site,
) -> None:
    make_questionnaire(site, source=QUESTIONNAIRE_MD)
    citizen = site.user()
    site.login(citizen)
    sent = site.client.post(PAGE, data={"revision": "0", "q-q1": "1", "q-q2": "4", "q-q3": MINE})
    assert sent.status_code == 303
    site.client.cookies.clear()
    official = site.user(Role.OFFICIAL)
    site.login(official)
    _import(site, answers_csv(demo_answers(160)))
    site.drain_jobs()  # the answers are embedded
    run_id = start_and_finish(site, slug=QUESTIONNAIRE_SLUG)
    clusters = [c for c in run_rows(site, SynthesisCluster, run_id) if c.scope == "q3"]
    named = [c for c in clusters if not c.is_other and c.title]
    assert len(named) >= 3, [c.title for c in clusters]
    assert all(c.quotes for c in named)
    lobbying = next(
        c
        for c in named
        if "agenda" in c.title.lower()
        or "lobbies" in c.title.lower()
        or "représentants" in c.title.lower()
    )

    report = site.client.get(f"{BASE}/synthesis/articles/q3")
    assert report.status_code == 200
    assert str(escape(lobbying.title)) in report.text
    assert "Question 3" in report.text or "Quelle action proposez-vous" in report.text

    # the group is answered once; the answer reaches the citizen's own response
    url = f"{BASE}/answers/cluster/{lobbying.id}"
    done = site.client.post(
        url,
        data={"state": "accepted", "reason": "Nous publierons les agendas.", "action": "publish"},
    )
    assert done.status_code == 303, done.text
    mine = site.scalar(select(Contribution.id).where(Contribution.author_id == citizen.id))
    assert (
        site.scalar(
            select(ContributionOutcome.answer_id).where(ContributionOutcome.contribution_id == mine)
        )
        is not None
    )

    # the results cross the choices with the groups of the open answers, on their own page
    # and on the synthesis report
    results = site.client.get(f"{PAGE}/results")
    assert results.status_code == 200
    crossing = results.text.split('class="crossing"', 1)[1]
    assert str(escape(lobbying.title)) in crossing
    report = site.client.get(f"{BASE}/synthesis")
    assert report.status_code == 200
    assert str(escape(lobbying.title)) in report.text.split('class="crossing"', 1)[1]

    site.client.cookies.clear()
    site.login(citizen)
    own = site.client.get("/account/contributions")
    assert "Nous publierons les agendas." in own.text or "Accept" in own.text


# Words of a bill's synthesis that a questionnaire's must not show (French, then English).
BILL_WORDS = re.compile(r"\b(articles?|amendements?|amendments?)\b", re.IGNORECASE)


class _Text(HTMLParser):
    """The text a reader sees in a page's main content (no tags, attributes or scripts)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.depth = 0
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "main" or self.depth:
            self.depth += tag not in ("br", "img", "input", "meta", "link", "hr")
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
        self.skip -= tag in ("script", "style") and self.skip > 0

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def squeezed(text: str) -> str:
    """Without any white space, to find a title a PDF may have broken over lines."""
    return "".join(text.split())


def test_a_questionnaires_synthesis_speaks_of_questions_and_exports_its_figures(
    site: Site,
) -> None:
    make_questionnaire(site, source=QUESTIONNAIRE_MD)
    site.login(site.user(Role.OFFICIAL))
    # answers that never name a bill's words themselves, so that any such word is the page's
    answers = [a for a in demo_answers(200) if not BILL_WORDS.search(f"{a.proposal} {a.who_leads}")]
    assert len(answers) >= 120
    _import(site, answers_csv(answers))
    site.drain_jobs()
    run_id = start_and_finish(site, slug=QUESTIONNAIRE_SLUG)

    # officials, in French then English: questions and answers, never articles or amendments
    for language, read_answers in (
        ("fr", "Lire les réponses à cette question"),
        ("en", "Read the answers to this question"),
    ):
        site.client.headers["Accept-Language"] = language
        whole = site.client.get(f"{BASE}/synthesis")
        question = site.client.get(f"{BASE}/synthesis/articles/q3")
        assert whole.status_code == question.status_code == 200
        for page in (whole, question):
            text = visible_text(page.text)
            assert "Question 3" in text
            assert not BILL_WORDS.search(text), [
                text[max(m.start() - 80, 0) : m.end() + 40] for m in BILL_WORDS.finditer(text)
            ]
        assert read_answers in visible_text(question.text)
        representative = (
            "Réponses représentatives" if language == "fr" else "Representative answers"
        )
        assert representative in visible_text(question.text)
        assert f'href="{BASE}/inbox/articles/q3"' in question.text
        assert site.client.get(f"{BASE}/inbox/articles/q3").status_code == 200
    site.client.headers["Accept-Language"] = "fr"

    # while answers are taken, the public reads the groups but no figure of the closed questions
    site.client.cookies.clear()
    public = site.client.get(f"{BASE}/synthesis")
    assert public.status_code == 200 and 'class="crossing"' not in public.text
    assert "Lire le questionnaire" in visible_text(
        site.client.get(f"{BASE}/synthesis/articles/q3").text
    )
    assert site.client.get(f"{BASE}/synthesis/report.json").json()["questions"] is None

    # closed: the JSON carries the figures and crossings the page shows
    site.login(site.user(Role.OFFICIAL, email="closer@example.org"))
    assert site.client.post(f"{BASE}/phase", data={"phase": "closed"}).status_code == 303
    site.client.cookies.clear()
    html = site.client.get(f"{BASE}/synthesis").text
    document = site.client.get(f"{BASE}/synthesis/report.json").json()
    figures = document["questions"]
    assert figures["run"] == run_id
    assert f"{figures['respondents']} participants ont répondu" in html
    by_key = {q["key"]: q for q in figures["questions"]}
    assert set(by_key) == {"q1", "q2", "q3", "q4", "q5"}
    assert by_key["q3"]["kind"] == "open" and by_key["q3"]["options"] == []
    assert sum(o["count"] for o in by_key["q1"]["options"]) == by_key["q1"]["answered"] > 0
    assert by_key["q5"]["mean"] is not None
    crossed = 0
    for q in figures["questions"]:
        section = html.split(f'id="result-{q["key"]}"', 1)[1].split('class="question-result"')[0]
        assert str(escape(q["prompt"])) in section
        for option in q["options"]:
            percent = round(option["share"] * 100)
            assert f"<td>{option['count']} ({percent}&nbsp;%)</td>" in section
        for crossing in q["crossings"]:
            for option in crossing["options"]:
                for group in option["groups"]:
                    link = f'{BASE}/synthesis/articles/{crossing["question"]}#group-{group["id"]}"'
                    shown = f'{link} lang="fr">{escape(group["title"])}</a>'
                    assert f"{shown} ({group['count']} sur {option['grouped']})" in section
                    crossed += 1
    assert crossed >= 3

    # the PDF carries them too
    pdf = site.client.get(f"{BASE}/synthesis/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = squeezed(pdf_text(pdf.content))
    assert squeezed(by_key["q1"]["prompt"]) in text
    title = next(
        g["title"] for c in by_key["q1"]["crossings"] for o in c["options"] for g in o["groups"]
    )
    assert squeezed(title) in text
    assert "Question3" in text
    assert not re.search("article|amendement", text, re.IGNORECASE)
