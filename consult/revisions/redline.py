"""Which amendment (or the ministry) changed which words of an article, across several edits.

An article starts as the alinéas of the current version. Each edit (an accepted amendment
applied, then the ministry's hand edits) gives its new alinéas and its origin. Words are
followed through every edit, so at the end each word of the new article knows which edit wrote
it, and each word of the old article that is gone knows which edit removed it. The result is a
redline of old → new in which every insertion and deletion carries its origin.

Words are compared as units of a word (or mark) with the whitespace that follows it, as in
:func:`consult.bills.diff.word_diff`; alinéas are separated by a unit of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from consult.bills.diff import matching_blocks, pair_alineas, text_units

# The origin of the ministry's own edits (amendment origins are contribution ids, all > 0).
MINISTRY = 0
_BREAK: tuple[str, ...] = ("\n",)

Kind = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class Piece:
    """A run of text of the redline: kept, written by ``origin``, or removed by ``origin``."""

    kind: Kind
    text: str
    origin: int | None = None
    """The amendment's contribution id, :data:`MINISTRY`, or None for kept text."""


def _atoms(alineas: Sequence[str]) -> list[tuple[str, ...]]:
    atoms: list[tuple[str, ...]] = []
    for index, alinea in enumerate(alineas):
        if index:
            atoms.append(_BREAK)
        atoms.extend(text_units(alinea))
    return atoms


class Redline:
    """Follows the words of an article through successive edits."""

    def __init__(self, alineas: Sequence[str]) -> None:
        self.base = _atoms(alineas)
        self.atoms = list(self.base)
        self.origins: list[int | None] = [None] * len(self.base)
        self.refs: list[int | None] = list(range(len(self.base)))
        self.deleted_by: dict[int, int] = {}

    def edit(self, alineas: Sequence[str], origin: int) -> None:
        """The article now reads ``alineas``, written by ``origin``.

        Alinéas are matched first, as article diffs do (unchanged ones whole, then the most
        similar of a changed run paired); words are then matched within each pair only.
        """
        bounds = self._line_bounds()
        old_texts = ["".join("".join(atom) for atom in self.atoms[a:b]) for a, b in bounds]
        atoms: list[tuple[str, ...]] = []
        origins: list[int | None] = []
        refs: list[int | None] = []

        def old_run(line: int | None) -> list[int]:
            # An old alinéa's atoms, with the break before it if it has one.
            if line is None:
                return []
            begin = bounds[line][0] - 1 if line > 0 else 0
            return list(range(begin, bounds[line][1]))

        def new_run(line: int | None) -> list[tuple[str, ...]]:
            if line is None:
                return []
            units = list(text_units(alineas[line]))
            return [_BREAK, *units] if line > 0 else units

        for old_line, new_line in align_alineas(old_texts, alineas):
            before, after = old_run(old_line), new_run(new_line)
            old_atoms = [self.atoms[i] for i in before]
            for op, i1, i2, j1, j2 in matching_blocks(old_atoms, after):
                if op == "equal":
                    atoms.extend(old_atoms[i1:i2])
                    origins.extend(self.origins[before[k]] for k in range(i1, i2))
                    refs.extend(self.refs[before[k]] for k in range(i1, i2))
                    continue
                for k in range(i1, i2):
                    ref = self.refs[before[k]]
                    if ref is not None:
                        self.deleted_by[ref] = origin
                atoms.extend(after[j1:j2])
                origins.extend([origin] * (j2 - j1))
                refs.extend([None] * (j2 - j1))
        self.atoms, self.origins, self.refs = atoms, origins, refs

    def _line_bounds(self) -> list[tuple[int, int]]:
        """(start, end) atom indexes of each alinéa of the current text (breaks excluded)."""
        bounds: list[tuple[int, int]] = []
        start = 0
        for index, atom in enumerate(self.atoms):
            if atom == _BREAK:
                bounds.append((start, index))
                start = index + 1
        bounds.append((start, len(self.atoms)))
        return bounds

    @property
    def changed(self) -> bool:
        """Whether the article reads differently from the start."""
        return self.atoms != self.base

    def lines(self) -> list[list[Piece]]:
        """The redline, one list of pieces per alinéa of the new text.

        Removed words sit where they were; an alinéa break that was removed shows as a
        removed "¶" inside the line that absorbed it.
        """
        merged: list[Piece] = []
        inserted: list[Piece] = []
        following = 0
        for atom, origin, ref in zip(self.atoms, self.origins, self.refs, strict=True):
            if ref is None:
                inserted.append(Piece("insert", "".join(atom), origin))
                continue
            # What was removed before this word, then what was written there: a redline
            # reads "old → new".
            merged.extend(self._removed(following, ref))
            merged.extend(inserted)
            inserted.clear()
            merged.append(Piece("equal", "".join(atom)))
            following = ref + 1
        merged.extend(self._removed(following, len(self.base)))
        merged.extend(inserted)

        lines: list[list[Piece]] = [[]]
        for piece in merged:
            if piece.text == "\n" and piece.kind != "delete":
                lines.append([])
                continue
            text = " ¶ " if piece.text == "\n" else piece.text
            line = lines[-1]
            if line and line[-1].kind == piece.kind and line[-1].origin == piece.origin:
                line[-1] = Piece(piece.kind, line[-1].text + text, piece.origin)
            else:
                line.append(Piece(piece.kind, text, piece.origin))
        return lines

    def _removed(self, start: int, end: int) -> list[Piece]:
        return [
            Piece("delete", "".join(self.base[k]), self.deleted_by.get(k, MINISTRY))
            for k in range(start, end)
        ]


def align_alineas(
    before: Sequence[str], after: Sequence[str]
) -> list[tuple[int | None, int | None]]:
    """(old alinéa, new alinéa) in order: both for an alinéa kept or rewritten, one side None
    for an alinéa removed or added; the pairing of :func:`article_diff`."""
    actions: list[tuple[int | None, int | None]] = []
    for tag, i1, i2, j1, j2 in matching_blocks(before, after):
        if tag == "equal":
            actions.extend(zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        pairs = [(i1 + i, j1 + j) for i, j in pair_alineas(before[i1:i2], after[j1:j2])]
        next_before, next_after = i1, j1
        for i, j in [*pairs, (i2, j2)]:
            actions.extend((k, None) for k in range(next_before, i))
            actions.extend((None, k) for k in range(next_after, j))
            if i < i2:
                actions.append((i, j))
            next_before, next_after = i + 1, j + 1
    return actions


def as_rows(lines: Sequence[Sequence[Piece]]) -> list[list[list[Any]]]:
    """A redline as plain JSON rows, ``[kind, text, origin]`` per piece (stored, rendered)."""
    return [[[piece.kind, piece.text, piece.origin] for piece in line] for line in lines]


def changes(lines: Sequence[Sequence[Piece]]) -> list[tuple[int, Piece]]:
    """The insertions and deletions of a redline with the (1-based) alinéa they are in."""
    return [
        (number, piece)
        for number, line in enumerate(lines, start=1)
        for piece in line
        if piece.kind != "equal"
    ]
