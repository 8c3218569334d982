"""Find a quoted passage again in the next version of its article.

First the exact words (spacing and apostrophes aside). Found once: re-attached. Found several
times: the occurrence whose surroundings match the quote's prefix and suffix, if exactly one
does better than the others. Not found: the closest passage of the alinéa that took the place
of the quoted one, if it is similar enough (:data:`FUZZY_BOUND`), clearly closer than any
other, and made only of words the quote holds (words dropped, punctuation or case changed):
a highlighted passage never shows a word the contributor did not comment on. Anything else is
"outdated": the reader is shown the passage as it was, never a guess.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from consult.contributions.anchors import locate
from consult.revisions.models import AnchorStatus
from consult.revisions.redline import align_alineas

# Share of matching characters (difflib's ratio) from which a changed passage still counts as
# the one quoted: a word changed in a long quote passes, a rewritten passage does not.
FUZZY_BOUND = 0.85
# The best fuzzy candidate must beat the second best by this much, or the match is ambiguous.
_FUZZY_MARGIN = 0.05


@dataclass(frozen=True)
class Placement:
    """Where a passage sits in the new text (alinéa numbers from 1)."""

    status: AnchorStatus
    alinea: int | None = None
    start: int | None = None
    end: int | None = None


OUTDATED = Placement(AnchorStatus.OUTDATED)


def _context_score(text: str, start: int, end: int, prefix: str, suffix: str) -> int:
    score = 0
    wanted_before, wanted_after = prefix.strip()[-16:], suffix.strip()[:16]
    if wanted_before and text[max(0, start - len(prefix)) : start].rstrip().endswith(wanted_before):
        score += 1
    if wanted_after and text[end : end + len(suffix)].lstrip().startswith(wanted_after):
        score += 1
    return score


def _exact(quote: str, prefix: str, suffix: str, alineas: Sequence[str]) -> Placement | None:
    found: list[tuple[int, int, int]] = []
    for number, text in enumerate(alineas, start=1):
        position = 0
        while True:
            anchor = locate(text[position:], quote)
            if anchor is None:
                break
            found.append((number, position + anchor.start, position + anchor.end))
            position += anchor.end
    if not found:
        return None
    if len(found) == 1:
        number, start, end = found[0]
        return Placement(AnchorStatus.EXACT, number, start, end)
    scores = [
        _context_score(alineas[number - 1], start, end, prefix, suffix)
        for number, start, end in found
    ]
    best = max(scores)
    if best == 0 or scores.count(best) > 1:
        return OUTDATED  # several equally good places: never attach to one silently
    number, start, end = found[scores.index(best)]
    return Placement(AnchorStatus.EXACT, number, start, end)


def _word_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = None
    for index, char in enumerate(text):
        if char.isspace():
            if start is not None:
                spans.append((start, index))
                start = None
        elif start is None:
            start = index
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _fuzzy(quote: str, text: str) -> tuple[float, float, int, int]:
    """(best ratio, second best ratio, start, end) of word windows of ``text`` like ``quote``."""
    words = _word_spans(text)
    size = len(quote.split())
    if not words or not size:
        return 0.0, 0.0, 0, 0
    ratios: list[tuple[float, int, int]] = []
    for width in {max(1, size - 1), size, size + 1}:
        for first in range(0, max(1, len(words) - width + 1)):
            last = min(len(words), first + width) - 1
            start, end = words[first][0], words[last][1]
            ratio = SequenceMatcher(None, quote, text[start:end], autojunk=False).ratio()
            ratios.append((ratio, start, end))
    ratios.sort(key=lambda r: (-r[0], r[1], r[2]))
    best = ratios[0]
    # Overlapping windows around the same passage are one candidate, not a rival.
    rival = next((r for r in ratios[1:] if r[2] <= best[1] or r[1] >= best[2]), (0.0, 0, 0))
    return best[0], rival[0], best[1], best[2]


_PUNCTUATION = '.,;:!?«»“”"()[]–—-…'


def _words(text: str) -> Counter[str]:
    """The words of a passage, case, apostrophes and surrounding punctuation aside."""
    found = (w.replace("’", "'").strip(_PUNCTUATION).casefold() for w in text.split())
    return Counter(w for w in found if w)


def only_quoted_words(quote: str, passage: str) -> bool:
    """Whether every word of `passage` is one of the quote's (as many times at most)."""
    return _words(passage) <= _words(quote)


def reattach(
    quote: str,
    *,
    prefix: str,
    suffix: str,
    old_alinea: int | None,
    old_alineas: Sequence[str],
    new_alineas: Sequence[str],
) -> Placement:
    """Where the quoted passage of alinéa ``old_alinea`` of the old text is in the new one."""
    if not quote.strip():
        return OUTDATED
    exact = _exact(quote, prefix, suffix, new_alineas)
    if exact is not None:
        return exact
    if old_alinea is None or not 1 <= old_alinea <= len(old_alineas):
        return OUTDATED
    successor = dict(align_alineas(old_alineas, new_alineas)).get(old_alinea - 1)
    if successor is None:
        return OUTDATED
    text = new_alineas[successor]
    best, second, start, end = _fuzzy(quote, text)
    if (
        best >= FUZZY_BOUND
        and best - second >= _FUZZY_MARGIN
        and only_quoted_words(quote, text[start:end])
    ):
        return Placement(AnchorStatus.FUZZY, successor + 1, start, end)
    return OUTDATED
