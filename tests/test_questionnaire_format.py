"""Reading a questionnaire officials wrote, in Markdown or JSON: every kind of question, and a
clear refusal naming the line for what cannot be read."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from consult import i18n
from consult.questionnaires.format import QuestionnaireParseError, parse_questionnaire
from consult.questionnaires.models import QuestionKind
from tests.support.questionnaires import QUESTIONNAIRE_MD


@pytest.fixture(autouse=True)
def in_french() -> Iterator[None]:
    """The messages officials read, in French whatever a test before left set."""
    with i18n.language("fr"):
        yield


def test_markdown_gives_sections_questions_options_scales_and_limits() -> None:
    parsed = parse_questionnaire(QUESTIONNAIRE_MD)
    assert parsed.introduction.startswith("Proposez des actions")
    assert [(q.key, q.kind, q.section) for q in parsed.questions] == [
        ("q1", QuestionKind.SINGLE, "Vous"),
        ("q2", QuestionKind.MULTIPLE, "Vous"),
        ("q3", QuestionKind.OPEN, "Votre proposition"),
        ("q4", QuestionKind.SCALE, "Votre proposition"),
    ]
    who, themes, proposal, scale = parsed.questions
    assert who.options == ("Citoyen ou citoyenne", "Association", "Administration")
    assert themes.help == "Cochez autant de thèmes que vous voulez."
    assert proposal.max_length == 2000 and proposal.help.startswith("Une action concrète")
    assert (scale.scale_min, scale.scale_max, scale.min_label, scale.max_label) == (
        1,
        5,
        "Pas du tout",
        "Tout à fait",
    )
    # the version it is published as: its sections, and its open questions as "articles"
    bill = parsed.as_bill()
    assert [(p.kind, p.key) for p, _parent in bill.walk() if p.kind != "alinea"] == [
        ("section", "section-1"),
        ("section", "section-2"),
        ("article", "q3"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("### Une question sans type ?", 1, "entre crochets"),
        ("### Une question ? [au hasard]", 1, "au hasard"),
        ("## A\n\n### Un seul choix ? [choix unique]\n- Oui\n", 3, "au moins deux options"),
        ("### Deux fois ? [choix multiples]\n- Oui\n- oui\n", 1, "deux fois"),
        ("### Ouverte ? [texte]\n- Une option\n", 1, "questions à choix"),
        ("### Note ? [échelle 5-1]\n", 1, "échelle"),
        ("### Note ? [échelle 0-50]\n", 1, "21 points"),
        ("### Note ? [échelle 1-5 : bas]\n", 1, "|"),
        ("## Section\nUn texte perdu.\n### Q ? [texte]\n", 2, "###"),
        ("### Q ? [choix unique]\n- A\nune aide trop tard\n- B\n", 3, "avant ses options"),
        ("Une introduction seule.", 0, "aucune question"),
    ],
)
def test_a_markdown_questionnaire_that_cannot_be_read_names_its_line(
    text: str, line: int, says: str
) -> None:
    with pytest.raises(QuestionnaireParseError) as refused:
        parse_questionnaire(text)
    assert refused.value.line == line
    assert says in str(refused.value)
    if line:
        assert str(refused.value).startswith(f"Ligne {line}")


def test_json_gives_the_same_questions_with_keys_of_its_own() -> None:
    document = {
        "introduction": "Bonjour.",
        "sections": [
            {
                "title": "Vous",
                "questions": [
                    {"key": "profil", "kind": "single", "prompt": "Qui ?", "options": ["A", "B"]},
                    {"kind": "open", "prompt": "Pourquoi ?", "max_length": 300},
                    {"kind": "scale", "prompt": "Note ?", "labels": ["Bas", "Haut"]},
                ],
            }
        ],
    }
    parsed = parse_questionnaire(json.dumps(document), "json")
    assert [q.key for q in parsed.questions] == ["profil", "q2", "q3"]
    assert parsed.questions[1].max_length == 300
    assert (parsed.questions[2].scale_min, parsed.questions[2].scale_max) == (1, 5)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ("{", "JSON valide"),
        ('{"questions": []}', "sections"),
        ("[" * 100_000 + "]" * 100_000, "sections"),
        ('{"sections": [{"questions": [{"kind": "free", "prompt": "Q"}]}]}', "open, single"),
        ('{"sections": [{"questions": [{"kind": "open", "prompt": "Q", "key": "Q 1"}]}]}', "clé"),
        (
            '{"sections": [{"questions": [{"kind": "scale", "prompt": "Q", "scale": [1]}]}]}',
            "[1, 5]",
        ),
        (
            '{"sections": [{"questions": [{"kind": "single", "prompt": "Q", "options": [1, 2]}]}]}',
            "textes",
        ),
        (
            '{"sections": [{"questions": [{"kind": "open", "prompt": "Q", "key": "a"},'
            ' {"kind": "open", "prompt": "R", "key": "a"}]}]}',
            "clé",
        ),
    ],
)
def test_a_json_questionnaire_that_cannot_be_read_says_why(document: str, says: str) -> None:
    with pytest.raises(QuestionnaireParseError) as refused:
        parse_questionnaire(document, "json")
    assert says in str(refused.value)
