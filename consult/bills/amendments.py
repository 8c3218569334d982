"""Amendments that citizens propose to an article of a bill, as typed operations.

An article is a sequence of alinéas numbered from 1, as in French law: every line counts,
including enumerated items such as « 1° » or « a) ». An amendment is one or more `Operation`s
(replace, delete or insert words in an alinéa; replace, insert or delete an alinéa; rewrite the
article; propose a new article after it). This module checks operations against the text they
amend, applies them, locates the passage they touch, tells whether two of them touch the same
passage, shows the result as a word-level diff, and drafts the formal wording of the amendment
in the parliamentary style.

Everything here is deterministic and free of I/O. Errors a participant can fix are raised as
`AmendmentError`, naming the form field at fault and a translated message.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal, TypeVar

from consult.i18n import gettext as _

__all__ = [
    "MAX_NEW_TEXT",
    "AlineaDiff",
    "AmendmentError",
    "DiffSegment",
    "Operation",
    "OperationKind",
    "apply_operation",
    "apply_operations",
    "article_diff",
    "find_span",
    "formal_wording",
    "matching_blocks",
    "overlaps",
    "pair_alineas",
    "split_alineas",
    "text_units",
    "validate_operation",
    "word_diff",
]

MAX_NEW_TEXT = 20_000

_T = TypeVar("_T", bound=Hashable)


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


_WORD_KINDS = frozenset(
    {OperationKind.REPLACE_WORDS, OperationKind.DELETE_WORDS, OperationKind.INSERT_WORDS}
)
_ALINEA_KINDS = frozenset(
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
class _Target:
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


def _words_span(kind: OperationKind, operation: Operation, text: str, number: int) -> _Target:
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
    return _Target(kind, number, start, end)


def _locate(operation: Operation, alineas: Sequence[str]) -> _Target:
    """Check what locates the operation (kind, alinéa, words, occurrence) and locate it."""
    kind = _kind(operation)
    if kind not in _WORD_KINDS and kind not in _ALINEA_KINDS:
        return _Target(kind)
    number = _alinea_number(kind, operation, len(alineas))
    if kind in _WORD_KINDS:
        return _words_span(kind, operation, alineas[number - 1], number)
    return _Target(kind, number)


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


def _raw_new_text(operation: Operation, target: _Target, words: str) -> str:
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
class _Applied:
    """The checked outcome of an operation."""

    target: _Target
    alineas: list[str]
    old_words: str = ""
    new_text: str = ""
    new_alineas: tuple[str, ...] = ()


def _apply(operation: Operation, alineas: Sequence[str]) -> _Applied:
    target = _locate(operation, alineas)
    kind = target.kind
    result = list(alineas)
    if kind is OperationKind.DELETE_ALINEA:
        assert target.number is not None
        del result[target.number - 1]
        return _Applied(target, result)
    if kind in (OperationKind.REWRITE_ARTICLE, OperationKind.NEW_ARTICLE):
        new_alineas = split_alineas(_raw_new_text(operation, target, ""))
        current = [line for alinea in alineas if (line := _clean_line(alinea))]
        if kind is OperationKind.REWRITE_ARTICLE and new_alineas == current:
            raise _unchanged_error()
        return _Applied(target, new_alineas, new_alineas=tuple(new_alineas))
    assert target.number is not None
    index = target.number - 1
    if kind is OperationKind.INSERT_ALINEA:
        new_text = _clean_line(_raw_new_text(operation, target, ""))
        result.insert(target.number, new_text)
        return _Applied(target, result, new_text=new_text)
    if kind is OperationKind.REPLACE_ALINEA:
        new_text = _clean_line(_raw_new_text(operation, target, ""))
        if new_text == _clean_line(alineas[index]):
            raise _unchanged_error()
        result[index] = new_text
        return _Applied(target, result, new_text=new_text)
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
        return _Applied(target, result, old_words=old_words)
    new_text = _clean_line(_raw_new_text(operation, target, operation.old_text))
    if kind is OperationKind.REPLACE_WORDS:
        if new_text in (old_words, _clean_line(operation.old_text)):
            raise _unchanged_error()
        result[index] = text[: target.start] + new_text + text[target.end :]
    else:
        result[index] = _insert_after(text, target.end, new_text)
    return _Applied(target, result, old_words=old_words, new_text=new_text)


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
    _apply(operation, alineas)


def apply_operation(operation: Operation, alineas: Sequence[str]) -> list[str]:
    """The article's alinéas once `operation` is applied (it is validated first).

    Word operations only change the targeted characters of the alinéa: a deletion leaves
    neither a double space nor a space before « . , ) » (the space French puts before « ; »
    or « : » is kept when the text had one), and inserted words are separated from the words
    they follow by one space unless they start with such punctuation. New texts are stripped
    and their whitespace runs collapsed. For NEW_ARTICLE the result is the new article's
    alinéas, the current article being unchanged.
    """
    return _apply(operation, alineas).alineas


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
    target = _locate(operation, alineas)
    if target.number is None:
        return None
    if target.kind in _WORD_KINDS:
        return (target.number, target.start, target.end)
    if target.kind is OperationKind.INSERT_ALINEA:
        if target.number == 0:
            return (1, 0, 0) if alineas else None
        length = len(alineas[target.number - 1])
        return (target.number, length, length)
    return (target.number, 0, len(alineas[target.number - 1]))


@dataclass(frozen=True)
class Footprint:
    """The passage an operation touches, for overlap tests.

    `scope` is "new_article", "article", "gap" (between alinéa `number` and the next),
    "alinea", "range" (chars start..end of the alinéa) or "point" (a position in it).
    """

    scope: Literal["new_article", "article", "gap", "alinea", "range", "point"]
    number: int = 0
    start: int = 0
    end: int = 0


def footprint(operation: Operation, alineas: Sequence[str]) -> Footprint:
    """Where an operation acts, computed once and stored, so overlap tests need no text."""
    target = _locate(operation, alineas)
    if target.kind is OperationKind.NEW_ARTICLE:
        return Footprint("new_article")
    if target.number is None:
        return Footprint("article")
    if target.kind is OperationKind.INSERT_ALINEA:
        return Footprint("gap", target.number)
    if target.kind in _ALINEA_KINDS:
        return Footprint("alinea", target.number)
    if target.kind is OperationKind.INSERT_WORDS:
        return Footprint("point", target.number, target.end, target.end)
    return Footprint("range", target.number, target.start, target.end)


def touches(a: Footprint, b: Footprint) -> bool:
    """Whether two footprints on the same article touch (see `overlaps`)."""
    if a.scope == "new_article" or b.scope == "new_article":
        return a.scope == b.scope
    if a.scope == "article" or b.scope == "article":
        return True
    if a.scope == "gap" or b.scope == "gap":
        return a.scope == b.scope and a.number == b.number
    if a.number != b.number:
        return False
    if a.scope == "alinea" or b.scope == "alinea":
        return True
    if a.scope == "point" and b.scope == "point":
        return a.start == b.start
    if a.scope == "point" or b.scope == "point":
        point, span = (a, b) if a.scope == "point" else (b, a)
        # Inserting right after words that the other operation changes touches them.
        return span.start <= point.start <= span.end
    return a.start < b.end and b.start < a.end


def overlaps(a: Operation, b: Operation, alineas: Sequence[str]) -> bool:
    """Whether two operations on the same article touch the same passage.

    REWRITE_ARTICLE overlaps every operation but NEW_ARTICLE, which only overlaps another
    NEW_ARTICLE. INSERT_ALINEA after alinéa N only overlaps another INSERT_ALINEA after N
    (it changes no existing alinéa). REPLACE_ALINEA and DELETE_ALINEA overlap any other
    operation on the same alinéa except insertions of alinéas. Word operations overlap when
    their character ranges intersect; INSERT_WORDS is the point at the end of its anchor
    words, which touches a range that contains or borders it and an insertion at the same
    point. The relation is symmetric. Raises `AmendmentError` when an operation cannot be
    located (see `find_span`).
    """
    return touches(footprint(a, alineas), footprint(b, alineas))


# --- Diffs -------------------------------------------------------------------------------------

_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_TOKEN_RE = re.compile(rf"(?:\w|[{_COMBINING}])+|\s+|.", re.DOTALL)
# Beyond this many alinéa pairs in one changed block, pairing is positional (cost bound).
_MAX_ALIGNMENT_CELLS = 10_000
# Beyond this many candidate pairs, matching is skipped and the stretch shown as replaced.
_MAX_MATCHING_COST = 400_000


@dataclass(frozen=True)
class DiffSegment:
    """A run of text that both versions share, or that only one of them has."""

    kind: Literal["equal", "insert", "delete"]
    text: str


@dataclass(frozen=True)
class AlineaDiff:
    """How one alinéa changed between two versions of an article (numbers are 1-based)."""

    status: Literal["unchanged", "changed", "inserted", "deleted"]
    before_number: int | None
    after_number: int | None
    segments: tuple[DiffSegment, ...]


def _opcodes(old: Sequence[_T], new: Sequence[_T]) -> list[tuple[str, int, int, int, int]]:
    """`SequenceMatcher` opcodes, the common ends matched first.

    When matching the middles would cost too much (long runs of repeated elements make it
    quadratic), they are reported as one replacement.
    """
    shortest = min(len(old), len(new))
    prefix = 0
    while prefix < shortest and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    old_end, new_end = len(old) - suffix, len(new) - suffix
    opcodes: list[tuple[str, int, int, int, int]] = []
    if prefix:
        opcodes.append(("equal", 0, prefix, 0, prefix))
    old_middle, new_middle = old[prefix:old_end], new[prefix:new_end]
    counts = Counter(new_middle)
    if sum(counts[element] for element in old_middle) <= _MAX_MATCHING_COST:
        matcher = SequenceMatcher(None, old_middle, new_middle, autojunk=False)
        opcodes.extend(
            (tag, prefix + i1, prefix + i2, prefix + j1, prefix + j2)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        )
    else:
        # A positive cost means that both middles have elements.
        opcodes.append(("replace", prefix, old_end, prefix, new_end))
    if suffix:
        opcodes.append(("equal", old_end, len(old), new_end, len(new)))
    return opcodes


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text)


def _units(text: str) -> list[tuple[str, ...]]:
    """Tokens grouped as a word or mark with the whitespace that follows it."""
    units: list[tuple[str, ...]] = []
    for token in _tokens(text):
        if token.isspace() and units:
            units[-1] = (*units[-1], token)
        else:
            units.append((token,))
    return units


def text_units(text: str) -> list[tuple[str, ...]]:
    """A text cut into words (or marks), each with the whitespace that follows it: the units
    diffs compare, so that a change of spacing alone is no change of words."""
    return _units(text)


def matching_blocks(old: Sequence[_T], new: Sequence[_T]) -> list[tuple[str, int, int, int, int]]:
    """``difflib``-style opcodes turning ``old`` into ``new`` (common ends matched first, and
    a bounded cost: a very repetitive middle is reported as one replacement)."""
    return _opcodes(old, new)


def pair_alineas(before: Sequence[str], after: Sequence[str]) -> list[tuple[int, int]]:
    """Pair the alinéas of a run that changed, one to one, in order, the most similar
    together (the pairing :func:`article_diff` shows)."""
    return _pairs(before, after)


def _token_segments(old: list[str], new: list[str]) -> list[DiffSegment]:
    segments: list[DiffSegment] = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        old_text, new_text = "".join(old[i1:i2]), "".join(new[j1:j2])
        if tag == "equal":
            segments.append(DiffSegment("equal", old_text))
            continue
        if old_text:
            segments.append(DiffSegment("delete", old_text))
        if new_text:
            segments.append(DiffSegment("insert", new_text))
    return segments


def word_diff(before: str, after: str) -> list[DiffSegment]:
    """The word-level difference between two texts.

    Texts are cut into words, whitespace runs and single punctuation marks; a changed word
    shows as the deletion of the old word followed by the insertion of the new one, and
    changes separated only by whitespace are shown as one. Adjacent segments never share a
    kind. Joining the texts of the "equal" and "delete" segments gives `before` exactly, and
    joining those of the "equal" and "insert" segments gives `after`.
    """
    # Words are first matched with their trailing whitespace, then the changed stretches
    # token by token: matching whitespace tokens directly is quadratic on long texts.
    old, new = _units(before), _units(after)
    raw: list[DiffSegment] = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
        old_tokens = [token for unit in old[i1:i2] for token in unit]
        new_tokens = [token for unit in new[j1:j2] for token in unit]
        if tag == "equal":
            raw.append(DiffSegment("equal", "".join(old_tokens)))
        else:
            raw.extend(_token_segments(old_tokens, new_tokens))
    merged: list[DiffSegment] = []
    for segment in raw:
        if merged and merged[-1].kind == segment.kind == "equal":
            merged[-1] = DiffSegment("equal", merged[-1].text + segment.text)
        else:
            merged.append(segment)
    segments: list[DiffSegment] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for position, segment in enumerate(merged):
        if segment.kind == "delete":
            deleted.append(segment.text)
        elif segment.kind == "insert":
            inserted.append(segment.text)
        elif (deleted or inserted) and segment.text.isspace() and position + 1 < len(merged):
            # Whitespace alone between two changes reads better as part of one change.
            deleted.append(segment.text)
            inserted.append(segment.text)
        else:
            if deleted:
                segments.append(DiffSegment("delete", "".join(deleted)))
            if inserted:
                segments.append(DiffSegment("insert", "".join(inserted)))
            deleted.clear()
            inserted.clear()
            segments.append(segment)
    if deleted:
        segments.append(DiffSegment("delete", "".join(deleted)))
    if inserted:
        segments.append(DiffSegment("insert", "".join(inserted)))
    return segments


def _similarity(a: Counter[str], b: Counter[str]) -> int:
    """Shared words per thousand (an integer, so that ties compare exactly)."""
    total = sum(a.values()) + sum(b.values())
    return 2000 * sum((a & b).values()) // total if total else 1000


def _pairs(before: Sequence[str], after: Sequence[str]) -> list[tuple[int, int]]:
    """Pair the alinéas of a changed block one to one, in order, the most similar together."""
    if len(before) == len(after) or len(before) * len(after) > _MAX_ALIGNMENT_CELLS:
        return [(index, index) for index in range(min(len(before), len(after)))]
    swapped = len(before) > len(after)
    short, long = (after, before) if swapped else (before, after)
    short_words = [Counter(_tokens(text)) for text in short]
    long_words = [Counter(_tokens(text)) for text in long]
    score = [[_similarity(s, t) for t in long_words] for s in short_words]
    # best[i][j]: highest total score pairing all of short[:i] with some of long[:j].
    unreachable = -1
    best = [[0] * (len(long) + 1)] + [[unreachable] * (len(long) + 1) for _row in range(len(short))]
    for i in range(1, len(short) + 1):
        for j in range(i, len(long) + 1):
            skip = best[i][j - 1]
            pair = best[i - 1][j - 1] + score[i - 1][j - 1]
            best[i][j] = max(skip, pair)
    pairs: list[tuple[int, int]] = []
    i, j = len(short), len(long)
    while i > 0:
        if j > i and best[i][j - 1] >= best[i - 1][j - 1] + score[i - 1][j - 1]:
            j -= 1
            continue
        pairs.append((j - 1, i - 1) if swapped else (i - 1, j - 1))
        i -= 1
        j -= 1
    pairs.reverse()
    return pairs


def article_diff(before: Sequence[str], after: Sequence[str]) -> list[AlineaDiff]:
    """Align the alinéas of two versions of an article and diff the changed ones.

    Identical alinéas are "unchanged" (one "equal" segment). Within a block of differing
    alinéas, alinéas are paired one to one as "changed" (with `word_diff` segments); when the
    block has more alinéas on one side, the most similar ones are paired, in order, and the
    others are "deleted" (one "delete" segment) or "inserted" (one "insert" segment).
    """
    diffs: list[AlineaDiff] = []
    for tag, i1, i2, j1, j2 in _opcodes(before, after):
        if tag == "equal":
            diffs.extend(
                AlineaDiff("unchanged", i1 + k + 1, j1 + k + 1, (DiffSegment("equal", text),))
                for k, text in enumerate(before[i1:i2])
            )
            continue
        pairs = [(i1 + i, j1 + j) for i, j in _pairs(before[i1:i2], after[j1:j2])]
        next_before, next_after = i1, j1
        # The end of the block comes last so that the remaining alinéas are emitted too.
        for i, j in [*pairs, (i2, j2)]:
            diffs.extend(
                AlineaDiff("deleted", k + 1, None, (DiffSegment("delete", before[k]),))
                for k in range(next_before, i)
            )
            diffs.extend(
                AlineaDiff("inserted", None, k + 1, (DiffSegment("insert", after[k]),))
                for k in range(next_after, j)
            )
            if i < i2:
                if before[i] == after[j]:
                    segments: tuple[DiffSegment, ...] = (DiffSegment("equal", before[i]),)
                    diffs.append(AlineaDiff("unchanged", i + 1, j + 1, segments))
                else:
                    segments = tuple(word_diff(before[i], after[j]))
                    diffs.append(AlineaDiff("changed", i + 1, j + 1, segments))
            next_before, next_after = i + 1, j + 1
    return diffs


# --- Formal wording ----------------------------------------------------------------------------

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
    applied = _apply(operation, alineas)
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
