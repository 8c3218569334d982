"""Text normalisation for matching contributions against each other.

The canonical form built here is for comparing texts, never for showing them: it folds the
variants that copy-paste through different editors, phones and word processors introduces
(curly or straight apostrophes, guillemets or English quotes, non-breaking spaces, dashes,
Markdown emphasis, letter case) while keeping what carries meaning in French, accents first.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise_for_matching", "shingles", "shingles_of_normalised"]

# Apostrophe and quotation variants fold to the ASCII characters, dashes to the hyphen-minus.
# NFKC has already mapped the full-width forms and the non-breaking hyphen to these. Guillemets
# stay until the spaces inside them are gone.
_FOLD: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u02bc\u2032", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
    "\u2039": "«",
    "\u203a": "»",
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63", "-"),
    # Markdown emphasis and code markers: `*mot*`, `**mot**`, `_mot_` and `` `mot` `` are
    # the same words to a reader.
    **dict.fromkeys("*_`", ""),
    # Invisible characters: soft hyphen, zero-width characters, bidi controls and the
    # byte-order mark change nothing a reader sees, so they must not defeat matching.
    **dict.fromkeys(
        "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
        "",
    ),
}
# A regular expression finds the few characters to fold several times faster than
# str.translate walks every character of the text.
_FOLD_RE = re.compile("[" + re.escape("".join(_FOLD)) + "]")

# French typography puts a space inside guillemets and before high punctuation, English
# typography does not; a copy that went through another editor differs only by these spaces.
# Whitespace is already collapsed to single spaces when these are removed.
_SPACES_TO_DROP = ("« ", " »", " ;", " :", " !", " ?", " ,", " .")


def _is_edge_noise(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def normalise_for_matching(text: str) -> str:
    """Return the form of ``text`` used to compare contributions with each other.

    Applies NFKC and case folding, folds typographic variants (curly apostrophes to ``'``,
    guillemets and curly quotes to ``"``, en and em dashes to ``-``, non-breaking and narrow
    spaces to a space), removes Markdown emphasis markers (``*``, ``_``, backquote) and
    invisible characters, drops the spaces French typography puts inside guillemets and before
    ``; : ! ?`` (and any space before a comma or a full stop), collapses whitespace and strips
    punctuation and whitespace at both ends. Accents are kept: they carry meaning in French
    (*côte*, *cote*, *côté*). The function is idempotent.
    """
    folded = unicodedata.normalize("NFKC", text)
    # Case folding can leave characters NFKC would rewrite (a dotted capital I becomes an
    # i and a combining dot), so normalise again to keep the function idempotent.
    folded = unicodedata.normalize("NFKC", folded.casefold())
    folded = _FOLD_RE.sub(lambda match: _FOLD[match.group()], folded)
    folded = " ".join(folded.split())
    for spaced in _SPACES_TO_DROP:
        if spaced in folded:
            folded = folded.replace(spaced, spaced.strip())
    folded = folded.replace("«", '"').replace("»", '"')
    start, end = 0, len(folded)
    while start < end and _is_edge_noise(folded[start]):
        start += 1
    while end > start and _is_edge_noise(folded[end - 1]):
        end -= 1
    return folded[start:end]


def shingles(text: str, size: int = 5) -> set[str]:
    """Return the character ``size``-grams of the normalised ``text``.

    A normalised text shorter than ``size`` is its own single shingle, and an empty one has
    none. Raises ``ValueError`` when ``size`` is not positive.
    """
    return shingles_of_normalised(normalise_for_matching(text), size)


def shingles_of_normalised(normalised: str, size: int = 5) -> set[str]:
    """Return the character ``size``-grams of a text already passed through
    :func:`normalise_for_matching` (which is not applied again)."""
    if size < 1:
        raise ValueError(f"shingle size must be positive, got {size}")
    if not normalised:
        return set()
    if len(normalised) <= size:
        return {normalised}
    return {normalised[i : i + size] for i in range(len(normalised) - size + 1)}
