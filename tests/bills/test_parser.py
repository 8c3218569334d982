"""Tests for the bill parser: examples, malformed corpus and properties."""

from __future__ import annotations

import dataclasses
import pickle
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.bills import parser as parser_module
from consult.bills.parser import (
    MAX_BILL_CHARS,
    BillFormat,
    BillParseError,
    DivisionKind,
    ParsedBill,
    ParsedProvision,
    parse_bill,
    render_bill,
)
from consult.i18n import get_language, set_language

MALFORMED_DIR = Path(__file__).parent / "malformed"
KEY_RE = re.compile(r"^[a-z0-9-]+$")


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Assertions below read the English messages, whatever catalogues are compiled."""
    previous = get_language()
    set_language("en")
    yield
    set_language(previous)


BILL = """\
# EXPOSÉ DES MOTIFS

La présente loi renforce la participation du public
à l'élaboration des textes législatifs.

Elle comporte trois chapitres.

## CHAPITRE Ier
Dispositions générales

### Article 1er : Objet

La présente loi a pour objet d'associer le public à l'élaboration de la loi.

### Article 2

Le code des relations entre le public et l'administration est ainsi modifié :
1° L'article L. 131-1 est ainsi modifié :
a) Au premier alinéa, le mot : « peut » est remplacé par le mot : « doit » ;
b) Le second alinéa est supprimé ;
2° L'article L. 131-2 est abrogé.

### Article 2 bis – Rapport

Le Gouvernement remet au Parlement un rapport
sur l'application de la présente loi.

## CHAPITRE II : Consultations en ligne

### Article 3

I. – Toute consultation est ouverte pendant au moins trois semaines.

II. – Les contributions sont publiées.

## Chapitre III
## Dispositions finales

### Article 4

La présente loi entre en vigueur le 1er janvier 2027.
"""


def strip_lines(node: ParsedProvision) -> ParsedProvision:
    """The node with every `line` set to 0, to compare trees built from different texts."""
    return dataclasses.replace(node, line=0, children=tuple(strip_lines(c) for c in node.children))


def without_lines(bill: ParsedBill) -> ParsedBill:
    return dataclasses.replace(bill, provisions=tuple(strip_lines(p) for p in bill.provisions))


def shape(node: ParsedProvision) -> tuple[str, tuple[object, ...]]:
    return node.key, tuple(shape(child) for child in node.children if child.kind != "alinea")


def parse_error(text: str, format: BillFormat = "markdown") -> BillParseError:
    with pytest.raises(BillParseError) as caught:
        parse_bill(text, format)
    return caught.value


# --- Examples ----------------------------------------------------------------------------------


def test_realistic_bill_tree() -> None:
    bill = parse_bill(BILL)

    assert bill.explanatory_memorandum == (
        "La présente loi renforce la participation du public à l'élaboration des textes "
        "législatifs.\n\nElle comporte trois chapitres."
    )
    assert [shape(node) for node in bill.provisions] == [
        ("chap-1", (("art-1", ()), ("art-2", ()), ("art-2-bis", ()))),
        ("chap-2", (("art-3", ()),)),
        ("chap-3", (("art-4", ()),)),
    ]
    chap1, chap2, chap3 = bill.provisions
    assert (chap1.kind, chap1.number, chap1.heading, chap1.line) == (
        "chapitre",
        "Ier",
        "Dispositions générales",
        8,
    )
    assert (chap2.number, chap2.heading) == ("II", "Consultations en ligne")
    assert (chap3.number, chap3.heading) == ("III", "Dispositions finales")
    assert chap1.text == ""

    art1, art2, art2bis = chap1.children
    assert (art1.kind, art1.number, art1.heading, art1.line) == ("article", "1er", "Objet", 11)
    assert (art2bis.number, art2bis.heading) == ("2 bis", "Rapport")
    assert [(a.key, a.number, a.label, a.line) for a in art2.children] == [
        ("art-2-al-1", "1", "", 17),
        ("art-2-al-2", "2", "1°", 18),
        ("art-2-al-3", "3", "a)", 19),
        ("art-2-al-4", "4", "b)", 20),
        ("art-2-al-5", "5", "2°", 21),
    ]
    assert art2.children[1].text == "1° L'article L. 131-1 est ainsi modifié :"
    assert art2.children[2].text == (
        "a) Au premier alinéa, le mot : « peut » est remplacé par le mot : « doit » ;"
    )
    assert all(a.kind == "alinea" and a.heading == "" for a in art2.children)
    assert art2bis.children[0].text == (
        "Le Gouvernement remet au Parlement un rapport sur l'application de la présente loi."
    )
    art3 = chap2.children[0]
    assert [(a.label, a.text) for a in art3.children] == [
        ("I.", "I. – Toute consultation est ouverte pendant au moins trois semaines."),
        ("II.", "II. – Les contributions sont publiées."),
    ]
    assert [a.key for a in bill.articles()] == ["art-1", "art-2", "art-2-bis", "art-3", "art-4"]


def test_walk_yields_parents_in_pre_order() -> None:
    bill = parse_bill(BILL)
    walked = [(node.key, parent.key if parent else None) for node, parent in bill.walk()]
    assert walked[:4] == [
        ("chap-1", None),
        ("art-1", "chap-1"),
        ("art-1-al-1", "art-1"),
        ("art-2", "chap-1"),
    ]
    assert ("chap-2", None) in walked
    assert len(walked) == len({key for key, _ in walked})


def test_text_format_every_line_is_an_alinea() -> None:
    text = (
        "Exposé des motifs\n"
        "Première phrase.\n"
        "Deuxième phrase.\n"
        "\n"
        "TITRE Ier\n"
        "Article 1er\n"
        "Le premier alinéa\n"
        "continue ici.\n"
        "- un tiret\n"
    )
    bill = parse_bill(text, "text")
    assert bill.explanatory_memorandum == "Première phrase.\n\nDeuxième phrase."
    article = bill.articles()[0]
    assert [(a.text, a.label) for a in article.children] == [
        ("Le premier alinéa", ""),
        ("continue ici.", ""),
        ("un tiret", "-"),
    ]
    assert bill.provisions[0].heading == ""


def test_markdown_blocks_join_lines_and_items_start_alineas() -> None:
    text = (
        "Article 1er\n"
        "Le premier   alinéa\n"
        "continue ici.   \n"
        "- premier tiret\n"
        "  suite du tiret\n"
        "* second tiret\n"
        "1. élément ordonné\n"
        "a bis) point intercalé\n"
        "A. – Premier point\n"
        "– tiret cadratin\n"
        "\n"
        "\n"
        "Dernier alinéa."
    )
    alineas = parse_bill(text).articles()[0].children
    assert [(a.label, a.text) for a in alineas] == [
        ("", "Le premier alinéa continue ici."),
        ("-", "premier tiret suite du tiret"),
        ("-", "second tiret"),
        ("1.", "élément ordonné"),
        ("a bis)", "a bis) point intercalé"),
        ("A.", "A. – Premier point"),
        ("–", "– tiret cadratin"),
        ("", "Dernier alinéa."),
    ]
    assert [a.line for a in alineas] == [2, 4, 6, 7, 8, 9, 10, 13]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
@pytest.mark.parametrize("format", ["markdown", "text"])
def test_line_endings_and_bom(newline: str, format: BillFormat) -> None:
    text = "\ufeffChapitre Ier\n\nArticle 1er\n\nLe texte.\n".replace("\n", newline)
    bill = parse_bill(text, format)
    article = bill.articles()[0]
    assert (bill.provisions[0].line, article.line, article.children[0].line) == (1, 3, 5)
    assert article.children[0].text == "Le texte."


@pytest.mark.parametrize(
    ("line", "number", "heading"),
    [
        ("Article 1er : Objet", "1er", "Objet"),
        ("Article 1er – Objet", "1er", "Objet"),
        ("Article 1er — Objet", "1er", "Objet"),
        ("Article 1er - Objet", "1er", "Objet"),
        ("Article 1er. Objet", "1er", "Objet"),
        ("Article 1er: Objet", "1er", "Objet"),
        ("# Article 1er", "1er", ""),
        ("###### Article premier", "1er", ""),
        ("## **Article 1er** : Objet", "1er", "Objet"),
        ("__Article 1er__", "1er", ""),
        ("ARTICLE 1ER", "1er", ""),
        ("article   1er   :   Objet   général", "1er", "Objet général"),
        ("Article 1ᵉʳ", "1er", ""),
        ("Article 1", "1er", ""),
        ("Article 2 bis", "2 bis", ""),
        ("Article 2 BIS a", "2 bis A", ""),
        ("Article 12 quinquies B : Titre", "12 quinquies B", "Titre"),
        ("Article 3 quaterdecies", "3 quaterdecies", ""),
        ("Article unique", "unique", ""),
        ("## Article 1er ##", "1er", ""),
    ],
)
def test_article_heading_forms(line: str, number: str, heading: str) -> None:
    article = parse_bill(f"{line}\n\nLe texte.\n").articles()[0]
    assert (article.number, article.heading) == (number, heading)


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("1er", "art-1"),
        ("premier", "art-1"),
        ("2", "art-2"),
        ("2 bis", "art-2-bis"),
        ("2 bis A", "art-2-bis-a"),
        ("1er A", "art-1-a"),
        ("unique", "art-unique"),
        ("liminaire", "art-liminaire"),
    ],
)
def test_article_keys(number: str, key: str) -> None:
    bill = parse_bill(f"Article {number}\nLe texte.\nSecond alinéa.", "text")
    article = bill.articles()[0]
    assert article.key == key
    assert [a.key for a in article.children] == [f"{key}-al-1", f"{key}-al-2"]


@pytest.mark.parametrize(
    ("line", "kind", "number", "heading", "key"),
    [
        ("TITRE Ier", "titre", "Ier", "", "titre-1"),
        ("TITRE II : Dispositions", "titre", "II", "Dispositions", "titre-2"),
        ("Titre 1er", "titre", "1er", "", "titre-1"),
        ("Titre 3 – Divers", "titre", "3", "Divers", "titre-3"),
        ("Titre premier", "titre", "Ier", "", "titre-1"),
        ("Titre XXXIX", "titre", "XXXIX", "", "titre-39"),
        ("Titre XIV", "titre", "XIV", "", "titre-14"),
        ("# Titre préliminaire", "titre", "préliminaire", "", "titre-preliminaire"),
        ("CHAPITRE Ier", "chapitre", "Ier", "", "chap-1"),
        ("Chapitre 2. Objet", "chapitre", "2", "Objet", "chap-2"),
        ("Chapitre III bis", "chapitre", "III bis", "", "chap-3-bis"),
        ("Chapitre unique", "chapitre", "unique", "", "chap-unique"),
        ("**CHAPITRE IV**", "chapitre", "IV", "", "chap-4"),
        ("  chapitre   v  -  Fin", "chapitre", "V", "Fin", "chap-5"),
    ],
)
def test_division_heading_forms(line: str, kind: str, number: str, heading: str, key: str) -> None:
    division = parse_bill(f"{line}\n\nArticle 1er\n\nLe texte.\n").provisions[0]
    assert (division.kind, division.number, division.heading, division.key) == (
        kind,
        number,
        heading,
        key,
    )


def test_nested_division_keys_and_numbers() -> None:
    text = (
        "TITRE II\n"
        "Chapitre 3\n"
        "Section 1\n"
        "Sous section 2\n"
        "Article 1er\nTexte.\n"
        "Section 2 : Suite\n"
        "Sous-section 1re\n"
        "Article 2\nTexte.\n"
        "SECTION 3\n"
        "Article 3\nTexte.\n"
    )
    bill = parse_bill(text, "text")
    keys = [(n.key, n.number, n.line) for n, _ in bill.walk() if n.kind != "alinea"]
    assert keys == [
        ("titre-2", "II", 1),
        ("titre-2-chap-3", "3", 2),
        ("titre-2-chap-3-sec-1", "1re", 3),
        ("titre-2-chap-3-sec-1-ssec-2", "2", 4),
        ("art-1", "1er", 5),
        ("titre-2-chap-3-sec-2", "2", 7),
        ("titre-2-chap-3-sec-2-ssec-1", "1re", 8),
        ("art-2", "2", 9),
        ("titre-2-chap-3-sec-3", "3", 11),
        ("art-3", "3", 12),
    ]
    # Chapters restart numbering within each titre: same number, different keys.
    two_titres = "Titre Ier\nChapitre Ier\nArticle 1er\nA.\nTitre II\nChapitre Ier\nArticle 2\nB."
    assert [n.key for n, _ in parse_bill(two_titres, "text").walk() if n.kind == "chapitre"] == [
        "titre-1-chap-1",
        "titre-2-chap-1",
    ]


def test_division_heading_on_next_line() -> None:
    text = (
        "TITRE Ier\n"
        "\n"
        "**Dispositions générales**\n"
        "\n"
        "## CHAPITRE Ier\n"
        "### Principes\n"
        "Chapitre II\n"
        "Article 1er\n"
        "Le texte.\n"
    )
    titre = parse_bill(text).provisions[0]
    assert titre.heading == "Dispositions générales"
    chap1, chap2 = titre.children
    assert chap1.heading == "Principes"
    assert chap1.children == ()
    # The line after "Chapitre II" is a heading, so chapter II has no title.
    assert chap2.heading == ""
    assert chap2.children[0].key == "art-1"


def test_markdown_sub_heading_after_article_is_its_title() -> None:
    bill = parse_bill("##### Article 1er\n###### Objet de la loi\n\nLe texte.")
    article = bill.articles()[0]
    assert (article.heading, article.children[0].text) == ("Objet de la loi", "Le texte.")


@pytest.mark.parametrize(
    "alinea",
    [
        "L'article L. 123-4 est ainsi modifié :",
        "l'article 5 est abrogé.",
        "Article 5 of the code is repealed.",
        "Article 5 est abrogé.",
        "Article L. 123-4 du code de la santé publique",
        "Articles 3 et 4",
        "Section 2 du chapitre III du titre Ier est abrogée.",
        "Titre de séjour",
        "Le chapitre II est complété par un article 7 ainsi rédigé :",
        "Exposé des motifs",
    ],
)
def test_lines_that_only_look_like_headings_are_text(alinea: str) -> None:
    bill = parse_bill(f"Article 1er\n\n{alinea}\n")
    assert [a.text for a in bill.articles()[0].children] == [alinea]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Article abc", "invalid article heading"),
        ("Article", "invalid article heading"),
        ("Article 0", "invalid article heading"),
        ("Article 01", "invalid article heading"),
        ("Article 2 bis bis", "invalid article heading"),
        ("Article unique bis", "invalid article heading"),
        ("Article ٣", "invalid article heading"),
        ("Article abc : Objet", "invalid article heading"),
        ("## Article premier alinéa.", "invalid article heading"),
        ("Chapitre zéro", "invalid heading"),
        ("Chapitre", "invalid heading"),
        ("TITRE IIII", "invalid heading"),
        ("Titre IC", "invalid heading"),
        ("Titre 2er", "invalid heading"),
        ("Section 0", "invalid heading"),
        ("### Titre II bis ter", "invalid heading"),
    ],
)
def test_malformed_headings(line: str, expected: str) -> None:
    error = parse_error(f"Article 1er\n\nLe texte.\n\n{line}\n\nAutre texte.\n")
    assert error.line == 5
    assert expected in error.message
    assert "expected" in error.message


@pytest.mark.parametrize(
    "text",
    [
        "Expose des motifs\nTexte.\nArticle 1er\nA.",
        "EXPOSÉ DES MOTIFS\nTexte.\nArticle 1er\nA.",
        "## Exposé des motifs :\nTexte.\nArticle 1er\nA.",
        "\n\n  Exposé   des   motifs\nTexte.\nArticle 1er\nA.",
    ],
)
def test_memorandum_heading_variants(text: str) -> None:
    assert parse_bill(text).explanatory_memorandum == "Texte."


def test_memorandum_is_optional_and_may_be_empty() -> None:
    assert parse_bill("Article 1er\nA.").explanatory_memorandum == ""
    assert parse_bill("Exposé des motifs\n\nArticle 1er\nA.").explanatory_memorandum == ""


def test_memorandum_keeps_markdown_sub_headings_as_paragraphs() -> None:
    text = "# Exposé des motifs\n## Contexte\nUn texte\nsur deux lignes.\n\nArticle 1er\nA."
    assert parse_bill(text).explanatory_memorandum == "## Contexte\n\nUn texte sur deux lignes."


def test_bill_with_articles_only() -> None:
    bill = parse_bill("Article 1er\nA.\n\nArticle 2\nB.\n")
    assert [p.kind for p in bill.provisions] == ["article", "article"]
    assert bill.provisions[1].children[0].text == "B."


# --- Errors ------------------------------------------------------------------------------------


def test_error_carries_line_and_translated_message() -> None:
    error = parse_error("Article 1er\nA.\n\nArticle abc\nB.")
    assert error.line == 4
    assert str(error) == error.message
    assert error.message.startswith("Line 4: ")
    assert "“Article abc”" in error.message
    assert isinstance(error, ValueError)
    restored = pickle.loads(pickle.dumps(error))  # noqa: S301 - pickled just above, trusted
    assert (restored.line, restored.message) == (4, error.message)


def test_messages_go_through_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser_module, "_", lambda message: "[fr] " + message)
    assert parse_error("Chapitre Ier : X\nTexte.").message.startswith("[fr] Line 2: ")


def test_long_lines_are_trimmed_in_messages() -> None:
    error = parse_error("x" * 500 + "\nArticle 1er\nA.")
    assert error.line == 1
    assert "x" * 79 + "…" in error.message
    assert "x" * 81 not in error.message


def test_non_str_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_bill(b"Article 1er\nA.")  # type: ignore[arg-type]


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_bill("Article 1er\nA.", "html")  # type: ignore[arg-type]


def test_too_long_text() -> None:
    text = "Article 1er\n" + "a" * MAX_BILL_CHARS
    error = parse_error(text)
    assert error.line == 0
    assert str(MAX_BILL_CHARS) in error.message


def test_large_bill_is_accepted() -> None:
    article = "Article {n}\n\n" + ("Le texte de l'alinéa est assez long. " * 20 + "\n\n") * 5
    text = "".join(article.format(n=n) for n in range(1, 400))
    assert len(parse_bill(text).articles()) == 399


def malformed_cases() -> list[tuple[Path, str]]:
    return [
        (path, fmt)
        for path in sorted(MALFORMED_DIR.glob("*.txt"))
        for fmt in ("markdown", "text")
        if not (fmt == "text" and "__md-" in path.name)
    ]


EXPECTED_SUBSTRINGS = {
    "0__empty.txt": ["empty"],
    "0__only-whitespace.txt": ["empty"],
    "1__text-before-heading.txt": ["Exposé des motifs", "Article", "Projet de loi"],
    "3__invalid-roman-numeral.txt": ["TITRE IIII", "Roman numeral"],
    "4__article-without-number.txt": ["“Article”", "1er"],
    "3__article-abc.txt": ["Article abc", "2 bis"],
    "5__duplicate-article.txt": ["Article 1er", "line 1"],
    "4__duplicate-chapter.txt": ["line 1", "Chapitre 1er"],
    "2__section-outside-chapitre.txt": ["Chapitre", "Section 1"],
    "3__text-between-chapitre-and-article.txt": ["Article", "Chapitre Ier"],
    "3__article-without-alinea-at-end.txt": ["Article 2", "alinéa"],
    "1__article-without-alinea-before-article.txt": ["Article 1er", "alinéa"],
    "0__no-article.txt": ["Article"],
    "2__control-character.txt": ["U+0000"],
    "2__sous-section-outside-section.txt": ["Section", "Sous-section 1"],
    "4__chapitre-zero.txt": ["Chapitre zéro", "Roman numeral"],
    "5__md-unrecognised-heading-in-article.txt": ["Dispositions diverses", "Article"],
}


@pytest.mark.parametrize(("path", "format"), malformed_cases(), ids=lambda v: getattr(v, "name", v))
def test_malformed_corpus(path: Path, format: BillFormat) -> None:
    expected_line = int(path.name.split("__", 1)[0])
    text = path.read_bytes().decode("utf-8")
    error = parse_error(text, format)
    assert error.line == expected_line, error.message
    assert error.message.strip()
    assert "expected" in error.message or "duplicate" in error.message or "already" in error.message
    if expected_line:
        assert error.message.startswith(f"Line {expected_line}: ")
    for substring in EXPECTED_SUBSTRINGS.get(path.name, []):
        assert substring in error.message


def test_corpus_is_large_enough() -> None:
    assert len(list(MALFORMED_DIR.glob("*.txt"))) >= 15


# --- Properties --------------------------------------------------------------------------------

FIRST_WORDS = ["Le", "La", "Les", "Au", "Après", "L'article", "Il", "Une", "Dans", "Pour", "À"]
WORDS = [
    "le", "code", "de", "la", "santé", "publique", "est", "ainsi", "modifié", "après", "mot",
    "les", "mots", "sont", "remplacés", "par", "« collectivité »", "L. 123-4", "à", "compter",
    "du", "1er", "janvier", "2026", "présent", "article", "chapitre", "titre", "section", "bis",
    "alinéa", "l'État", "d'une", "consultation", "en", "ligne", "œuvre", "ou", "et", "n°", "–",
]  # fmt: skip
TITLE_WORDS = ["Dispositions", "Objet", "Entrée", "Consultation", "Rapport", "Principes"]
ADVERBS = ["bis", "ter", "quater", "quinquies", "sexies", "septies", "octies", "nonies", "decies"]


def sentences() -> st.SearchStrategy[str]:
    return st.builds(
        lambda first, words, end: " ".join([first, *words]) + end,
        st.sampled_from(FIRST_WORDS),
        st.lists(st.sampled_from(WORDS), max_size=10),
        st.sampled_from([".", " :", " ;", ""]),
    )


def titles() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.builds(
            lambda first, words: " ".join([first, *words]),
            st.sampled_from(TITLE_WORDS),
            st.lists(st.sampled_from(WORDS), max_size=5),
        ),
    )


def to_roman(value: int) -> str:
    numerals = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    result = ""
    for amount, numeral in numerals:
        count, value = divmod(value, amount)
        result += numeral * count
    return result


@st.composite
def alineas(draw: st.DrawFn, article_key: str) -> tuple[ParsedProvision, ...]:
    result = []
    for index in range(1, draw(st.integers(1, 3)) + 1):
        sentence = draw(sentences())
        style = draw(st.sampled_from(["", "", "degree", "letter", "roman", "bullet", "ordered"]))
        if style == "degree":
            label = f"{draw(st.integers(1, 20))}°"
            label, text = label, f"{label} {sentence}"
        elif style == "letter":
            label = draw(st.sampled_from("abcdefgh")) + ")"
            text = f"{label} {sentence}"
        elif style == "roman":
            label = to_roman(draw(st.integers(1, 12))) + "."
            text = f"{label} – {sentence}"
        elif style == "bullet":
            label, text = "-", sentence
        elif style == "ordered":
            label, text = f"{draw(st.integers(1, 30))}.", sentence
        else:
            label, text = "", sentence
        result.append(
            ParsedProvision(
                kind="alinea",
                key=f"{article_key}-al-{index}",
                number=str(index),
                heading="",
                text=text,
                line=0,
                label=label,
            )
        )
    return tuple(result)


def division_number(kind: str, value: int, roman: bool) -> str:
    feminine = kind in ("section", "sous-section")
    if value == 1:
        return ("Ire" if feminine else "Ier") if roman else ("1re" if feminine else "1er")
    return to_roman(value) if roman else str(value)


CHILD_DIVISIONS: dict[DivisionKind | None, list[DivisionKind]] = {
    None: ["chapitre", "titre"],
    "titre": ["chapitre"],
    "chapitre": ["section"],
    "section": ["sous-section"],
    "sous-section": [],
}
KEY_PREFIX = {"titre": "titre", "chapitre": "chap", "section": "sec", "sous-section": "ssec"}


@st.composite
def bill_trees(draw: st.DrawFn) -> ParsedBill:
    """Random well-formed bills: article numbers are filled in document order afterwards."""
    article_numbers = iter(
        draw(
            st.lists(
                st.tuples(
                    st.integers(1, 40),
                    st.none() | st.sampled_from(ADVERBS),
                    st.none() | st.sampled_from("ABC"),
                ),
                unique=True,
                min_size=13,
                max_size=13,
            )
        )
    )

    def article() -> ParsedProvision:
        base, adverb, letter = next(article_numbers)
        number = " ".join(p for p in ("1er" if base == 1 else str(base), adverb, letter) if p)
        key = "-".join(p for p in ("art", str(base), adverb, letter and letter.lower()) if p)
        return ParsedProvision(
            kind="article",
            key=key,
            number=number,
            heading=draw(titles()),
            text="",
            line=0,
            children=draw(alineas(key)),
        )

    budget = [12]  # bounds the number of articles

    def contents(kind: DivisionKind | None, key: str, depth: int) -> tuple[ParsedProvision, ...]:
        children = []
        for _ in range(draw(st.integers(0, 2))):
            if budget[0] > 0:
                budget[0] -= 1
                children.append(article())
        for child_kind in CHILD_DIVISIONS[kind]:
            if depth >= 4:
                break
            values = draw(st.lists(st.integers(1, 39), unique=True, max_size=2))
            for value in values:
                adverb = draw(st.none() | st.sampled_from(ADVERBS[:2]))
                own = f"{KEY_PREFIX[child_kind]}-{value}" + (f"-{adverb}" if adverb else "")
                child_key = f"{key}-{own}" if key else own
                number = division_number(child_kind, value, draw(st.booleans()))
                children.append(
                    ParsedProvision(
                        kind=child_kind,
                        key=child_key,
                        number=f"{number} {adverb}" if adverb else number,
                        heading=draw(titles()),
                        text="",
                        line=0,
                        children=contents(child_kind, child_key, depth + 1),
                    )
                )
        return tuple(children)

    provisions = contents(None, "", 0)
    if not any(node.kind == "article" for node, _ in ParsedBill("", provisions).walk()):
        provisions = (article(), *provisions)
    memorandum = "\n\n".join(draw(st.lists(sentences(), max_size=3)))
    return ParsedBill(explanatory_memorandum=memorandum, provisions=provisions)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bill=bill_trees(), format=st.sampled_from(["markdown", "text"]))
def test_render_then_parse_round_trips(bill: ParsedBill, format: BillFormat) -> None:
    rendered = render_bill(bill, format)
    parsed = parse_bill(rendered, format)
    assert without_lines(parsed) == bill
    assert_keys_are_valid(parsed)


def assert_keys_are_valid(bill: ParsedBill) -> None:
    keys = [node.key for node, _ in bill.walk()]
    assert len(keys) == len(set(keys))
    assert all(KEY_RE.match(key) for key in keys)


@pytest.mark.parametrize(
    "text",
    [
        "Article 1\nLe texte.\nTITRE 1\n´",
        "Article 1er\n# Exposé des motifs\nExposé des motifs",
        "Exposé des motifs\n## Contexte\nTexte\n\nArticle 1er : ﹕Objet\n- - tiret\n1. 2. liste",
    ],
)
@pytest.mark.parametrize("format", ["markdown", "text"])
def test_tricky_texts_round_trip(text: str, format: BillFormat) -> None:
    check_parse_never_crashes(text, format)
    parse_bill(text, format)


LINE_POOL = [
    "",
    "   ",
    "Exposé des motifs",
    "# Exposé des motifs",
    "TITRE Ier",
    "TITRE II : Dispositions",
    "Titre IIII",
    "## Chapitre Ier",
    "Chapitre 2",
    "Chapitre zéro",
    "Chapitre",
    "Section 1",
    "Sous-section 1re",
    "Article 1er",
    "Article 2 bis A : Objet",
    "##### Article premier",
    "Article unique",
    "Article",
    "Article abc",
    "Article 0",
    "Le texte de l'alinéa.",
    "1° Premier point ;",
    "a) Point a ;",
    "I. – Premier paragraphe.",
    "- tiret",
    "* puce",
    "1. ordonné",
    "– tiret long",
    "**Dispositions générales**",
    "## Sous-titre",
    "#",
    "Article 5 of the code is repealed.",
    "L'article L. 123-4 est abrogé.",
    "\x00",
    "\r",
    "\ufeff",
]


ARTICLE_TEMPLATES = ["Article {n}", "# Article {n} bis : Objet", "ARTICLE {n} ter A"]
DIVISION_TEMPLATES = [
    "TITRE {n}",
    "## Chapitre {n}",
    "Chapitre {n} – Intitulé",
    "### Section {n}",
    "Sous-section {n} : Intitulé",
]
TEXT_POOL = [
    "",
    "Le texte de l'alinéa.",
    "suite de l'alinéa",
    "1° Premier point ;",
    "b) Point b ;",
    "II. – Second paragraphe.",
    "- tiret",
    "2. ordonné",
    "## Sous-titre",
    "**gras**",
    "Article 5 est abrogé.",
]


def line_soups() -> st.SearchStrategy[str]:
    """Texts mixing well-formed chunks (a heading and its text) with odd lines."""
    printable = st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=15)

    def headed(
        templates: list[str], min_lines: int, max_lines: int
    ) -> st.SearchStrategy[list[str]]:
        return st.builds(
            lambda template, n, lines: [template.format(n=n), *lines],
            st.sampled_from(templates),
            st.integers(1, 40),
            st.lists(
                st.sampled_from(TEXT_POOL) | printable, min_size=min_lines, max_size=max_lines
            ),
        )

    chunk = st.one_of(
        headed(ARTICLE_TEMPLATES, 1, 3),
        headed(ARTICLE_TEMPLATES, 1, 3),
        headed(DIVISION_TEMPLATES, 0, 1),
        st.sampled_from(LINE_POOL).map(lambda line: [line]),
        printable.map(lambda line: [line]),
    )
    return st.builds(
        lambda first, chunks: "\n".join([first, *(line for lines in chunks for line in lines)]),
        st.sampled_from(["", "Exposé des motifs", "Article 100\nTexte."]),
        st.lists(chunk, max_size=10),
    )


def check_parse_never_crashes(text: str, format: BillFormat) -> None:
    try:
        bill = parse_bill(text, format)
    except BillParseError as error:
        line_count = text.count("\n") + text.count("\r") + 1
        assert 0 <= error.line <= line_count
        assert error.message
        return
    assert_keys_are_valid(bill)
    again = parse_bill(render_bill(bill, format), format)
    assert without_lines(again) == without_lines(bill)


@settings(max_examples=150, deadline=None)
@given(text=st.text(), format=st.sampled_from(["markdown", "text"]))
def test_arbitrary_text_parses_or_raises_bill_parse_error(text: str, format: BillFormat) -> None:
    check_parse_never_crashes(text, format)


@settings(max_examples=250, deadline=None)
@given(text=line_soups(), format=st.sampled_from(["markdown", "text"]))
def test_heading_soup_parses_or_raises_bill_parse_error(text: str, format: BillFormat) -> None:
    check_parse_never_crashes(text, format)
