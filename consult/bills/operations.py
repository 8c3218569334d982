"""Amendments that citizens propose to an article of a bill, as typed operations.

An article is a sequence of alinéas numbered from 1, as in French law: every line counts,
including enumerated items such as « 1° » or « a) ». An amendment is one or more `Operation`s
(replace, delete or insert words in an alinéa; replace, insert or delete an alinéa; rewrite the
article; propose a new article after it). This module checks operations against the text they
amend, applies them and locates the passage they touch.

Everything here is deterministic and free of I/O. Errors a participant can fix are raised as
`AmendmentError`, naming the form field at fault and a translated message.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from consult.i18n import gettext as _

MAX_NEW_TEXT = 20_000


class OperationKind(enum.StrEnum):
    """What an operation does to the article."""

    REPLACE_WORDS = "replace_words"
    DELETE_WORDS = "delete_words"
    INSERT_WORDS = "insert_words"
    REPLACE_ALINEA = "replace_alinea"
    INSERT_ALINEA = "insert_alinea"
    DELETE_ALINEA = "delete_alinea"
    REWRITE_ARTICLE = "rewrite_article"
    NEW_ARTICLE = "new_article"


WORD_KINDS = frozenset(
    {OperationKind.REPLACE_WORDS, OperationKind.DELETE_WORDS, OperationKind.INSERT_WORDS}
)
ALINEA_KINDS = frozenset(
    {OperationKind.REPLACE_ALINEA, OperationKind.INSERT_ALINEA, OperationKind.DELETE_ALINEA}
)


@dataclass(frozen=True)
class Operation:
    """One change to an article.

    `alinea` is the 1-based alinéa the operation targets (for INSERT_ALINEA, the alinéa after
    which the new one goes, 0 meaning at the beginning); it is ignored by REWRITE_ARTICLE and
    NEW_ARTICLE. `old_text` and `occurrence` (1 for the first time the words appear) only
    matter to the *_WORDS kinds; `new_text` is ignored by the DELETE_* kinds.
    """

    kind: OperationKind
    alinea: int | None = None
    old_text: str = ""
    occurrence: int = 1
    new_text: str = ""


class AmendmentError(ValueError):
    """An operation that cannot be applied to the article as it stands.

    `field` is the form field at fault ("kind", "alinea", "old_text", "occurrence" or
    "new_text") and `message` the translated explanation of what is expected.
    """

    def __init__(self, field: str, message: str) -> None:
        # Both values go to ValueError so that the exception survives pickling.
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- Text normalisation ----------------------------------------------------------------------

_WHITESPACE_RUN_RE = re.compile(r"\s+")
# Control characters that are not whitespace (whitespace ones are collapsed instead).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
# French typography puts a non-breaking space before « ; : ! ? » and inside « »: keep it.
_KEPT_SPACES = frozenset({"\u00a0", "\u202f"})
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})
# After these, a deleted passage leaves no space, and inserted words take none before them.
_TIGHT_PUNCTUATION = frozenset(".,)]}…")


def _collapse_whitespace(match: re.Match[str]) -> str:
    return match.group() if match.group() in _KEPT_SPACES else " "


def _clean_line(text: str) -> str:
    """Strip, drop control characters and collapse whitespace runs to one space."""
    return _WHITESPACE_RUN_RE.sub(_collapse_whitespace, _CONTROL_RE.sub("", text)).strip()


def split_alineas(text: str) -> list[str]:
    """Split a typed multi-alinéa text into alinéas.

    Each line is an alinéa: blank lines are dropped, lines are stripped, control characters
    removed and runs of whitespace collapsed to one space (a single non-breaking space, as
    French typography uses before « : » or inside « », is kept).
    """
    return [line for raw in text.splitlines() if (line := _clean_line(raw))]


def _excerpt(text: str) -> str:
    """Words as quoted in an error message."""
    text = _clean_line(text)
    return text if len(text) <= 80 else text[:79] + "…"


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


@dataclass(frozen=True)
class _Searchable:
    """An alinéa normalised for matching, with the original span of each normalised char."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]


def _searchable(text: str) -> _Searchable:
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        if char.isspace():
            if chars and chars[-1] == " ":
                ends[-1] = index + 1
                continue
            char = " "
        chars.append(char)
        starts.append(index)
        ends.append(index + 1)
    # The apostrophe mapping is one character to one, so positions stay aligned.
    normalised = "".join(chars).translate(_APOSTROPHES)
    return _Searchable(normalised, tuple(starts), tuple(ends))


def _needle(words: str) -> str:
    return " ".join(words.split()).translate(_APOSTROPHES)


def _occurrences(haystack: str, needle: str) -> list[int]:
    """Start of each non-overlapping occurrence of `needle` that does not split a word."""
    found: list[int] = []
    start = 0
    while (index := haystack.find(needle, start)) >= 0:
        end = index + len(needle)
        splits_before = (
            _is_word_char(needle[0]) and index > 0 and _is_word_char(haystack[index - 1])
        )
        splits_after = (
            _is_word_char(needle[-1]) and end < len(haystack) and _is_word_char(haystack[end])
        )
        if splits_before or splits_after:
            start = index + 1
        else:
            found.append(index)
            start = end
    return found


# --- Validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where an operation applies: an alinéa number and, for word operations, a char span."""

    kind: OperationKind
    number: int | None = None
    start: int = 0
    end: int = 0


def _kind(operation: Operation) -> OperationKind:
    try:
        return OperationKind(operation.kind)
    except (ValueError, TypeError):
        message = _(
            "Choose what the amendment does: replace, delete or insert words; replace, insert "
            "or delete an alinéa; rewrite the article; or add a new article."
        )
        raise AmendmentError("kind", message) from None


def _is_whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _alinea_number(kind: OperationKind, operation: Operation, count: int) -> int:
    number = operation.alinea
    lowest = 0 if kind is OperationKind.INSERT_ALINEA else 1
    valid = _is_whole_number(number)
    if valid and number is not None and lowest <= number <= count:
        return number
    if lowest > count:
        message = _(
            "This article has no alinéa to amend: insert an alinéa or rewrite the article instead."
        )
    elif kind is OperationKind.INSERT_ALINEA:
        if valid:
            message = _(
                "There is no alinéa {number} in this article: give a whole number between 0 "
                "(to insert at the beginning of the article) and {count}."
            )
        else:
            message = _(
                "Give the number of the alinéa after which to insert the new one: a whole "
                "number between 0 (to insert at the beginning of the article) and {count}."
            )
    elif valid:
        message = _(
            "There is no alinéa {number} in this article: give a whole number between 1 and "
            "{count}."
        )
    else:
        message = _("Give the number of the alinéa to amend: a whole number between 1 and {count}.")
    raise AmendmentError("alinea", message.format(number=number, count=count))


def _missing_words_message(kind: OperationKind) -> str:
    if kind is OperationKind.REPLACE_WORDS:
        return _("Copy the words to replace, exactly as they are written in alinéa {number}.")
    if kind is OperationKind.DELETE_WORDS:
        return _("Copy the words to delete, exactly as they are written in alinéa {number}.")
    return _(
        "Copy the words after which to insert, exactly as they are written in alinéa {number}."
    )


def _words_span(kind: OperationKind, operation: Operation, text: str, number: int) -> Target:
    old_text = operation.old_text
    if not isinstance(old_text, str) or not _needle(old_text):
        raise AmendmentError("old_text", _missing_words_message(kind).format(number=number))
    occurrence = operation.occurrence
    if not _is_whole_number(occurrence) or occurrence < 1:
        message = _(
            "The occurrence must be a whole number, at least 1 (1 for the first time the words "
            "appear in the alinéa)."
        )
        raise AmendmentError("occurrence", message)
    searchable = _searchable(text)
    needle = _needle(old_text)
    found = _occurrences(searchable.text, needle)
    if not found:
        message = _(
            "The words “{words}” do not appear in alinéa {number}; copy them exactly as they "
            "are written."
        )
        raise AmendmentError("old_text", message.format(words=_excerpt(old_text), number=number))
    if occurrence > len(found) == 1:
        message = _(
            "The words “{words}” appear only once in alinéa {number}: the occurrence must be 1."
        )
        raise AmendmentError("occurrence", message.format(words=_excerpt(old_text), number=number))
    if occurrence > len(found):
        message = _(
            "Occurrence {occurrence} of the words “{words}” does not exist in alinéa {number}: "
            "give a number between 1 and {count}."
        )
        raise AmendmentError(
            "occurrence",
            message.format(
                occurrence=occurrence, words=_excerpt(old_text), number=number, count=len(found)
            ),
        )
    index = found[occurrence - 1]
    start = searchable.starts[index]
    end = searchable.ends[index + len(needle) - 1]
    return Target(kind, number, start, end)


def locate(operation: Operation, alineas: Sequence[str]) -> Target:
    """Check what locates the operation (kind, alinéa, words, occurrence) and locate it."""
    kind = _kind(operation)
    if kind not in WORD_KINDS and kind not in ALINEA_KINDS:
        return Target(kind)
    number = _alinea_number(kind, operation, len(alineas))
    if kind in WORD_KINDS:
        return _words_span(kind, operation, alineas[number - 1], number)
    return Target(kind, number)


def _missing_new_text_message(kind: OperationKind) -> str:
    if kind is OperationKind.REPLACE_WORDS:
        return _("Write the words that replace “{words}”.")
    if kind is OperationKind.INSERT_WORDS:
        return _("Write the words to insert after “{words}”.")
    if kind is OperationKind.REPLACE_ALINEA:
        return _("Write the new wording of alinéa {number}.")
    if kind is OperationKind.INSERT_ALINEA:
        return _("Write the text of the alinéa to insert.")
    if kind is OperationKind.REWRITE_ARTICLE:
        return _("Write the new text of the article, one alinéa per line.")
    return _("Write the text of the new article, one alinéa per line.")


def _raw_new_text(operation: Operation, target: Target, words: str) -> str:
    """The typed new text, checked to be present and not too long."""
    new_text = operation.new_text
    if not isinstance(new_text, str) or not _clean_line(new_text):
        message = _missing_new_text_message(target.kind)
        raise AmendmentError(
            "new_text", message.format(words=_excerpt(words), number=target.number)
        )
    if len(new_text) > MAX_NEW_TEXT:
        message = _(
            "The new wording is too long: {length} characters, where at most {maximum} are allowed."
        )
        raise AmendmentError("new_text", message.format(length=len(new_text), maximum=MAX_NEW_TEXT))
    return new_text


def _unchanged_error() -> AmendmentError:
    message = _(
        "The new wording is the same as the current one: change it, or choose another kind of "
        "amendment."
    )
    return AmendmentError("new_text", message)


# --- Applying ----------------------------------------------------------------------------------


def _delete_span(text: str, start: int, end: int) -> str:
    """Remove text[start:end] without leaving a double space or a space before punctuation."""
    left, right = text[:start], text[end:]
    if not right.strip():
        return left.rstrip()
    if not left.strip():
        return right.lstrip()
    if right[0] in _TIGHT_PUNCTUATION:
        return left.rstrip() + right
    if left[-1].isspace() and right[0].isspace():
        # The space that follows belongs to what follows (French puts one before « ; »).
        return left.rstrip() + right
    return left + right


def _insert_after(text: str, end: int, words: str) -> str:
    separator = "" if words[0] in _TIGHT_PUNCTUATION else " "
    return text[:end] + separator + words + text[end:]


@dataclass(frozen=True)
class Applied:
    """The checked outcome of an operation."""

    target: Target
    alineas: list[str]
    old_words: str = ""
    new_text: str = ""
    new_alineas: tuple[str, ...] = ()


def apply_in_detail(operation: Operation, alineas: Sequence[str]) -> Applied:
    target = locate(operation, alineas)
    kind = target.kind
    result = list(alineas)
    if kind is OperationKind.DELETE_ALINEA:
        assert target.number is not None
        del result[target.number - 1]
        return Applied(target, result)
    if kind in (OperationKind.REWRITE_ARTICLE, OperationKind.NEW_ARTICLE):
        new_alineas = split_alineas(_raw_new_text(operation, target, ""))
        current = [line for alinea in alineas if (line := _clean_line(alinea))]
        if kind is OperationKind.REWRITE_ARTICLE and new_alineas == current:
            raise _unchanged_error()
        return Applied(target, new_alineas, new_alineas=tuple(new_alineas))
    assert target.number is not None
    index = target.number - 1
    if kind is OperationKind.INSERT_ALINEA:
        new_text = _clean_line(_raw_new_text(operation, target, ""))
        result.insert(target.number, new_text)
        return Applied(target, result, new_text=new_text)
    if kind is OperationKind.REPLACE_ALINEA:
        new_text = _clean_line(_raw_new_text(operation, target, ""))
        if new_text == _clean_line(alineas[index]):
            raise _unchanged_error()
        result[index] = new_text
        return Applied(target, result, new_text=new_text)
    text = alineas[index]
    old_words = _clean_line(text[target.start : target.end])
    if kind is OperationKind.DELETE_WORDS:
        changed = _delete_span(text, target.start, target.end)
        if not changed.strip():
            message = _(
                "These words are the whole of alinéa {number}: to remove it, delete the alinéa "
                "instead."
            )
            raise AmendmentError("old_text", message.format(number=target.number))
        result[index] = changed
        return Applied(target, result, old_words=old_words)
    new_text = _clean_line(_raw_new_text(operation, target, operation.old_text))
    if kind is OperationKind.REPLACE_WORDS:
        if new_text in (old_words, _clean_line(operation.old_text)):
            raise _unchanged_error()
        result[index] = text[: target.start] + new_text + text[target.end :]
    else:
        result[index] = _insert_after(text, target.end, new_text)
    return Applied(target, result, old_words=old_words, new_text=new_text)


def validate_operation(operation: Operation, alineas: Sequence[str]) -> None:
    """Check that `operation` can be applied to the article whose alinéas are `alineas`.

    Raises `AmendmentError` naming the field at fault when the kind is unknown; the alinéa
    does not exist (INSERT_ALINEA accepts 0 to the number of alinéas); the words of a *_WORDS
    operation are missing or do not appear in the alinéa at least `occurrence` times; the
    occurrence is below 1; the new text is missing (DELETE_* kinds need none) or longer than
    `MAX_NEW_TEXT` characters; the new wording is the same as the current one; or deleting
    words would empty the alinéa (deleting the alinéa is the way to do that).

    The words are matched exactly, except that runs of whitespace (non-breaking spaces and
    line breaks included) count as one space and typographic apostrophes (’) match straight
    ones ('), so that words copied from the page or typed on a keyboard are found. A match
    never starts or ends in the middle of a word: « loi » is not found in « emploi ».
    """
    apply_in_detail(operation, alineas)


def apply_operation(operation: Operation, alineas: Sequence[str]) -> list[str]:
    """The article's alinéas once `operation` is applied (it is validated first).

    Word operations only change the targeted characters of the alinéa: a deletion leaves
    neither a double space nor a space before « . , ) » (the space French puts before « ; »
    or « : » is kept when the text had one), and inserted words are separated from the words
    they follow by one space unless they start with such punctuation. New texts are stripped
    and their whitespace runs collapsed. For NEW_ARTICLE the result is the new article's
    alinéas, the current article being unchanged.
    """
    return apply_in_detail(operation, alineas).alineas


def apply_operations(operations: Sequence[Operation], alineas: Sequence[str]) -> list[str]:
    """Apply `operations` in order, each to the result of the previous one.

    A NEW_ARTICLE operation must come alone (its result is another article, which the
    following operations could not sensibly amend). The first operation that fails raises
    its `AmendmentError`.
    """
    if len(operations) > 1 and any(
        operation.kind == OperationKind.NEW_ARTICLE for operation in operations
    ):
        message = _(
            "A new article must be proposed in an amendment of its own, not combined with "
            "changes to this article."
        )
        raise AmendmentError("kind", message)
    result = list(alineas)
    for operation in operations:
        result = apply_operation(operation, result)
    return result


# --- Locating and comparing ------------------------------------------------------------------


def find_span(operation: Operation, alineas: Sequence[str]) -> tuple[int, int, int] | None:
    """Where the operation applies: (1-based alinéa, start char, end char), or None.

    Word operations give the span of their words in the alinéa as written (for INSERT_WORDS,
    the words after which the new ones go); REPLACE_ALINEA and DELETE_ALINEA the whole
    alinéa; INSERT_ALINEA the empty span at the end of the alinéa it follows (at the start of
    alinéa 1 for an insertion at the beginning, None when the article is empty);
    REWRITE_ARTICLE and NEW_ARTICLE give None. Raises `AmendmentError` when the operation
    cannot be located (unknown kind or alinéa, words not found); the new text is not checked.
    """
    target = locate(operation, alineas)
    if target.number is None:
        return None
    if target.kind in WORD_KINDS:
        return (target.number, target.start, target.end)
    if target.kind is OperationKind.INSERT_ALINEA:
        if target.number == 0:
            return (1, 0, 0) if alineas else None
        length = len(alineas[target.number - 1])
        return (target.number, length, length)
    return (target.number, 0, len(alineas[target.number - 1]))
