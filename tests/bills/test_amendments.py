"""Tests for amendments: applying, validating, locating, diffing and wording operations."""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from consult.bills.diff import AlineaDiff, DiffSegment, article_diff, word_diff
from consult.bills.footprints import overlaps
from consult.bills.operations import (
    MAX_NEW_TEXT,
    AmendmentError,
    Operation,
    OperationKind,
    apply_operation,
    apply_operations,
    find_span,
    split_alineas,
    validate_operation,
)
from consult.bills.wording import formal_wording
from consult.i18n import get_language, set_language

K = OperationKind
NBSP = "\u00a0"

ARTICLE = [
    "Le code des relations entre le public et l’administration est ainsi modifié :",
    "1° À l’article L. 131-1, le délai de deux mois est remplacé par un délai de trois mois ;",
    "2° Le second alinéa de l’article L. 131-2 est supprimé.",
]


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Assertions below read the English messages, whatever catalogues are compiled."""
    previous = get_language()
    set_language("en")
    yield
    set_language(previous)


def q(text: str) -> str:
    """French quotation marks with their non-breaking spaces."""
    return f"«{NBSP}{text}{NBSP}»"


def error_of(operation: Operation, alineas: list[str]) -> AmendmentError:
    with pytest.raises(AmendmentError) as caught:
        validate_operation(operation, alineas)
    with pytest.raises(AmendmentError):
        apply_operation(operation, alineas)
    return caught.value


# --- split_alineas ---------------------------------------------------------------------------


def test_split_alineas_drops_blank_lines_and_collapses_whitespace() -> None:
    text = "  Premier   alinéa\t;\n\n\n 1° Deuxième\r\n   \n2°\u00a0Troisième : fin  "
    assert split_alineas(text) == ["Premier alinéa ;", "1° Deuxième", "2°\u00a0Troisième : fin"]


def test_split_alineas_of_blank_text_is_empty() -> None:
    assert split_alineas(" \n\t\n") == []


# --- Applying each kind ----------------------------------------------------------------------


def test_replace_words() -> None:
    operation = Operation(K.REPLACE_WORDS, 2, "deux mois", new_text="quatre mois")
    result = apply_operation(operation, ARTICLE)
    assert result[1] == (
        "1° À l’article L. 131-1, le délai de quatre mois est remplacé par un délai de trois mois ;"
    )
    assert result[0] == ARTICLE[0] and result[2] == ARTICLE[2]


def test_replace_words_second_occurrence() -> None:
    operation = Operation(K.REPLACE_WORDS, 2, "délai", occurrence=2, new_text="terme")
    assert apply_operation(operation, ARTICLE)[1] == (
        "1° À l’article L. 131-1, le délai de deux mois est remplacé par un terme de trois mois ;"
    )


def test_word_matching_tolerates_whitespace_runs_and_apostrophes() -> None:
    alineas = ["Le  délai\u00a0de deux mois court à compter de l’avis."]
    operation = Operation(K.REPLACE_WORDS, 1, " délai de\n deux ", new_text="terme de trois")
    assert apply_operation(operation, alineas) == [
        "Le  terme de trois mois court à compter de l’avis."
    ]
    typed = Operation(K.REPLACE_WORDS, 1, "de l'avis", new_text="de la décision")
    assert apply_operation(typed, alineas) == [
        "Le  délai\u00a0de deux mois court à compter de la décision."
    ]
    assert find_span(typed, alineas) == (1, 39, 48)


def test_word_matching_never_splits_a_word() -> None:
    alineas = ["L’emploi est régi par la loi."]
    operation = Operation(K.REPLACE_WORDS, 1, "loi", new_text="présente loi")
    assert apply_operation(operation, alineas) == ["L’emploi est régi par la présente loi."]
    assert find_span(operation, alineas) == (1, 25, 28)


def test_delete_words_leaves_no_space_before_a_full_stop_or_a_comma() -> None:
    assert apply_operation(
        Operation(K.DELETE_WORDS, 1, "de deux mois"), ["Un délai de deux mois."]
    ) == ["Un délai."]
    assert apply_operation(
        Operation(K.DELETE_WORDS, 1, "sans délai"), ["Il statue sans délai, puis publie."]
    ) == ["Il statue, puis publie."]


def test_delete_words_keeps_the_french_space_before_a_semicolon() -> None:
    alineas = ["a) Le délai est de deux mois\u00a0;"]
    assert apply_operation(Operation(K.DELETE_WORDS, 1, "de deux mois"), alineas) == [
        "a) Le délai est\u00a0;"
    ]
    alineas = ["a) Le délai est de deux mois ;"]
    assert apply_operation(Operation(K.DELETE_WORDS, 1, "de deux mois"), alineas) == [
        "a) Le délai est ;"
    ]


def test_delete_words_collapses_the_double_space_and_trims_the_ends() -> None:
    alineas = ["Le délai maximal est de deux mois"]
    assert apply_operation(Operation(K.DELETE_WORDS, 1, "maximal"), alineas) == [
        "Le délai est de deux mois"
    ]
    assert apply_operation(Operation(K.DELETE_WORDS, 1, "Le délai"), alineas) == [
        "maximal est de deux mois"
    ]
    assert apply_operation(Operation(K.DELETE_WORDS, 1, "de deux mois"), alineas) == [
        "Le délai maximal est"
    ]


def test_insert_words_adds_one_space_unless_punctuation_follows() -> None:
    alineas = ["Le délai est de deux mois."]
    assert apply_operation(
        Operation(K.INSERT_WORDS, 1, "délai", new_text="  maximal "), alineas
    ) == ["Le délai maximal est de deux mois."]
    assert apply_operation(Operation(K.INSERT_WORDS, 1, "mois", new_text=", au plus"), alineas) == [
        "Le délai est de deux mois, au plus."
    ]
    assert apply_operation(
        Operation(K.INSERT_WORDS, 1, "mois", new_text="à compter de la demande"), alineas
    ) == ["Le délai est de deux mois à compter de la demande."]


def test_replace_alinea_collapses_the_new_text() -> None:
    operation = Operation(K.REPLACE_ALINEA, 3, new_text="  2° L’article L. 131-2\n est abrogé. ")
    assert apply_operation(operation, ARTICLE) == [
        ARTICLE[0],
        ARTICLE[1],
        "2° L’article L. 131-2 est abrogé.",
    ]


def test_insert_alinea_after_an_alinea_and_at_the_beginning() -> None:
    after_two = Operation(K.INSERT_ALINEA, 2, new_text="1° bis Nouveau ;")
    assert apply_operation(after_two, ARTICLE) == [
        ARTICLE[0],
        ARTICLE[1],
        "1° bis Nouveau ;",
        ARTICLE[2],
    ]
    at_start = Operation(K.INSERT_ALINEA, 0, new_text="I. –")
    assert apply_operation(at_start, ARTICLE) == ["I. –", *ARTICLE]
    assert apply_operation(Operation(K.INSERT_ALINEA, 0, new_text="Seul."), []) == ["Seul."]


def test_delete_alinea() -> None:
    assert apply_operation(Operation(K.DELETE_ALINEA, 1), ARTICLE) == ARTICLE[1:]


def test_rewrite_article_and_new_article_split_the_new_text_into_alineas() -> None:
    text = "Premier alinéa.\n\n  1° Un ;\n2°   Deux.\n"
    expected = ["Premier alinéa.", "1° Un ;", "2° Deux."]
    assert apply_operation(Operation(K.REWRITE_ARTICLE, new_text=text), ARTICLE) == expected
    assert apply_operation(Operation(K.NEW_ARTICLE, new_text=text), ARTICLE) == expected


def test_kinds_that_need_no_alinea_ignore_it() -> None:
    operation = Operation(
        K.REWRITE_ARTICLE, alinea=42, old_text="absent", occurrence=-3, new_text="A"
    )
    assert apply_operation(operation, ARTICLE) == ["A"]
    operation = Operation(K.DELETE_ALINEA, 2, old_text="absent", occurrence=0, new_text="ignored")
    assert apply_operation(operation, ARTICLE) == [ARTICLE[0], ARTICLE[2]]


def test_operation_kind_given_as_a_plain_string_is_accepted() -> None:
    operation = Operation("delete_alinea", 1)  # type: ignore[arg-type]
    assert apply_operation(operation, ARTICLE) == ARTICLE[1:]


def test_apply_operations_chains_operations() -> None:
    operations = [
        Operation(K.DELETE_ALINEA, 1),
        Operation(K.REPLACE_WORDS, 1, "deux mois", new_text="six semaines"),
        Operation(K.INSERT_ALINEA, 2, new_text="3° Nouveau."),
    ]
    assert apply_operations(operations, ARTICLE) == [
        ARTICLE[1].replace("deux mois", "six semaines"),
        ARTICLE[2],
        "3° Nouveau.",
    ]
    assert apply_operations([], ARTICLE) == ARTICLE


def test_apply_operations_stops_at_the_first_error() -> None:
    operations = [Operation(K.DELETE_ALINEA, 3), Operation(K.DELETE_ALINEA, 3)]
    with pytest.raises(AmendmentError) as caught:
        apply_operations(operations, ARTICLE)
    assert caught.value.field == "alinea"


def test_new_article_must_come_alone() -> None:
    new_article = Operation(K.NEW_ARTICLE, new_text="Texte.")
    assert apply_operations([new_article], ARTICLE) == ["Texte."]
    with pytest.raises(AmendmentError) as caught:
        apply_operations([Operation(K.DELETE_ALINEA, 1), new_article], ARTICLE)
    assert caught.value.field == "kind"


def test_apply_does_not_modify_its_input() -> None:
    alineas = list(ARTICLE)
    apply_operation(Operation(K.DELETE_ALINEA, 1), alineas)
    assert alineas == ARTICLE


# --- Validation ------------------------------------------------------------------------------


def test_unknown_kind() -> None:
    error = error_of(Operation("amend_everything", 1), ARTICLE)  # type: ignore[arg-type]
    assert error.field == "kind"
    assert "Choose what the amendment does" in error.message


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (Operation(K.REPLACE_ALINEA, None, new_text="x"), "Give the number of the alinéa"),
        (Operation(K.REPLACE_ALINEA, 4, new_text="x"), "There is no alinéa 4"),
        (Operation(K.DELETE_ALINEA, 0), "There is no alinéa 0"),
        (Operation(K.DELETE_WORDS, -1, "délai"), "There is no alinéa -1"),
        (Operation(K.INSERT_ALINEA, 4, new_text="x"), "between 0 (to insert"),
        (Operation(K.INSERT_ALINEA, -1, new_text="x"), "between 0 (to insert"),
        (Operation(K.INSERT_ALINEA, None, new_text="x"), "after which to insert"),
        (Operation(K.DELETE_ALINEA, True), "Give the number of the alinéa"),
    ],
)
def test_alinea_must_exist(operation: Operation, expected: str) -> None:
    error = error_of(operation, ARTICLE)
    assert error.field == "alinea"
    assert expected in error.message
    assert "3" in error.message


def test_alinea_of_an_empty_article() -> None:
    error = error_of(Operation(K.DELETE_ALINEA, 1), [])
    assert error.field == "alinea"
    assert error.message == (
        "This article has no alinéa to amend: insert an alinéa or rewrite the article instead."
    )


@pytest.mark.parametrize("kind", [K.REPLACE_WORDS, K.DELETE_WORDS, K.INSERT_WORDS])
def test_words_are_required(kind: OperationKind) -> None:
    error = error_of(Operation(kind, 2, " \n ", new_text="x"), ARTICLE)
    assert error.field == "old_text"
    assert "exactly as they are written in alinéa 2" in error.message


def test_words_must_appear_in_the_alinea() -> None:
    error = error_of(Operation(K.DELETE_WORDS, 2, "six  mois"), ARTICLE)
    assert error.field == "old_text"
    assert error.message == (
        "The words “six mois” do not appear in alinéa 2; copy them exactly as they are written."
    )


def test_words_in_another_alinea_are_not_found() -> None:
    error = error_of(Operation(K.DELETE_WORDS, 3, "deux mois"), ARTICLE)
    assert error.field == "old_text"


@pytest.mark.parametrize("occurrence", [0, -1])
def test_occurrence_must_be_at_least_one(occurrence: int) -> None:
    error = error_of(Operation(K.DELETE_WORDS, 2, "délai", occurrence=occurrence), ARTICLE)
    assert error.field == "occurrence"
    assert "at least 1" in error.message


def test_occurrence_must_exist() -> None:
    error = error_of(Operation(K.DELETE_WORDS, 2, "délai", occurrence=3), ARTICLE)
    assert error.field == "occurrence"
    assert error.message == (
        "Occurrence 3 of the words “délai” does not exist in alinéa 2: give a number between 1 "
        "and 2."
    )
    error = error_of(Operation(K.DELETE_WORDS, 2, "deux mois", occurrence=2), ARTICLE)
    assert error.field == "occurrence"
    assert error.message == (
        "The words “deux mois” appear only once in alinéa 2: the occurrence must be 1."
    )


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        (
            Operation(K.REPLACE_WORDS, 2, "délai", new_text=" "),
            "Write the words that replace “délai”.",
        ),
        (Operation(K.INSERT_WORDS, 2, "délai"), "Write the words to insert after “délai”."),
        (Operation(K.REPLACE_ALINEA, 2, new_text="\n"), "Write the new wording of alinéa 2."),
        (Operation(K.INSERT_ALINEA, 2), "Write the text of the alinéa to insert."),
        (Operation(K.REWRITE_ARTICLE, new_text=" \n\n "), "Write the new text of the article"),
        (Operation(K.NEW_ARTICLE), "Write the text of the new article"),
    ],
)
def test_new_text_is_required(operation: Operation, expected: str) -> None:
    error = error_of(operation, ARTICLE)
    assert error.field == "new_text"
    assert error.message.startswith(expected)


def test_new_text_is_not_required_to_delete() -> None:
    validate_operation(Operation(K.DELETE_WORDS, 2, "de deux mois"), ARTICLE)
    validate_operation(Operation(K.DELETE_ALINEA, 2), ARTICLE)


def test_new_text_length_is_limited() -> None:
    validate_operation(Operation(K.NEW_ARTICLE, new_text="a" * MAX_NEW_TEXT), ARTICLE)
    error = error_of(Operation(K.NEW_ARTICLE, new_text="a" * (MAX_NEW_TEXT + 1)), ARTICLE)
    assert error.field == "new_text"
    assert error.message == (
        "The new wording is too long: 20001 characters, where at most 20000 are allowed."
    )


@pytest.mark.parametrize(
    "operation",
    [
        Operation(K.REPLACE_WORDS, 2, "deux mois", new_text="deux mois"),
        Operation(K.REPLACE_WORDS, 2, "deux  mois", new_text=" deux mois"),
        Operation(K.REPLACE_WORDS, 2, "l'article", new_text="l'article"),
        Operation(K.REPLACE_WORDS, 2, "l'article", new_text="l’article"),
        Operation(K.REPLACE_ALINEA, 3, new_text=" " + ARTICLE[2].replace(" ", "  ")),
        Operation(K.REWRITE_ARTICLE, new_text="\n\n".join(ARTICLE)),
    ],
)
def test_new_wording_must_differ(operation: Operation) -> None:
    error = error_of(operation, ARTICLE)
    assert error.field == "new_text"
    assert error.message.startswith("The new wording is the same as the current one")


def test_replacing_a_typographic_apostrophe_is_a_change() -> None:
    operation = Operation(K.REPLACE_WORDS, 1, "l’administration", new_text="l'administration")
    assert apply_operation(operation, ARTICLE)[0].endswith(
        "et l'administration est ainsi modifié :"
    )


def test_deleting_every_word_of_an_alinea_asks_to_delete_the_alinea() -> None:
    error = error_of(Operation(K.DELETE_WORDS, 1, "Tout  le texte."), ["Tout le texte."])
    assert error.field == "old_text"
    assert "delete the alinéa" in error.message


def test_error_reads_as_its_message() -> None:
    error = error_of(Operation(K.DELETE_ALINEA, 9), ARTICLE)
    assert (
        str(error)
        == error.message
        == ("There is no alinéa 9 in this article: give a whole number between 1 and 3.")
    )


def test_amendment_error_survives_pickling() -> None:
    error = AmendmentError("old_text", "Message.")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (copy.field, copy.message, str(copy)) == ("old_text", "Message.", "Message.")
    assert isinstance(copy, ValueError)


# --- Formal wording --------------------------------------------------------------------------

WORDING_ARTICLE = [
    "Le délai de recours est de deux mois.",
    "Le délai court à compter de la notification de l’avis ; le délai est franc.",
]


@pytest.mark.parametrize(
    ("operation", "french", "english"),
    [
        (
            Operation(K.REPLACE_WORDS, 1, "deux mois", new_text="trois mois"),
            f"À l’alinéa 1 de l’article 3, remplacer les mots : {q('deux mois')} par les mots : "
            f"{q('trois mois')}.",
            "In paragraph 1 of Article 3, replace the words “deux mois” with the words "
            "“trois mois”.",
        ),
        (
            Operation(K.REPLACE_WORDS, 2, "délai", occurrence=2, new_text="terme"),
            f"À l’alinéa 2 de l’article 3, remplacer la deuxième occurrence du mot : "
            f"{q('délai')} par le mot : {q('terme')}.",
            "In paragraph 2 of Article 3, replace the second occurrence of the word “délai” "
            "with the word “terme”.",
        ),
        (
            Operation(K.DELETE_WORDS, 1, "de recours"),
            f"À l’alinéa 1 de l’article 3, supprimer les mots : {q('de recours')}.",
            "In paragraph 1 of Article 3, delete the words “de recours”.",
        ),
        (
            Operation(K.DELETE_WORDS, 2, "délai", occurrence=2),
            f"À l’alinéa 2 de l’article 3, supprimer la deuxième occurrence du mot : {q('délai')}.",
            "In paragraph 2 of Article 3, delete the second occurrence of the word “délai”.",
        ),
        (
            Operation(K.INSERT_WORDS, 1, "recours", new_text="contentieux"),
            f"À l’alinéa 1 de l’article 3, après le mot : {q('recours')}, insérer le mot : "
            f"{q('contentieux')}.",
            "In paragraph 1 of Article 3, after the word “recours”, insert the word “contentieux”.",
        ),
        (
            # The words are quoted as the bill writes them, whatever apostrophe was typed.
            Operation(K.INSERT_WORDS, 2, "de l'avis", new_text="du comité consultatif"),
            f"À l’alinéa 2 de l’article 3, après les mots : {q('de l’avis')}, insérer les mots : "
            f"{q('du comité consultatif')}.",
            "In paragraph 2 of Article 3, after the words “de l’avis”, insert the words "
            "“du comité consultatif”.",
        ),
        (
            Operation(K.REPLACE_ALINEA, 2, new_text="Le délai court  à compter de la décision."),
            "Rédiger ainsi l’alinéa 2 de l’article 3 : "
            f"{q('Le délai court à compter de la décision.')}.",
            "Replace paragraph 2 of Article 3 with: “Le délai court à compter de la décision.”.",
        ),
        (
            Operation(K.INSERT_ALINEA, 2, new_text="Il est prorogé."),
            "Après l’alinéa 2 de l’article 3, insérer un alinéa ainsi rédigé : "
            f"{q('Il est prorogé.')}.",
            "After paragraph 2 of Article 3, insert a paragraph reading: “Il est prorogé.”.",
        ),
        (
            Operation(K.INSERT_ALINEA, 0, new_text="I. –"),
            f"Au début de l’article 3, insérer un alinéa ainsi rédigé : {q('I. –')}.",
            "At the beginning of Article 3, insert a paragraph reading: “I. –”.",
        ),
        (
            Operation(K.DELETE_ALINEA, 2),
            "Supprimer l’alinéa 2 de l’article 3.",
            "Delete paragraph 2 of Article 3.",
        ),
        (
            Operation(K.REWRITE_ARTICLE, new_text="Le délai est d’un mois."),
            f"Rédiger ainsi l’article 3 : {q('Le délai est d’un mois.')}.",
            "Replace Article 3 with: “Le délai est d’un mois.”.",
        ),
        (
            Operation(
                K.REWRITE_ARTICLE, new_text="Le code est ainsi modifié :\n1° Un ;\n\n2° Deux."
            ),
            f"Rédiger ainsi l’article 3 :\n«{NBSP}Le code est ainsi modifié :\n«{NBSP}1° Un ;\n"
            f"«{NBSP}2° Deux.{NBSP}».",
            "Replace Article 3 with:\n“Le code est ainsi modifié :\n“1° Un ;\n“2° Deux.”.",
        ),
        (
            Operation(K.NEW_ARTICLE, new_text="Un décret précise les modalités."),
            "Après l’article 3, insérer un article additionnel ainsi rédigé : "
            f"{q('Un décret précise les modalités.')}.",
            "After Article 3, insert a new article reading: “Un décret précise les modalités.”.",
        ),
        (
            Operation(K.NEW_ARTICLE, new_text="I. – Un.\nII. – Deux."),
            "Après l’article 3, insérer un article additionnel ainsi rédigé :\n"
            f"«{NBSP}I. – Un.\n«{NBSP}II. – Deux.{NBSP}».",
            "After Article 3, insert a new article reading:\n“I. – Un.\n“II. – Deux.”.",
        ),
    ],
)
def test_formal_wording(operation: Operation, french: str, english: str) -> None:
    assert formal_wording(operation, "3", WORDING_ARTICLE, "fr") == french
    assert formal_wording(operation, "3", WORDING_ARTICLE, "en") == english


@pytest.mark.parametrize(
    ("number", "french", "english"),
    [
        ("1er", "l’article 1er", "Article 1"),
        ("1", "l’article 1er", "Article 1"),
        ("1er bis", "l’article 1er bis", "Article 1 bis"),
        ("2  bis", "l’article 2 bis", "Article 2 bis"),
        ("2 bis A", "l’article 2 bis A", "Article 2 bis A"),
        ("10", "l’article 10", "Article 10"),
        ("unique", "l’article unique", "the single article"),
        ("", "cet article", "this article"),
    ],
)
def test_wording_names_the_article(number: str, french: str, english: str) -> None:
    operation = Operation(K.DELETE_ALINEA, 1)
    assert (
        formal_wording(operation, number, WORDING_ARTICLE, "fr")
        == f"Supprimer l’alinéa 1 de {french}."
    )
    assert (
        formal_wording(operation, number, WORDING_ARTICLE, "en")
        == f"Delete paragraph 1 of {english}."
    )


@pytest.mark.parametrize(
    ("occurrence", "french", "english"),
    [
        (3, "troisième", "third"),
        (10, "dixième", "tenth"),
        (11, "11e", "11th"),
        (12, "12e", "12th"),
        (21, "21e", "21st"),
        (22, "22e", "22nd"),
        (23, "23e", "23rd"),
        (111, "111e", "111th"),
    ],
)
def test_wording_ordinal_occurrences(occurrence: int, french: str, english: str) -> None:
    alineas = [" ".join(["mot"] * 120)]
    operation = Operation(K.DELETE_WORDS, 1, "mot", occurrence=occurrence)
    assert formal_wording(operation, "1er", alineas, "fr") == (
        f"À l’alinéa 1 de l’article 1er, supprimer la {french} occurrence du mot : {q('mot')}."
    )
    assert formal_wording(operation, "1er", alineas, "en-GB") == (
        f"In paragraph 1 of Article 1, delete the {english} occurrence of the word “mot”."
    )


def test_wording_counts_an_elided_word_as_two() -> None:
    alineas = ["Au vu de l’avis et de l’aujourd’hui."]
    elided = Operation(K.DELETE_WORDS, 1, "l’avis")
    assert "supprimer les mots" in formal_wording(elided, "2", alineas, "fr")
    single = Operation(K.REPLACE_WORDS, 1, "avis", new_text="aujourd’hui")
    assert formal_wording(single, "2", alineas, "fr") == (
        f"À l’alinéa 1 de l’article 2, remplacer le mot : {q('avis')} par le mot : "
        f"{q('aujourd’hui')}."
    )


def test_wording_validates_the_operation() -> None:
    with pytest.raises(AmendmentError):
        formal_wording(Operation(K.DELETE_ALINEA, 5), "3", WORDING_ARTICLE, "fr")


def test_wording_in_an_unknown_language_is_french() -> None:
    assert formal_wording(Operation(K.DELETE_ALINEA, 1), "3", WORDING_ARTICLE, "de") == (
        "Supprimer l’alinéa 1 de l’article 3."
    )


# --- Locating and overlaps -------------------------------------------------------------------

SPAN_ARTICLE = ["abc def ghi jkl", "mno pqr", "stu"]


def test_find_span() -> None:
    assert find_span(Operation(K.REPLACE_WORDS, 1, "def ghi", new_text="x"), SPAN_ARTICLE) == (
        1,
        4,
        11,
    )
    assert find_span(Operation(K.INSERT_WORDS, 1, "def", new_text="x"), SPAN_ARTICLE) == (1, 4, 7)
    assert find_span(Operation(K.DELETE_ALINEA, 2), SPAN_ARTICLE) == (2, 0, 7)
    assert find_span(Operation(K.REPLACE_ALINEA, 3, new_text="x"), SPAN_ARTICLE) == (3, 0, 3)
    assert find_span(Operation(K.INSERT_ALINEA, 2, new_text="x"), SPAN_ARTICLE) == (2, 7, 7)
    assert find_span(Operation(K.INSERT_ALINEA, 0, new_text="x"), SPAN_ARTICLE) == (1, 0, 0)
    assert find_span(Operation(K.INSERT_ALINEA, 0, new_text="x"), []) is None
    assert find_span(Operation(K.REWRITE_ARTICLE, new_text="x"), SPAN_ARTICLE) is None
    assert find_span(Operation(K.NEW_ARTICLE, new_text="x"), SPAN_ARTICLE) is None


def test_find_span_does_not_check_the_new_text() -> None:
    assert find_span(Operation(K.REPLACE_WORDS, 1, "abc"), SPAN_ARTICLE) == (1, 0, 3)
    with pytest.raises(AmendmentError):
        find_span(Operation(K.REPLACE_WORDS, 1, "zzz", new_text="x"), SPAN_ARTICLE)


def replace(alinea: int, words: str, occurrence: int = 1) -> Operation:
    return Operation(K.REPLACE_WORDS, alinea, words, occurrence, "new")


def delete(alinea: int, words: str) -> Operation:
    return Operation(K.DELETE_WORDS, alinea, words)


def insert(alinea: int, words: str) -> Operation:
    return Operation(K.INSERT_WORDS, alinea, words, new_text="new")


REWRITE = Operation(K.REWRITE_ARTICLE, new_text="x")
NEW_ARTICLE = Operation(K.NEW_ARTICLE, new_text="x")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Article-level operations.
        (REWRITE, REWRITE, True),
        (REWRITE, replace(1, "abc"), True),
        (REWRITE, Operation(K.INSERT_ALINEA, 0, new_text="x"), True),
        (REWRITE, NEW_ARTICLE, False),
        (NEW_ARTICLE, NEW_ARTICLE, True),
        (NEW_ARTICLE, Operation(K.DELETE_ALINEA, 1), False),
        (NEW_ARTICLE, replace(1, "abc"), False),
        # Insertions of alinéas.
        (
            Operation(K.INSERT_ALINEA, 1, new_text="x"),
            Operation(K.INSERT_ALINEA, 1, new_text="y"),
            True,
        ),
        (
            Operation(K.INSERT_ALINEA, 1, new_text="x"),
            Operation(K.INSERT_ALINEA, 2, new_text="y"),
            False,
        ),
        (Operation(K.INSERT_ALINEA, 1, new_text="x"), Operation(K.DELETE_ALINEA, 1), False),
        (Operation(K.INSERT_ALINEA, 1, new_text="x"), insert(1, "jkl"), False),
        # Alinéa-level operations.
        (Operation(K.DELETE_ALINEA, 1), Operation(K.DELETE_ALINEA, 1), True),
        (Operation(K.DELETE_ALINEA, 1), Operation(K.REPLACE_ALINEA, 1, new_text="x"), True),
        (Operation(K.DELETE_ALINEA, 1), Operation(K.DELETE_ALINEA, 2), False),
        (Operation(K.REPLACE_ALINEA, 2, new_text="x"), delete(2, "pqr"), True),
        (Operation(K.REPLACE_ALINEA, 2, new_text="x"), delete(1, "abc"), False),
        # Word ranges.
        (replace(1, "abc def"), delete(1, "def ghi"), True),
        (replace(1, "abc def"), delete(1, "ghi jkl"), False),
        (replace(1, "abc"), delete(2, "mno"), False),
        (replace(1, "def"), replace(1, "def"), True),
        # Insertion points (at the end of the anchor words).
        (insert(1, "def"), replace(1, "def"), True),
        (insert(1, "def"), replace(1, "abc def ghi"), True),
        (insert(1, "def"), replace(1, "abc"), False),
        (insert(1, "def"), replace(1, "ghi"), False),
        (insert(1, "def"), insert(1, "def"), True),
        (insert(1, "def"), insert(1, "abc def"), True),
        (insert(1, "def"), insert(1, "ghi"), False),
    ],
)
def test_overlaps(a: Operation, b: Operation, expected: bool) -> None:
    assert overlaps(a, b, SPAN_ARTICLE) is expected
    assert overlaps(b, a, SPAN_ARTICLE) is expected


def test_overlaps_uses_the_occurrence() -> None:
    alineas = ["le mot et le mot"]
    assert overlaps(replace(1, "mot", 1), replace(1, "mot", 2), alineas) is False
    assert overlaps(replace(1, "mot", 2), replace(1, "le mot", 2), alineas) is True


def test_overlaps_raises_for_an_operation_that_cannot_be_located() -> None:
    with pytest.raises(AmendmentError):
        overlaps(REWRITE, delete(1, "absent"), SPAN_ARTICLE)


# --- Diffs -----------------------------------------------------------------------------------


def test_word_diff_shows_a_changed_word_as_delete_then_insert() -> None:
    assert word_diff("le délai de deux mois.", "le délai de trois mois.") == [
        DiffSegment("equal", "le délai de "),
        DiffSegment("delete", "deux"),
        DiffSegment("insert", "trois"),
        DiffSegment("equal", " mois."),
    ]


def test_word_diff_groups_changes_separated_only_by_whitespace() -> None:
    assert word_diff("un délai de deux mois", "un délai de trois semaines") == [
        DiffSegment("equal", "un délai de "),
        DiffSegment("delete", "deux mois"),
        DiffSegment("insert", "trois semaines"),
    ]


def test_word_diff_edge_cases() -> None:
    assert word_diff("", "") == []
    assert word_diff("same", "same") == [DiffSegment("equal", "same")]
    assert word_diff("", "new") == [DiffSegment("insert", "new")]
    assert word_diff("old", "") == [DiffSegment("delete", "old")]


def test_word_diff_of_whitespace() -> None:
    assert word_diff("a b", "a  b") == [
        DiffSegment("equal", "a"),
        DiffSegment("delete", " "),
        DiffSegment("insert", "  "),
        DiffSegment("equal", "b"),
    ]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (".," * 10_000, ",." * 10_000),
        (" ".join("ab" * 5_000), " ".join("ba" * 5_000)),
        (" ".join("a" * 10_000), " ".join("a" * 9_990) + " b"),
    ],
)
def test_word_diff_of_long_repetitive_texts_is_exact(before: str, after: str) -> None:
    segments = word_diff(before, after)
    assert joined(segments, {"equal", "delete"}) == before
    assert joined(segments, {"equal", "insert"}) == after


def test_article_diff() -> None:
    before = [
        "Le code est ainsi modifié :",
        "1° L’article L. 1 est abrogé ;",
        "2° Le délai est de deux mois ;",
        "3° L’article L. 3 est abrogé.",
    ]
    after = [
        "Le code est ainsi modifié :",
        "2° Le délai est de trois mois ;",
        "3° L’article L. 3 est abrogé.",
        "4° Dispositions finales.",
    ]
    assert article_diff(before, after) == [
        AlineaDiff("unchanged", 1, 1, (DiffSegment("equal", before[0]),)),
        AlineaDiff("deleted", 2, None, (DiffSegment("delete", before[1]),)),
        AlineaDiff(
            "changed",
            3,
            2,
            (
                DiffSegment("equal", "2° Le délai est de "),
                DiffSegment("delete", "deux"),
                DiffSegment("insert", "trois"),
                DiffSegment("equal", " mois ;"),
            ),
        ),
        AlineaDiff("unchanged", 4, 3, (DiffSegment("equal", before[3]),)),
        AlineaDiff("inserted", None, 4, (DiffSegment("insert", after[3]),)),
    ]


def test_article_diff_pairs_a_replaced_block_one_to_one_when_counts_match() -> None:
    diffs = article_diff(["A un", "B deux", "C"], ["A un", "X", "Y", "C"])
    assert [(d.status, d.before_number, d.after_number) for d in diffs] == [
        ("unchanged", 1, 1),
        ("changed", 2, 2),
        ("inserted", None, 3),
        ("unchanged", 3, 4),
    ]
    diffs = article_diff(["B deux", "Z"], ["X", "Y"])
    assert [d.status for d in diffs] == ["changed", "changed"]


def test_article_diff_pairs_the_most_similar_alineas_of_a_changed_block() -> None:
    before = ["Le délai est de deux mois.", "Z"]
    after = ["Un alinéa entièrement nouveau.", "Le délai est de trois mois.", "Y"]
    statuses = [(d.status, d.before_number, d.after_number) for d in article_diff(before, after)]
    assert statuses == [
        ("inserted", None, 1),
        ("changed", 1, 2),
        ("changed", 2, 3),
    ]


# --- Properties ------------------------------------------------------------------------------

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VOCABULARY = ["le", "la", "délai", "mois", "l’avis", "l'avis", "de", "2°", "loi", ",", ";", "«"]
SMALL_TEXT = st.text(alphabet=st.sampled_from("ab ’'\u00a0\n.,;é"), max_size=20)
ANY_TEXT = st.text(max_size=30)
SENTENCES = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=8).map(" ".join)
ARTICLES = st.lists(SENTENCES | SMALL_TEXT | ANY_TEXT, max_size=4)


def joined(segments: list[DiffSegment] | tuple[DiffSegment, ...], kinds: set[str]) -> str:
    return "".join(segment.text for segment in segments if segment.kind in kinds)


@FAST
@given(before=ANY_TEXT | SMALL_TEXT, after=ANY_TEXT | SMALL_TEXT)
def test_word_diff_rebuilds_both_texts(before: str, after: str) -> None:
    segments = word_diff(before, after)
    assert joined(segments, {"equal", "delete"}) == before
    assert joined(segments, {"equal", "insert"}) == after
    assert all(segment.text for segment in segments)
    assert all(a.kind != b.kind for a, b in itertools.pairwise(segments))


ALINEA = st.sampled_from(["A", "B", "C", "D d", "A a"]) | SMALL_TEXT


@FAST
@given(before=st.lists(ALINEA, max_size=7), after=st.lists(ALINEA, max_size=7))
def test_article_diff_rebuilds_both_versions(before: list[str], after: list[str]) -> None:
    diffs = article_diff(before, after)
    old = [d for d in diffs if d.status != "inserted"]
    new = [d for d in diffs if d.status != "deleted"]
    assert [joined(d.segments, {"equal", "delete"}) for d in old] == before
    assert [joined(d.segments, {"equal", "insert"}) for d in new] == after
    assert [d.before_number for d in old] == list(range(1, len(before) + 1))
    assert [d.after_number for d in new] == list(range(1, len(after) + 1))
    for diff in diffs:
        if diff.status == "unchanged":
            assert len(diff.segments) == 1 and diff.segments[0].kind == "equal"


def occurrence_at(words: str, alinea: str, start: int) -> int:
    """The occurrence of `words` that starts at `start`, or 0 when none does."""
    occurrence = 1
    while True:
        probe = Operation(K.REPLACE_WORDS, 1, words, occurrence, "x")
        try:
            span = find_span(probe, [alinea])
        except AmendmentError:
            return 0
        assert span is not None
        if span[1] == start:
            return occurrence
        occurrence += 1


@FAST
@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=10),
    new_words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3),
    data=st.data(),
)
def test_replacing_words_and_back_restores_the_alinea(
    words: list[str], new_words: list[str], data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, len(words) - 1))
    last = data.draw(st.integers(first + 1, len(words)))
    alinea = " ".join(words)
    old_text, new_text = " ".join(words[first:last]), " ".join(new_words)
    assume(old_text != new_text)
    start = len(" ".join(words[:first])) + (1 if first else 0)
    occurrence = occurrence_at(old_text, alinea, start)
    assume(occurrence)
    forward = Operation(K.REPLACE_WORDS, 1, old_text, occurrence, new_text)
    changed = apply_operation(forward, [alinea])
    assert changed == [alinea[:start] + new_text + alinea[start + len(old_text) :]]
    back_occurrence = occurrence_at(new_text, changed[0], start)
    assume(back_occurrence)
    back = Operation(K.REPLACE_WORDS, 1, new_text, back_occurrence, old_text)
    assert apply_operation(back, changed) == [alinea]


@FAST
@given(alineas=st.lists(ANY_TEXT, max_size=5), new_text=ANY_TEXT, data=st.data())
def test_inserting_then_deleting_an_alinea_restores_the_article(
    alineas: list[str], new_text: str, data: st.DataObject
) -> None:
    assume(split_alineas(new_text))
    number = data.draw(st.integers(0, len(alineas)))
    inserted = apply_operation(Operation(K.INSERT_ALINEA, number, new_text=new_text), alineas)
    assert len(inserted) == len(alineas) + 1
    assert apply_operation(Operation(K.DELETE_ALINEA, number + 1), inserted) == alineas


@st.composite
def operations_on(draw: st.DrawFn, alineas: list[str]) -> Operation:
    """Any operation, often one that targets words that really appear in the article."""
    kind = draw(st.sampled_from(OperationKind))
    new_text = draw(SENTENCES | SMALL_TEXT | ANY_TEXT)
    if alineas and draw(st.sampled_from([True, True, True, False])):
        number = draw(st.integers(1, len(alineas)))
        words = alineas[number - 1].split() or [""]
        first = draw(st.integers(0, len(words) - 1))
        old_text = " ".join(words[first : draw(st.integers(first + 1, len(words)))])
        return Operation(kind, number, old_text, draw(st.sampled_from([1, 1, 2])), new_text)
    return Operation(
        kind,
        draw(st.none() | st.integers(-1, len(alineas) + 1)),
        draw(SMALL_TEXT | ANY_TEXT),
        draw(st.integers(-1, 3)),
        new_text,
    )


@FAST
@given(alineas=ARTICLES, data=st.data())
def test_apply_only_raises_amendment_errors_and_only_changes_the_target(
    alineas: list[str], data: st.DataObject
) -> None:
    operation = data.draw(operations_on(alineas))
    try:
        result = apply_operation(operation, alineas)
    except AmendmentError as error:
        assert error.field in {"kind", "alinea", "old_text", "occurrence", "new_text"}
        assert error.message
        return
    kind, number = operation.kind, operation.alinea
    if kind in (K.REWRITE_ARTICLE, K.NEW_ARTICLE):
        assert result == split_alineas(operation.new_text)
        return
    assert number is not None
    if kind is K.INSERT_ALINEA:
        assert result[:number] + result[number + 1 :] == alineas
    elif kind is K.DELETE_ALINEA:
        assert result == alineas[: number - 1] + alineas[number:]
    else:
        assert len(result) == len(alineas)
        assert result[: number - 1] == alineas[: number - 1]
        assert result[number:] == alineas[number:]
        assert result[number - 1] != alineas[number - 1]
    validate_operation(operation, alineas)


@FAST
@given(alineas=ARTICLES, data=st.data())
def test_overlaps_is_symmetric(alineas: list[str], data: st.DataObject) -> None:
    a = data.draw(operations_on(alineas))
    b = data.draw(operations_on(alineas))
    outcomes: list[bool | None] = []
    for first, second in ((a, b), (b, a)):
        try:
            outcomes.append(overlaps(first, second, alineas))
        except AmendmentError:
            outcomes.append(None)
    assert outcomes[0] is outcomes[1]
    try:
        itself = overlaps(a, a, alineas)
    except AmendmentError:
        return
    assert itself is True
