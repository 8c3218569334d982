"""Name each topic cluster: its keywords by class-based TF-IDF, and a short readable title.

Keywords are ranked by c-TF-IDF, the weighting BERTopic uses: the texts of each cluster are
treated as one document (summing their term counts is the same as concatenating them), and a
term scores

    tf(t, c) * log(1 + A / f(t))

where ``tf(t, c)`` is the term's count in cluster ``c`` divided by the cluster's total count,
``f(t)`` the term's count over all classes and ``A`` the average total count per class. Terms are
unigrams and bigrams, counted together as in BERTopic's vectoriser. The "other" items (label -1)
form one more class: they are part of the background that makes a word common (``f`` and ``A``)
but get no label themselves. A copy-paste campaign collapsed to one item counts its copies
through ``weights``, which multiply that item's counts.

Tokenisation is written for French first and for English, since consultations mix both:

- NFC, lower case, accents kept (*côte*, *cote* and *côté* are different words);
- curly apostrophes fold to ``'``; French elisions (``l'``, ``d'``, ``qu'``, ``j'``, ``lorsqu'``...)
  are dropped so that *l'accès* counts as *accès*; an English possessive ``'s`` is dropped;
- hyphenated words stay whole (*vélo-cargo*, *bien-être*), but an inverted pronoun is cut off
  (*faut-il* is *faut*, *celle-ci* is *celle*);
- numbers, ordinals (*1er*, *3e*) and legal article references (*L. 123-4*, *R123-4*) are
  dropped rather than left as letters and digit shards; so are URLs, e-mail addresses, HTML tags
  and single letters;
- the French and English stop-word lists shipped in ``consult/nlp/stopwords/`` both apply to
  every text.

A bigram is two kept words that are adjacent in the text: a stop-word, a dropped token or
punctuation between them breaks it, so a bigram never starts or ends with a stop-word and never
spans two sentences.

Titles follow the rules of :mod:`consult.nlp.titles`, in short: a phrase the members write (or
a headline, or a short sentence of the central text) that carries one of the three best
keywords, at most :data:`TITLE_MAX_CHARS` characters and never cut with "…", never a list of
keywords nor a name; a cluster of brief generic reactions ("d'accord", "doublon", "+1") is
flagged ``generic`` and titled as such (« Réactions brèves : « d'accord », « doublon » »).

Everything is deterministic: equal scores are ordered alphabetically, and titles are chosen by
fixed rules that do not depend on the order of the texts.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import CountVectorizer

from consult.nlp.titles import TITLE_MAX_CHARS, TitleVocabulary, choose_title

__all__ = [
    "STOP_WORD_LANGUAGES",
    "TITLE_MAX_CHARS",
    "ClusterLabel",
    "label_clusters",
    "stop_words",
    "terms_of",
]

STOP_WORD_LANGUAGES = ("fr", "en")
# Titles are chosen from the best keywords whatever ``top_n`` asks to show.
_TITLE_TOP_N = 8
# Longer "words" are pasted hashes, base64 or URLs that escaped the URL pattern, never topics.
_MAX_TOKEN_CHARS = 40
# Scores equal up to floating-point noise must tie, so that the alphabetical order decides.
_SCORE_DECIMALS = 12
# A word is shown as a bigram when at least this share of its occurrences in the cluster are in
# that bigram.
_ABSORBED_SHARE = 0.8
# Weighted count under which a bigram is a chance neighbourhood rather than a phrase.
_MIN_BIGRAM_COUNT = 1.5
# How many candidates per keyword are searched for bigrams that absorb a word.
_BIGRAM_LOOKAHEAD = 10


@dataclass(frozen=True)
class ClusterLabel:
    """What a reader sees of a cluster before opening it."""

    keywords: tuple[str, ...]
    """Top terms (unigrams and bigrams), best first."""
    title: str
    """Short plain-text title (at most :data:`TITLE_MAX_CHARS` characters, never cut)."""
    generic: bool = False
    """True when the cluster is a group of brief generic reactions ("d'accord", "doublon"...)
    rather than a topic: show it apart from the topics."""
    reactions: tuple[str, ...] = ()
    """For a group of reactions, the reactions it holds, most frequent first, in a fixed form
    ("d'accord", "+1", "doublon", "agree"...) that a translated title can quote."""


# --------------------------------------------------------------------------- stop-words


@functools.cache
def stop_words(language: str | None = None) -> frozenset[str]:
    """The shipped stop-word list of ``language`` ("fr" or "en") in token form, or the union of
    all of them (what keywords use) when no language is given."""
    if language is not None and language not in STOP_WORD_LANGUAGES:
        raise ValueError(f"no stop-words for {language!r}")
    folder = importlib.resources.files("consult.nlp").joinpath("stopwords")
    words: set[str] = set()
    for name in STOP_WORD_LANGUAGES if language is None else (language,):
        for line in folder.joinpath(f"{name}.txt").read_text(encoding="utf-8").splitlines():
            word = line.strip()
            if word and not word.startswith("#"):
                words.add(_fold_apostrophes(unicodedata.normalize("NFC", word).lower()))
    return frozenset(words)


# --------------------------------------------------------------------------- tokenisation

_APOSTROPHES = ("\u2019", "\u2018", "\u02bc", "\u2032")


def _fold_apostrophes(text: str) -> str:
    # str.replace runs in C; a translate table walks every character in Python.
    for apostrophe in _APOSTROPHES:
        if apostrophe in text:
            text = text.replace(apostrophe, "'")
    return text


# Removed before tokenising: they would otherwise give "https", "www", "gmail", "br" keywords.
# The e-mail pattern may only start after a non-address character, which keeps it linear on a
# long run of letters.
_NOISE_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|</?[a-z][^<>\n]{0,200}>"
)
_NOISE_HINTS = ("://", "www.", "@", "<")
# A word (letters and digits, inner apostrophes and hyphens allowed), or a punctuation mark that
# ends a run of bigrams.
_TOKEN_RE = re.compile(r"[^\W_]+(?:['-][^\W_]+)*|[.!?;:,()\[\]{}\"«»“”„…/|*#+=<>\-\u2013\u2014]")
_PUNCTUATION_RE = re.compile(r"[^\w]+")
# French elisions, dropped from the front of a word: "l'accès" counts as "accès".
_ELISION_RE = re.compile(r"(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst])'")
# Inverted subject pronouns and demonstrative particles: "faut-il", "peut-on", "celle-ci".
_CLITIC_RE = re.compile(r"-(?:t-)?(?:il|elle|on|ils|elles|je|tu|ce|ci|là)$")
# Numbers, ordinals and references to code articles (L, R, D or A followed by digits).
_NOT_A_TERM_RE = re.compile(r"[\d'-]+|[lrda]\d[\d-]*|\d+(?:er|re|e|è|ème|eme|nd|nde|st|rd|th)")


def _term_of_token(token: str, stops: frozenset[str]) -> str:
    """The term a raw token counts as, or "" when it is no term (and breaks a bigram)."""
    if _PUNCTUATION_RE.fullmatch(token) or token in stops:
        return ""
    elided = _ELISION_RE.match(token)
    if elided:
        token = token[elided.end() :]
    if token.endswith("'s"):
        token = token[:-2]
    if "-" in token:
        token = _CLITIC_RE.sub("", token)
    if (
        len(token) < 2
        or len(token) > _MAX_TOKEN_CHARS
        or token in stops
        or _NOT_A_TERM_RE.fullmatch(token)
    ):
        return ""
    return token


def _make_analyzer() -> Callable[[str], list[str]]:
    """A text -> terms function (unigrams, then bigrams) with a per-run cache of token forms.

    Most tokens of a corpus are repeats, so deciding each distinct raw token once (stop-word,
    elision, number...) and looking it up afterwards keeps the per-token cost to a dict lookup.
    """
    stops = stop_words()
    cache: dict[str, str] = {}
    cached = cache.get
    findall = _TOKEN_RE.findall

    def analyze(text: str) -> list[str]:
        if not text:
            return []
        text = _fold_apostrophes(unicodedata.normalize("NFC", text).lower())
        if any(hint in text for hint in _NOISE_HINTS):
            text = _NOISE_RE.sub(" ", text)
        tokens: list[str] = findall(text)
        # "" marks a token that is no term; None, a token not seen yet in this run.
        sequence: list[str | None] = list(map(cached, tokens))
        if None in sequence:
            for position, term in enumerate(sequence):
                if term is None:
                    token = tokens[position]
                    sequence[position] = cache[token] = _term_of_token(token, stops)
        terms: list[str] = [term for term in sequence if term]
        terms.extend(
            f"{first} {second}" for first, second in pairwise(sequence) if first and second
        )
        return terms

    return analyze


def terms_of(text: str) -> list[str]:
    """The terms ``text`` contributes to keyword ranking: its unigrams, then its bigrams."""
    return _make_analyzer()(text)


# --------------------------------------------------------------------------- c-TF-IDF


def _check_inputs(
    texts: Sequence[str],
    labels: Sequence[int] | NDArray[np.integer],
    weights: Sequence[float] | None,
    top_n: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    label_array = np.asarray(labels)
    if label_array.ndim != 1 or len(label_array) != len(texts):
        raise ValueError(f"expected {len(texts)} labels, one per text")
    if label_array.size and not np.issubdtype(label_array.dtype, np.integer):
        raise TypeError("labels must be integers")
    label_array = label_array.astype(np.int64)
    if label_array.size and label_array.min() < -1:
        raise ValueError("labels are cluster indices (0..k-1) or -1 for 'other'")
    if weights is None:
        weight_array = np.ones(len(texts), dtype=np.float64)
    else:
        weight_array = np.asarray(weights, dtype=np.float64)
        if weight_array.shape != (len(texts),):
            raise ValueError(f"expected {len(texts)} weights, one per text")
        if not np.isfinite(weight_array).all() or (weight_array < 0).any():
            raise ValueError("weights must be finite and not negative")
    if top_n < 0:
        raise ValueError("top_n must not be negative")
    return label_array, weight_array


def _ranked_keywords(
    indices: NDArray[np.int32],
    shares: NDArray[np.float64],
    scores: NDArray[np.float64],
    terms: NDArray[np.object_],
    bigram_columns: NDArray[np.bool_],
    top_n: int,
    total: float,
) -> tuple[tuple[str, float], ...]:
    """The ``top_n`` best terms of one cluster and their scores, best first, ties in
    alphabetical order.

    ``shares`` are the terms' frequencies in the cluster, ``scores`` their c-TF-IDF. A word that
    the cluster nearly always writes inside one bigram ("cyclables" in "pistes cyclables") is
    shown as that bigram: listing "pistes", "cyclables" and "pistes cyclables" would spend
    three of the few keywords on one idea. A bigram met only once in the cluster (``total``
    is the cluster's count of terms) is two words that happened to be next to each other, and
    is not a keyword.
    """
    rare_bigram = bigram_columns[indices] & (shares * total < _MIN_BIGRAM_COUNT)
    positive = (scores > 0) & ~rare_bigram
    indices, shares = indices[positive], shares[positive]
    scores = np.round(scores[positive], _SCORE_DECIMALS)
    # The vocabulary is sorted, so a lower column index is the alphabetically smaller term.
    order = np.lexsort((indices, -scores))
    # A bigram that absorbs a word scores about as high as the word (same count, rarer in the
    # background), so it is among the first candidates; looking further would only cost time.
    candidates = order[: top_n * _BIGRAM_LOOKAHEAD + _BIGRAM_LOOKAHEAD]
    bigram_of_word: dict[str, tuple[str, float]] = {}
    share_of: dict[str, float] = {}
    for position in candidates:
        term = str(terms[indices[position]])
        share_of[term] = float(shares[position])
        if " " in term:
            for word in term.split(" "):
                # The first (best ranked) bigram holding a word is the one that can stand for it.
                bigram_of_word.setdefault(word, (term, float(shares[position])))
    chosen: dict[str, float] = {}
    for position in order:
        if len(chosen) >= top_n:
            break
        term = str(terms[indices[position]])
        absorbing = bigram_of_word.get(term)
        if absorbing is not None and absorbing[1] >= _ABSORBED_SHARE * share_of.get(term, 0.0):
            term = absorbing[0]
        # A bigram standing for a word takes the rank, and the score, the word earned.
        chosen.setdefault(term, float(scores[position]))
    return tuple(chosen.items())


def label_clusters(
    texts: Sequence[str],
    labels: Sequence[int] | NDArray[np.integer],
    central: Mapping[int, int],
    *,
    top_n: int = 8,
    weights: Sequence[float] | None = None,
    headlines: Sequence[str] | None = None,
) -> dict[int, ClusterLabel]:
    """Keywords and a title for every cluster present in ``labels``.

    ``texts[i]`` has label ``labels[i]``: a cluster index ``0..k-1`` or ``-1`` ("other", which
    weighs in the background but is not labelled). ``central[c]`` is the index in ``texts`` of
    cluster ``c``'s most central item; ``weights[i]`` (default 1) multiplies item ``i``'s counts.
    ``headlines[i]`` (optional, "" for none) is a title line item ``i``'s author wrote, such as
    a proposal's title, which ``texts[i]`` may hold flattened into its first sentence.

    Keywords: the ``top_n`` terms of highest c-TF-IDF (see the module docstring), best first,
    ties in alphabetical order. Title: see :mod:`consult.nlp.titles`; in short, a phrase the
    members write (or a headline, or a short sentence of the central text) that carries one of
    the three best keywords, at most :data:`TITLE_MAX_CHARS` characters and never cut; a group
    of brief generic reactions gets ``generic=True``, its ``reactions``, and a title quoting
    them. Titles are chosen from the best :data:`_TITLE_TOP_N` keywords whatever ``top_n``.

    Raises ``ValueError`` when ``labels``, ``weights`` or ``headlines`` do not match ``texts``,
    a weight is negative or not finite, or a central index is out of range.
    """
    label_array, weight_array = _check_inputs(texts, labels, weights, top_n)
    if headlines is not None and len(headlines) != len(texts):
        raise ValueError(f"expected {len(texts)} headlines, one per text")
    for cluster, index in central.items():
        if not 0 <= index < len(texts):
            raise ValueError(f"central item {index} of cluster {cluster} is not a text index")
    clusters = sorted(int(c) for c in np.unique(label_array) if c >= 0)
    if not clusters:
        return {}

    analyze = _make_analyzer()
    documents = [text or "" for text in texts]
    vectorizer = CountVectorizer(analyzer=analyze, dtype=np.float64)
    try:
        counts = vectorizer.fit_transform(documents)
    except ValueError:
        # scikit-learn refuses an empty vocabulary: no text has a single usable term.
        if getattr(vectorizer, "vocabulary_", None):
            raise
        counts = None

    sizes = tuple(sorted({top_n, _TITLE_TOP_N}))
    ranked: dict[tuple[int, int], tuple[tuple[str, float], ...]] = {}
    if counts is not None:
        ranked = _keywords_by_class(counts, label_array, weight_array, clusters, vectorizer, sizes)

    stops = stop_words()
    term_cache: dict[str, str] = {}

    def term_of(token: str) -> str:
        term = term_cache.get(token)
        if term is None:
            term = term_cache[token] = _term_of_token(token, stops)
        return term

    vocabulary = TitleVocabulary(stops, term_of, stop_words("fr"), stop_words("en"))
    members: dict[int, list[int]] = {cluster: [] for cluster in clusters}
    for member in np.flatnonzero((label_array >= 0) & (weight_array > 0)).tolist():
        members[int(label_array[member])].append(member)

    result: dict[int, ClusterLabel] = {}
    for cluster in clusters:
        central_index = central.get(cluster)
        central_text = (texts[central_index] or "") if central_index is not None else ""
        rows = members[cluster]
        chosen = choose_title(
            [documents[row] for row in rows],
            [float(weight_array[row]) for row in rows],
            central_text,
            [(headlines[row] or "") if headlines is not None else "" for row in rows],
            ranked.get((cluster, _TITLE_TOP_N), ()),
            vocabulary,
        )
        shown = ranked.get((cluster, top_n), ()) if top_n > 0 else ()
        result[cluster] = ClusterLabel(
            keywords=tuple(term for term, _score in shown),
            title=chosen.title,
            generic=chosen.generic,
            reactions=chosen.reactions,
        )
    return result


def _keywords_by_class(
    counts: sparse.csr_matrix,
    label_array: NDArray[np.int64],
    weight_array: NDArray[np.float64],
    clusters: list[int],
    vectorizer: CountVectorizer,
    sizes: tuple[int, ...],
) -> dict[tuple[int, int], tuple[tuple[str, float], ...]]:
    """(cluster, size) -> the cluster's ``size`` best keywords and their scores, for each of
    ``sizes``: the lists shown and the longer one titles are chosen from are ranked alike."""
    # One row per cluster, and a last row for "other" when there is any: summing weighted item
    # rows into class rows is the "one document per class" of c-TF-IDF.
    row_of = {cluster: row for row, cluster in enumerate(clusters)}
    has_other = bool((label_array < 0).any())
    n_classes = len(clusters) + int(has_other)
    rows = np.array([row_of.get(int(label), len(clusters)) for label in label_array])
    membership = sparse.csr_matrix(
        (weight_array, (rows, np.arange(len(label_array)))),
        shape=(n_classes, len(label_array)),
    )
    class_counts = sparse.csr_matrix(membership @ counts)

    class_totals = np.asarray(class_counts.sum(axis=1)).ravel()
    term_totals = np.asarray(class_counts.sum(axis=0)).ravel()
    average_total = float(class_totals.mean())
    with np.errstate(divide="ignore"):
        # A term only zero-weight items use has no frequency at all: it scores 0, not inf.
        idf = np.where(term_totals > 0, np.log1p(average_total / term_totals), 0.0)
    inverse_totals = np.divide(
        1.0, class_totals, out=np.zeros_like(class_totals), where=class_totals > 0
    )
    shares = sparse.csr_matrix(sparse.diags(inverse_totals) @ class_counts)
    shares.sort_indices()
    scores = shares.data * idf[shares.indices]

    terms = vectorizer.get_feature_names_out()
    # A Python pass, not np.char on a fixed-width copy: the longest bigram would size every cell.
    bigram_columns = np.fromiter((" " in term for term in terms), dtype=np.bool_, count=len(terms))
    keywords: dict[tuple[int, int], tuple[tuple[str, float], ...]] = {}
    for cluster, row in row_of.items():
        start, end = shares.indptr[row], shares.indptr[row + 1]
        for size in sizes:
            keywords[cluster, size] = _ranked_keywords(
                shares.indices[start:end],
                shares.data[start:end],
                scores[start:end],
                terms,
                bigram_columns,
                size,
                float(class_totals[row]),
            )
    return keywords
