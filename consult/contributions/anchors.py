"""Locating a quoted passage in an alinéa (W3C TextQuote and TextPosition selectors)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

CONTEXT_CHARS = 32
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Anchor:
    """Where a quote sits in an alinéa, with enough context to find it again elsewhere."""

    exact: str
    prefix: str
    suffix: str
    start: int
    end: int


def _canonical(text: str) -> str:
    """Compare quotes the way readers see them: any run of spaces is one space,
    typographic and straight apostrophes are the same."""
    return _SPACES.sub(" ", text.replace("’", "'")).strip()


def _positions(text: str, quote: str) -> list[tuple[int, int]]:
    """Every (start, end) in `text` of `quote`, tolerant of spacing and apostrophes."""
    wanted = _canonical(quote)
    if not wanted:
        return []
    pattern = r"\s+".join(
        "".join("['’]" if ch in "'’" else re.escape(ch) for ch in word)
        for word in wanted.split(" ")
    )
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def locate(
    text: str,
    quote: str,
    *,
    prefix: str = "",
    suffix: str = "",
    start: int | None = None,
) -> Anchor | None:
    """Find `quote` in `text`; None when it is not there.

    When the quote occurs several times, the occurrence at `start` wins, then
    the one whose surroundings best match `prefix` and `suffix` (as sent by a
    browser selection), then the first.
    """
    found = _positions(text, quote)
    if not found:
        return None
    chosen = found[0]
    if len(found) > 1:
        exact_start = [span for span in found if span[0] == start]
        if exact_start:
            chosen = exact_start[0]
        elif prefix or suffix:
            chosen = max(found, key=lambda span: _context_score(text, span, prefix, suffix))
    begin, end = chosen
    return Anchor(
        exact=text[begin:end],
        prefix=text[max(0, begin - CONTEXT_CHARS) : begin],
        suffix=text[end : end + CONTEXT_CHARS],
        start=begin,
        end=end,
    )


def _context_score(text: str, span: tuple[int, int], prefix: str, suffix: str) -> int:
    before = _canonical(text[max(0, span[0] - len(prefix) - 4) : span[0]])
    after = _canonical(text[span[1] : span[1] + len(suffix) + 4])
    score = 0
    if prefix and before.endswith(_canonical(prefix)[-16:]):
        score += 2
    if suffix and after.startswith(_canonical(suffix)[:16]):
        score += 2
    return score


@dataclass(frozen=True)
class Segment:
    """A piece of an alinéa: plain, or highlighted for the contributions listed."""

    text: str
    contribution_ids: tuple[int, ...] = ()


def highlight(text: str, spans: list[tuple[int, int, int]]) -> list[Segment]:
    """Cut `text` into segments so overlapping highlights (start, end, id) nest cleanly."""
    cuts = {0, len(text)}
    for start, end, _ in spans:
        if 0 <= start < end <= len(text):
            cuts.update((start, end))
    ordered = sorted(cuts)
    segments: list[Segment] = []
    for begin, end in itertools.pairwise(ordered):
        ids = tuple(sorted(cid for s, e, cid in spans if s <= begin and end <= e))
        if segments and segments[-1].contribution_ids == ids:
            segments[-1] = Segment(segments[-1].text + text[begin:end], ids)
        else:
            segments.append(Segment(text[begin:end], ids))
    return segments
