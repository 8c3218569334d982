"""A questionnaire in the open data and the read API: its questions at once, its closed answers
and figures once it is closed, participants pseudonymised."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from consult.consultations.models import Consultation, ConsultationPhase, Phase
from tests.support.questionnaires import (
    PROPOSAL,
    QUESTIONNAIRE_SLUG,
    SCALE,
    THEMES,
    WHO,
    make_questionnaire,
)
from tests.support.site import Site

BASE = f"/consultations/{QUESTIONNAIRE_SLUG}"
API = f"/api/v1/consultations/{QUESTIONNAIRE_SLUG}/questionnaire"


def _answer(site: Site, data: dict[str, object]) -> str:
    site.client.cookies.clear()
    citizen = site.user()
    site.login(citizen)
    assert (
        site.client.post(f"{BASE}/questionnaire", data={"revision": "0", **data}).status_code == 303
    )
    site.client.cookies.clear()
    return str(citizen.email)


def _close(site: Site, consultation: Consultation) -> None:
    async def close(session: AsyncSession) -> None:
        session.add(
            ConsultationPhase(
                consultation_id=consultation.id,
                phase=Phase.CLOSED,
                starts_at=site.clock() - timedelta(minutes=1),
            )
        )

    site.db(close)


def _export(site: Site) -> zipfile.ZipFile:
    response = site.client.get(f"{BASE}/export.zip")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


def _rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with archive.open(f"{name}.csv") as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


@pytest.mark.each_database
def test_the_api_gives_the_questions_and_the_figures_once_closed(site: Site) -> None:
    consultation = make_questionnaire(site)
    _answer(
        site, {WHO: "1", THEMES: ["1", "2"], SCALE: "4", PROPOSAL: "Des budgets participatifs."}
    )
    _answer(site, {WHO: "1", THEMES: "2", SCALE: "5"})
    listed = site.client.get("/api/v1/consultations").json()["consultations"]
    assert {c["slug"]: c["kind"] for c in listed}[QUESTIONNAIRE_SLUG] == "questionnaire"
    open_now = site.client.get(API).json()
    assert [q["key"] for q in open_now["questions"]] == ["q1", "q2", "q3", "q4"]
    assert open_now["questions"][3]["scale"] == {
        "min": 1,
        "max": 5,
        "min_label": "Pas du tout",
        "max_label": "Tout à fait",
    }
    assert open_now["respondents"] is None
    assert all(q["results"] is None for q in open_now["questions"])
    _close(site, consultation)
    closed = site.client.get(API).json()
    assert closed["respondents"] == 2
    figures = {q["key"]: q["results"] for q in closed["questions"]}
    assert figures["q1"] == {"answered": 2, "counts": [2, 0, 0]}
    assert figures["q2"] == {"answered": 2, "counts": [1, 2, 0]}
    assert figures["q3"] == {"answered": 1, "counts": []}
    assert figures["q4"] == {"answered": 2, "counts": [0, 0, 0, 1, 1]}
    # a consultation on a bill has no questionnaire
    assert site.client.get("/api/v1/consultations/nope/questionnaire").status_code == 404


def test_the_export_holds_the_questions_and_once_closed_the_answers(site: Site) -> None:
    consultation = make_questionnaire(site)
    email = _answer(
        site, {WHO: "2", THEMES: ["1", "3"], SCALE: "2", PROPOSAL: "Ouvrir les données."}
    )
    archive = _export(site)
    questions = _rows(archive, "questions")
    assert [(q["key"], q["kind"]) for q in questions] == [
        ("q1", "single"),
        ("q2", "multiple"),
        ("q3", "open"),
        ("q4", "scale"),
    ]
    assert questions[0]["options"] == "Citoyen ou citoyenne | Association | Administration"
    assert _rows(archive, "questionnaire_answers") == []  # still open
    responses = [c for c in _rows(archive, "contributions") if c["kind"] == "response"]
    assert [(c["article_key"], c["body"]) for c in responses] == [("q3", "Ouvrir les données.")]

    _close(site, consultation)
    archive = _export(site)
    answers = _rows(archive, "questionnaire_answers")
    by_question = {a["question"]: a for a in answers}
    assert by_question["q1"]["choices"] == "2" and by_question["q2"]["choices"] == "1|3"
    assert by_question["q4"]["value"] == "2"
    assert by_question["q3"]["contribution_id"] == responses[0]["id"]
    assert {a["respondent"] for a in answers} == {responses[0]["author"]}
    assert responses[0]["author"].startswith("p-")
    assert email not in archive.read("questionnaire_answers.csv").decode()
