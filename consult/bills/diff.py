"""Word-level differences between two texts, and between two versions of an article.

Used to show an amendment as a diff and to draw what changed between versions of a bill.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal, TypeVar

_T = TypeVar("_T", bound=Hashable)

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
