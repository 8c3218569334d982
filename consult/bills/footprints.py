"""Where an amendment acts on its article, and whether two amendments touch the same passage.

A footprint is computed once from the text the amendment was written on and stored, so that
competing amendments are found without reading the text again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from consult.bills.operations import ALINEA_KINDS, Operation, OperationKind, locate


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
    target = locate(operation, alineas)
    if target.kind is OperationKind.NEW_ARTICLE:
        return Footprint("new_article")
    if target.number is None:
        return Footprint("article")
    if target.kind is OperationKind.INSERT_ALINEA:
        return Footprint("gap", target.number)
    if target.kind in ALINEA_KINDS:
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
