"""The formal wording of an amendment, drafted in the parliamentary style (French or English)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from consult.bills.operations import Operation, OperationKind, apply_in_detail

_FRENCH_ORDINALS = (
    "première",
    "deuxième",
    "troisième",
    "quatrième",
    "cinquième",
    "sixième",
    "septième",
    "huitième",
    "neuvième",
    "dixième",
)
_ENGLISH_ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)
_FIRST_RE = re.compile(r"^(?:1\s*(?:er|re)|premier|première|1)(?=\s|$)", re.IGNORECASE)
# A leading elided word (« l’article », « qu’il ») makes two words of one token.
_ELIDED_RE = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’]\w", re.IGNORECASE)
_NBSP = "\u00a0"


def _ordinal(number: int, french: bool) -> str:
    if number <= 10:
        return (_FRENCH_ORDINALS if french else _ENGLISH_ORDINALS)[number - 1]
    if french:
        return f"{number}e"
    if number % 100 in (11, 12, 13):
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def _article(number: str, french: bool) -> str:
    """The article as named in a sentence: « l’article 1er », "Article 1", "this article"."""
    number = " ".join(number.split())
    if not number:
        return "cet article" if french else "this article"
    folded = number.casefold()
    if folded in ("unique", "liminaire"):
        if french:
            return f"l’article {folded}"
        return "the single article" if folded == "unique" else "the preliminary article"
    number = _FIRST_RE.sub("1er" if french else "1", number)
    return f"l’article {number}" if french else f"Article {number}"


def _is_several_words(words: str) -> bool:
    tokens = words.split()
    return len(tokens) > 1 or bool(tokens and _ELIDED_RE.match(tokens[0]))


def _quote(text: str, french: bool) -> str:
    return f"«{_NBSP}{text}{_NBSP}»" if french else f"“{text}”"


def _quote_block(alineas: Sequence[str], french: bool) -> str:
    """Quoted alinéas after a colon: inline when one, else one per line, closed at the end."""
    if len(alineas) == 1:
        return " " + _quote(alineas[0], french)
    opening = f"«{_NBSP}" if french else "“"
    closing = f"{_NBSP}»" if french else "”"
    return "\n" + "\n".join(opening + alinea for alinea in alineas) + closing


def _words(words: str, occurrence: int, french: bool) -> str:
    """« les mots : « x » », « la deuxième occurrence du mot : « x » », "the words “x”"."""
    several = _is_several_words(words)
    quoted = _quote(words, french)
    if french:
        if occurrence == 1:
            return f"{'les mots' if several else 'le mot'} : {quoted}"
        of_words = "des mots" if several else "du mot"
        return f"la {_ordinal(occurrence, True)} occurrence {of_words} : {quoted}"
    the_words = "the words" if several else "the word"
    if occurrence == 1:
        return f"{the_words} {quoted}"
    return f"the {_ordinal(occurrence, False)} occurrence of {the_words} {quoted}"


def formal_wording(
    operation: Operation, article_number: str, alineas: Sequence[str], language: str
) -> str:
    """The amendment drafted as a formal instruction, in the parliamentary style.

    `language` "fr" gives the French style of the Assemblée nationale (« À l’alinéa 2 de
    l’article 3, remplacer les mots : « … » par les mots : « … ». »), "en" an English one
    ("In paragraph 2 of Article 3, replace the words “…” with the words “…”."); a regional
    tag ("en-GB") counts as its language and any other language gives French. The words are
    quoted as they are written in the article. Several alinéas are quoted one per line, each
    opened by a quotation mark and closed only at the end. The operation is validated first
    (`AmendmentError`). `article_number` is the article's number as the bill writes it
    ("1er", "2 bis", "unique"); an empty one gives « cet article » / "this article".
    """
    applied = apply_in_detail(operation, alineas)
    target = applied.target
    kind = target.kind
    french = language.replace("_", "-").split("-")[0].casefold() != "en"
    article = _article(article_number, french)
    if french:
        alinea = f"l’alinéa {target.number} de {article}"
    else:
        alinea = f"paragraph {target.number} of {article}"
    occurrence = operation.occurrence
    new_words = applied.new_text
    if kind is OperationKind.REPLACE_WORDS:
        old = _words(applied.old_words, occurrence, french)
        new = _words(new_words, 1, french)
        if french:
            return f"À {alinea}, remplacer {old} par {new}."
        return f"In {alinea}, replace {old} with {new}."
    if kind is OperationKind.DELETE_WORDS:
        old = _words(applied.old_words, occurrence, french)
        return f"À {alinea}, supprimer {old}." if french else f"In {alinea}, delete {old}."
    if kind is OperationKind.INSERT_WORDS:
        old = _words(applied.old_words, occurrence, french)
        new = _words(new_words, 1, french)
        if french:
            return f"À {alinea}, après {old}, insérer {new}."
        return f"In {alinea}, after {old}, insert {new}."
    if kind is OperationKind.REPLACE_ALINEA:
        quoted = _quote(new_words, french)
        if french:
            return f"Rédiger ainsi {alinea} : {quoted}."
        return f"Replace {alinea} with: {quoted}."
    if kind is OperationKind.INSERT_ALINEA:
        quoted = _quote(new_words, french)
        if target.number == 0:
            if french:
                return f"Au début de {article}, insérer un alinéa ainsi rédigé : {quoted}."
            return f"At the beginning of {article}, insert a paragraph reading: {quoted}."
        if french:
            return f"Après {alinea}, insérer un alinéa ainsi rédigé : {quoted}."
        return f"After {alinea}, insert a paragraph reading: {quoted}."
    if kind is OperationKind.DELETE_ALINEA:
        return f"Supprimer {alinea}." if french else f"Delete {alinea}."
    block = _quote_block(applied.new_alineas, french)
    if kind is OperationKind.REWRITE_ARTICLE:
        if french:
            return f"Rédiger ainsi {article} :{block}."
        return f"Replace {article} with:{block}."
    if french:
        return f"Après {article}, insérer un article additionnel ainsi rédigé :{block}."
    return f"After {article}, insert a new article reading:{block}."
