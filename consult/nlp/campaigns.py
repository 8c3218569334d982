"""Copies of one text among citizen contributions: campaigns and reposts.

Two contributions are copies when their texts are the same once normalised
(:func:`consult.nlp.normalize.normalise_for_matching`), when their sets of character shingles
have a Jaccard similarity of at least a threshold (0.8 by default: a word replaced, typos), or
when one is the other with a passage added or removed (a sentence, a personal line at the start
or the end): nearly all of the shorter text's shingles (90 % by default) are in the longer one,
which is not much longer. That last rule needs evidence of copying: one of the two texts is a
letter (a text that several authors, three by default, posted as it is), or the two have an
author in common (a repost with an edit). Copies are grouped transitively, and the groups are
told apart by who posted them, as a ministry reads them: a *campaign* is one text posted by
many authors (three distinct authors at least, by default), and a *repost* group is one text
posted again by one author (or by fewer authors than a campaign needs).

Near copies are found with MinHash LSH (datasketch's banding), and every candidate pair the
index returns is checked against the exact similarity, so LSH can only miss pairs, never invent
them. Nothing is removed: a group lists every copy, with its distinct authors and time span,
and names the most central text as its representative.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH

from consult.nlp.normalize import normalise_for_matching, shingles_of_normalised

__all__ = [
    "Campaign",
    "CampaignParams",
    "Copies",
    "Item",
    "detect_campaigns",
    "detect_copies",
    "shingle_hash",
    "signatures",
]

UInt32Array = npt.NDArray[np.uint32]
UInt64Array = npt.NDArray[np.uint64]

# The datasketch permutation scheme the signatures are built for (its default since 2.0).
_SCHEME = "affine32"
# LSH bands are tuned for recall (false negatives weigh 0.95) because every candidate pair is
# verified with the exact Jaccard similarity: a false positive costs one set intersection, a
# false negative loses a copy. At 128 permutations and a 0.8 threshold this gives 16 bands of
# 8 rows, which returns a pair at Jaccard 0.8 with probability 0.95 (0.4 with equal weights).
_LSH_WEIGHTS = (0.05, 0.95)
# A letter signed with each signer's name is a new text for every copy. Indexing all of them
# would put thousands of keys in the same LSH buckets and make every query return the whole
# campaign, so a group stops adding members to the index once it has this many there; later
# copies are still compared with those members and still join the group.
_INDEXED_PER_GROUP = 256
# Web addresses in a normalised text, left out of the containment rule.
_LINK = re.compile(r"(?:https?://|www\.)\S+")
# Bits of the table through which the containment step finds the letters sharing a band with
# a text: 2**20 slots (8 MB) leave few false hits for thousands of letters.
_TABLE_BITS = 20
# Texts of one group that the containment step checks exactly for a text, best MinHash
# estimate first, before deciding that the text is not a copy of that group's letter.
_CHECKS_PER_GROUP = 2
# The number of shingle positions of a text is at least its number of distinct shingles and
# rarely more than a few percent above it: size ratios computed from positions are trusted
# within this factor before the exact check.
_POSITION_SLACK = 0.9
# Above this many distinct texts in one campaign, the all-pairs exact Jaccard matrix used to
# pick the representative is too costly, and the MinHash estimate of the mean similarity,
# which is linear in the number of texts, is used instead.
_EXACT_CENTRALITY_LIMIT = 2000
# Shingle positions hashed together in one numpy batch: at 128 permutations the (permutations
# x positions) matrix is 8 MB, small enough to stay in the CPU caches (four times faster here
# than batches of 32 MB).
_BATCH_POSITIONS = 1 << 14
# Cached shingle sets for verifying candidate pairs: the texts a campaign is verified against
# come back often, and 1,024 sets of a few hundred shingles stay under a few tens of MB.
_SHINGLE_CACHE = 1024
# Representative scores closer than this are ties, so that rounding in sums of floating point
# similarities cannot decide between texts that are equally central.
_SCORE_TOLERANCE = 1e-9

# Constants of the shingle hash: a polynomial over code points followed by the 64-bit
# MurmurHash3 finalizer, of which the high 32 bits are kept.
_MASK64 = (1 << 64) - 1
_POLY = 0x9E3779B97F4A7C15
_FMIX64_1 = 0xFF51AFD7ED558CCD
_FMIX64_2 = 0xC4CEB9FE1A85EC53
# The 32-bit MurmurHash3 finalizer datasketch applies before its affine permutations.
_FMIX32_1 = 0x85EBCA6B
_FMIX32_2 = 0xC2B2AE35


@dataclass(frozen=True)
class Item:
    """One contribution as campaign detection sees it."""

    id: int
    text: str
    author: str
    """Pseudonym or account id as text; distinct values are counted."""
    created_at: datetime


@dataclass(frozen=True)
class Campaign:
    """A group of contributions that are copies of one text: a campaign or a repost group."""

    members: tuple[int, ...]
    """Item ids, sorted."""
    representative: int
    """The member whose text has the highest mean Jaccard similarity to the other members
    (ties: earliest ``created_at``, then lowest id)."""
    copies: int
    """``len(members)``."""
    exact_copies: int
    """Members whose normalised text equals the representative's (the representative
    included)."""
    distinct_authors: int
    first_at: datetime
    last_at: datetime


@dataclass(frozen=True)
class Copies:
    """The groups of copies among a set of contributions; each item is in at most one."""

    campaigns: list[Campaign]
    """Groups with at least ``min_authors`` distinct authors: one text, many authors."""
    reposts: list[Campaign]
    """Groups with fewer distinct authors in which an author posted the text more than once:
    mostly one author posting the same text again, on several articles or twice on one.
    Groups of fewer authors where each posted once (two people, one text) are neither."""


@dataclass(frozen=True)
class CampaignParams:
    """Settings of :func:`detect_copies`."""

    threshold: float = 0.8
    """Jaccard similarity of shingle sets at or above which two texts are copies."""
    containment: float = 0.9
    """Share of the shorter text's shingles found in the longer one at or above which the
    longer is the shorter with a passage added, when one of the two is a letter (a text that
    ``min_authors`` distinct authors posted as it is) or the two have an author in common."""
    min_size_ratio: float = 0.6
    """Smallest ratio of the shorter text's shingles to the longer text's for the containment
    rule: a letter with one of its sentences removed, not a letter quoted inside an essay."""
    min_passage_chars: int = 200
    """Normalised length under which a text takes no part in the containment rule: adding a
    sentence to a text of one or two sentences makes another contribution, and form letters
    are longer."""
    num_perm: int = 128
    shingle_size: int = 5
    min_authors: int = 3
    """Distinct authors from which a group of copies is a campaign rather than reposts. Two
    people posting the same text may be a household, two branches of one organisation or a
    short common phrase; three independent authors is the smallest number for which "many
    authors, one text" holds, and it is what the earlier minimum of three copies meant when
    every copy had its own author."""
    min_chars: int = 40
    """Normalised texts shorter than this group only with exactly equal texts: a short
    sentence such as "Je suis d'accord." is not a form letter by near-duplication."""
    seed: int = 1


def detect_copies(items: Sequence[Item], params: CampaignParams = CampaignParams()) -> Copies:
    """Group the items that are copies of the same text; split the groups into campaigns and
    reposts by their authors.

    Texts are compared in their normalised form. Equal texts always group; texts of at least
    ``params.min_chars`` characters also group when the Jaccard similarity of their character
    shingles reaches ``params.threshold``. Two texts of at least ``params.min_passage_chars``
    characters (web addresses left out) also group when the shorter has
    ``params.containment`` of its shingles in the longer and at least
    ``params.min_size_ratio`` times as many, provided one of them is a letter (a text that
    ``params.min_authors`` distinct authors posted as it is) or they have an author in
    common; by this rule a text joins one other group at most. Grouping is otherwise
    transitive. Items whose text is empty once normalised belong to no group.

    A group of ``params.min_authors`` distinct authors or more is a campaign; a group with
    fewer, in which an author posted more than one copy, is a repost group; a group of fewer
    authors who each posted one copy is neither. Each list is sorted largest first (then by
    lowest member id), and each item is in at most one group. The result depends only on the
    set of items, not on their order. Raises ``ValueError`` for invalid parameters or
    repeated item ids.
    """
    _check_params(params)
    if len({item.id for item in items}) != len(items):
        raise ValueError("item ids must be unique")
    # The index allocates millions of small long-lived containers, which the cyclic garbage
    # collector would scan again and again (a fifth of the time at 100,000 texts); none of
    # them can form a reference cycle.
    with _collector_paused():
        return _detect(items, params)


def detect_campaigns(
    items: Sequence[Item], params: CampaignParams = CampaignParams()
) -> list[Campaign]:
    """The campaigns of :func:`detect_copies`: texts posted by ``params.min_authors``
    distinct authors or more, largest first."""
    return detect_copies(items, params).campaigns


def _detect(items: Sequence[Item], params: CampaignParams) -> Copies:
    by_text: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        normalised = normalise_for_matching(item.text)
        if normalised:
            by_text[normalised].append(item)
    # One canonical order of the distinct texts, independent of the input order: the most
    # copied first, so that the templates enter the index before their variants.
    texts = sorted(by_text, key=lambda text: (-len(by_text[text]), text))
    weights = [len(by_text[text]) for text in texts]

    @functools.lru_cache(maxsize=_SHINGLE_CACHE)
    def shingle_set(index: int) -> frozenset[str]:
        return frozenset(shingles_of_normalised(texts[index], params.shingle_size))

    long_texts = [index for index, text in enumerate(texts) if len(text) >= params.min_chars]
    sigs = signatures([texts[index] for index in long_texts], params)
    links = _UnionFind(len(texts))
    _link_near_duplicates(links, long_texts, sigs, shingle_set, params)
    roots = [links.find(index) for index in range(len(texts))]

    @functools.cache
    def authors(index: int) -> frozenset[str]:
        return frozenset(item.author for item in by_text[texts[index]])

    def items_of(index: int) -> list[Item]:
        return by_text[texts[index]]

    passages = _passage_links(
        roots, weights, items_of, authors, long_texts, sigs, texts, shingle_set, params
    )
    for text, other in passages:
        links.union(text, other)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(texts)):
        groups[links.find(index)].append(index)

    row_of = {index: row for row, index in enumerate(long_texts)}
    campaigns: list[Campaign] = []
    reposts: list[Campaign] = []
    for members in groups.values():
        copies = sum(weights[index] for index in members)
        if copies < 2:
            continue
        everyone = {item.author for index in members for item in by_text[texts[index]]}
        if len(everyone) >= params.min_authors:
            found = campaigns
        elif copies > len(everyone):
            found = reposts
        else:
            # Two people posting one text once each have not reposted anything: short
            # common phrases and texts written from the same sources meet this way.
            continue
        central = _most_central(members, weights, shingle_set, sigs, row_of)
        found.append(
            _campaign(
                [by_text[texts[index]] for index in members],
                [by_text[texts[index]] for index in central],
            )
        )
    campaigns.sort(key=lambda group: (-group.copies, group.members[0]))
    reposts.sort(key=lambda group: (-group.copies, group.members[0]))
    return Copies(campaigns=campaigns, reposts=reposts)


def signatures(texts: Sequence[str], params: CampaignParams = CampaignParams()) -> UInt32Array:
    """Return the MinHash signatures of normalised texts, one row of ``params.num_perm``
    values per text.

    Row ``i`` equals the hash values of ``datasketch.MinHash(num_perm, seed,
    hashfunc=shingle_hash)`` updated with the UTF-8 encoded shingles of ``texts[i]`` (the
    "affine32" scheme), computed for many texts at once with numpy.
    """
    a, b = (
        np.asarray(row, dtype=np.uint32)
        for row in MinHash(num_perm=params.num_perm, seed=params.seed, scheme=_SCHEME).permutations
    )
    size = params.shingle_size
    result = np.empty((len(texts), params.num_perm), dtype=np.uint32)
    for start, stop in _batches(texts, size):
        hashes, offsets = _shingle_hashes(texts[start:stop], size)
        # Permutations along rows and positions along columns, so that the per-text minimum
        # runs over contiguous memory; small batches keep the matrix in the CPU caches.
        permuted = np.empty((params.num_perm, len(hashes)), dtype=np.uint32)
        np.multiply(a[:, None], _fmix32(hashes)[None, :], out=permuted)
        np.add(permuted, b[:, None], out=permuted)
        result[start:stop] = np.minimum.reduceat(permuted, offsets, axis=1).T
    return result


def shingle_hash(shingle: bytes) -> int:
    """Hash a UTF-8 encoded shingle to 32 bits, as :func:`signatures` does in bulk.

    Usable as the ``hashfunc`` of a ``datasketch.MinHash``.
    """
    value = 0
    code_points = shingle.decode("utf-8", "surrogatepass")
    for char in code_points:
        value = (value * _POLY + ord(char)) & _MASK64
    value = (value * _POLY + len(code_points)) & _MASK64
    value ^= value >> 33
    value = (value * _FMIX64_1) & _MASK64
    value ^= value >> 33
    value = (value * _FMIX64_2) & _MASK64
    value ^= value >> 33
    return value >> 32


# --- internals ------------------------------------------------------------------------------


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_params(params: CampaignParams) -> None:
    if not 0.0 < params.threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {params.threshold}")
    if params.num_perm < 2:
        raise ValueError(f"num_perm must be at least 2, got {params.num_perm}")
    if params.shingle_size < 1:
        raise ValueError(f"shingle_size must be positive, got {params.shingle_size}")
    if not 0.0 < params.containment <= 1.0:
        raise ValueError(f"containment must be in (0, 1], got {params.containment}")
    if not 0.0 < params.min_size_ratio <= 1.0:
        raise ValueError(f"min_size_ratio must be in (0, 1], got {params.min_size_ratio}")
    if params.min_authors < 1:
        raise ValueError(f"min_authors must be positive, got {params.min_authors}")
    if params.min_chars < 0:
        raise ValueError(f"min_chars must not be negative, got {params.min_chars}")
    if params.min_passage_chars < 0:
        raise ValueError(f"min_passage_chars must not be negative, got {params.min_passage_chars}")


def _batches(texts: Sequence[str], size: int) -> Iterator[tuple[int, int]]:
    """Split ``texts`` into ranges of about ``_BATCH_POSITIONS`` shingle positions."""
    start = 0
    positions = 0
    for index, text in enumerate(texts):
        positions += max(1, len(text) - size + 1)
        if positions >= _BATCH_POSITIONS:
            yield start, index + 1
            start, positions = index + 1, 0
    if start < len(texts):
        yield start, len(texts)


def _shingle_hashes(texts: Sequence[str], size: int) -> tuple[UInt32Array, npt.NDArray[np.intp]]:
    """Hash every shingle of every text; return the hashes, text after text, and the offset of
    each text's first hash. Duplicate shingles within a text are kept: a minimum ignores them.
    """
    full = [text for text in texts if len(text) >= size]
    # One polynomial hash over the concatenated code points gives every window at once; the
    # windows that straddle two texts are dropped below.
    code_points = np.frombuffer(
        "".join(full).encode("utf-32-le", "surrogatepass"), dtype=np.uint32
    ).astype(np.uint64)
    windows = max(0, len(code_points) - size + 1)
    poly = np.uint64(_POLY)
    rolling = code_points[:windows].copy()
    for shift in range(1, size):
        rolling = rolling * poly + code_points[shift : shift + windows]
    rolling = rolling * poly + np.uint64(size)
    window_hashes = _fmix64_high32(rolling)

    counts = np.array([max(1, len(text) - size + 1) for text in texts], dtype=np.intp)
    offsets = np.zeros(len(texts), dtype=np.intp)
    np.cumsum(counts[:-1], out=offsets[1:])
    hashes = np.empty(int(counts.sum()), dtype=np.uint32)
    window_start = 0
    for index, text in enumerate(texts):
        offset, count = offsets[index], counts[index]
        if len(text) >= size:
            hashes[offset : offset + count] = window_hashes[window_start : window_start + count]
            window_start += len(text)
        else:
            # A text shorter than a shingle is its own single shingle.
            hashes[offset] = shingle_hash(text.encode("utf-8", "surrogatepass"))
    return hashes, offsets


def _fmix64(values: UInt64Array) -> UInt64Array:
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(_FMIX64_1)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(_FMIX64_2)
    return values ^ (values >> np.uint64(33))


def _fmix64_high32(values: UInt64Array) -> UInt32Array:
    return (_fmix64(values) >> np.uint64(32)).astype(np.uint32)


def _fmix32(values: UInt32Array) -> UInt32Array:
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(_FMIX32_1)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(_FMIX32_2)
    return values ^ (values >> np.uint32(16))


class _UnionFind:
    """Groups of distinct texts; a group's root is its earliest text in the canonical order."""

    def __init__(self, count: int) -> None:
        self.parent = list(range(count))

    def find(self, node: int) -> int:
        """The root of ``node``'s group."""
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, first: int, second: int) -> int:
        """Merge the groups of two texts; return the root of the merged group."""
        mine, theirs = self.find(first), self.find(second)
        # The earlier text's group absorbs the later one (parents point backwards).
        low, high = min(mine, theirs), max(mine, theirs)
        self.parent[high] = low
        return low


def _link_near_duplicates(
    links: _UnionFind,
    long_texts: Sequence[int],
    sigs: UInt32Array,
    shingle_set: Callable[[int], frozenset[str]],
    params: CampaignParams,
) -> None:
    """Union the distinct texts whose verified Jaccard similarity reaches the threshold."""
    indexed = [0] * len(links.parent)
    # Candidates whose MinHash estimate is far below the threshold are not worth the exact
    # check.
    floor = _estimate_floor(params.threshold, params.num_perm)
    index = _BandIndex(sigs, params)
    # Each text queries the index before entering it, so every pair is seen once, by its
    # later text; the connected components do not depend on which pair is seen first. Index
    # keys are rows of ``sigs``, in the same order as the texts.
    for row, text in enumerate(long_texts):
        found = np.array(sorted(index.query(row)), dtype=np.intp)
        if len(found):
            estimates = np.count_nonzero(sigs[found] == sigs[row], axis=1) / params.num_perm
            found = found[estimates >= floor]
        for candidate in (long_texts[other] for other in found.tolist()):
            mine, theirs = links.find(text), links.find(candidate)
            if mine == theirs:
                continue
            if _similar(shingle_set(text), shingle_set(candidate), params.threshold):
                root = links.union(mine, theirs)
                indexed[root] = indexed[mine] + indexed[theirs]
        root = links.find(text)
        if indexed[root] < _INDEXED_PER_GROUP:
            index.insert(row)
            indexed[root] += 1


def _estimate_floor(similarity: float, num_perm: int) -> float:
    """The MinHash estimate under which a pair is not worth an exact check for ``similarity``:
    4.5 standard deviations of the estimate below it, a miss chance around one in 100,000."""
    spread = similarity * (1.0 - similarity) / num_perm
    return similarity - 4.5 * math.sqrt(spread) - 1.0 / num_perm


def _passage_links(
    roots: Sequence[int],
    weights: Sequence[int],
    items_of: Callable[[int], list[Item]],
    authors: Callable[[int], frozenset[str]],
    long_texts: Sequence[int],
    sigs: UInt32Array,
    texts: Sequence[str],
    shingle_set: Callable[[int], frozenset[str]],
    params: CampaignParams,
) -> list[tuple[int, int]]:
    """Pairs of distinct texts to union because one is the other with a passage added.

    ``roots`` are the groups of the Jaccard step, ``items_of`` gives the items of a distinct
    text and ``authors`` their authors. Only texts of at least ``params.min_passage_chars``
    characters take part, and a pair only when one of its texts is a letter (a text that
    ``params.min_authors`` distinct authors posted as it is) or when the two texts have an
    author in common (an author reposting with an edit). Contributions built from common
    phrases often hold most of another one's sentences, but are rarely sent verbatim by
    several people, and one person's text is no evidence that a stranger copied it. Each
    text joins at most one other group, the one it matches best, so that a short text that
    two letters contain does not merge them. Every pair is decided against the groups as the
    Jaccard step left them, so the result does not depend on the order in which pairs are
    seen.
    """
    # Web addresses are left out of this rule: a long address makes most of a short
    # argument, and two arguments citing the same page are not one text.
    prose = [_without_links(texts[index]) for index in long_texts]
    lengths = np.array([len(text) for text in prose], dtype=np.intp)
    row_roots = np.array([roots[index] for index in long_texts], dtype=np.intp)
    candidates = np.flatnonzero(lengths >= params.min_passage_chars)
    posted_twice = [row for row in candidates.tolist() if weights[long_texts[row]] >= 2]

    def letter(index: int) -> bool:
        return weights[index] >= 2 and len(authors(index)) >= params.min_authors

    letters = np.array([row for row in posted_twice if letter(long_texts[row])], dtype=np.intp)
    # The letters are looked up by the other letters and by the texts of groups without
    # one; a group with a letter is represented by its letters, or the copies of a large
    # campaign would meet every letter of its variants again and again.
    has_letter = np.zeros(len(texts), dtype=bool)
    has_letter[row_roots[letters]] = True
    queries = candidates[~has_letter[row_roots[candidates]]]
    rows, others = _passage_candidates(
        sigs, np.concatenate([letters, queries]), letters, row_roots, params
    )

    # Two texts of one author are compared whether or not either is a letter: the author's
    # second text is the repost. Each (text, author) pair takes part once, and the author's
    # number salts the keys so that texts of different authors never meet there.
    author_number: dict[str, int] = {}
    entry_rows = candidates.tolist()
    entry_authors = [
        author_number.setdefault(items_of(long_texts[row])[0].author, len(author_number))
        for row in entry_rows
    ]
    for row in posted_twice:
        first = items_of(long_texts[row])[0].author
        for author in sorted(authors(long_texts[row]) - {first}):
            entry_rows.append(row)
            entry_authors.append(author_number.setdefault(author, len(author_number)))
    by_author = np.array(entry_authors, dtype=np.intp)
    repeated = np.bincount(by_author, minlength=len(author_number))[by_author] >= 2
    if repeated.any():
        own = np.array(entry_rows, dtype=np.intp)[repeated]
        own_rows, own_others = _same_author_candidates(
            sigs, own, by_author[repeated], row_roots, params
        )
        pairs = np.unique(
            np.concatenate([rows, own_rows]).astype(np.int64) * len(long_texts)
            + np.concatenate([others, own_others]).astype(np.int64)
        )
        rows = (pairs // len(long_texts)).astype(np.intp)
        others = (pairs % len(long_texts)).astype(np.intp)

    # Exact sizes are only computed for the few pairs left; the number of shingle positions,
    # which duplicate shingles make a little larger, is enough to rule most pairs out.
    positions = np.maximum(1, lengths - params.shingle_size + 1).astype(np.float64)
    ratio = np.minimum(positions[rows], positions[others]) / np.maximum(
        positions[rows], positions[others]
    )
    keep = ratio >= params.min_size_ratio * _POSITION_SLACK
    rows, others, ratio = rows[keep], others[keep], ratio[keep]
    # Containment c of the smaller text in the larger one and a size ratio r bound the
    # Jaccard similarity from below by c r / (1 + r - c r), which grows with r: the ratio is
    # taken at the low end of what the positions allow.
    lowest_ratio = ratio * _POSITION_SLACK
    least = lowest_ratio * params.containment
    bound = least / (1.0 + lowest_ratio - least)
    estimates = _estimated_jaccard(sigs, rows, others)
    spread = np.sqrt(bound * (1.0 - bound) / params.num_perm)
    keep = estimates >= bound - 4.5 * spread - 1.0 / params.num_perm
    rows, others, estimates = rows[keep], others[keep], estimates[keep]

    @functools.lru_cache(maxsize=_SHINGLE_CACHE)
    def prose_set(row: int) -> frozenset[str]:
        if prose[row] is texts[long_texts[row]]:
            return shingle_set(long_texts[row])
        return frozenset(shingles_of_normalised(prose[row], params.shingle_size))

    # Best estimates first; for each text, at most a few texts of each other group are
    # checked exactly, and the first that passes stands for its group.
    order = np.lexsort((others, -estimates, row_roots[others], rows))
    best: dict[int, tuple[float, int, int]] = {}
    tried: Counter[tuple[int, int]] = Counter()
    for row, other in zip(rows[order].tolist(), others[order].tolist(), strict=True):
        group = int(row_roots[other])
        if tried[row, group] >= _CHECKS_PER_GROUP:
            continue
        text, candidate = long_texts[row], long_texts[other]
        if not (letter(candidate) or authors(candidate) & authors(text)):
            continue
        tried[row, group] += 1
        share = _contained(prose_set(row), prose_set(other), params)
        if share is None:
            continue
        tried[row, group] = _CHECKS_PER_GROUP
        score = (share, -group, candidate)
        current = best.get(row)
        if current is None or score > current:
            best[row] = score
    return [(long_texts[row], candidate) for row, (_, _, candidate) in sorted(best.items())]


def _without_links(text: str) -> str:
    """``text`` without its web addresses (``text`` itself when it has none)."""
    if "http" not in text and "www." not in text:
        return text
    return " ".join(_LINK.sub(" ", text).split())


def _passage_candidates(
    sigs: UInt32Array,
    queries: npt.NDArray[np.intp],
    letters: npt.NDArray[np.intp],
    row_roots: npt.NDArray[np.intp],
    params: CampaignParams,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Pairs (query row, letter row) of different groups that share a band of the LSH tuned
    for the lowest Jaccard similarity the containment rule accepts, each pair once.

    The keys of a band are 64-bit hashes of its values, and everything runs in numpy; a hash
    collision only adds a candidate, which the exact check then rejects.
    """
    empty = np.empty(0, dtype=np.intp)
    if not len(queries) or not len(letters):
        return empty, empty
    bands, band_rows = _passage_lsh_shape(params)
    found_rows = []
    found_letters = []
    # The letters of a band are found through a table indexed by the low bits of their keys,
    # which a gather reads for every query at once (a binary search per query costs several
    # times more); the full keys then tell the few hits apart. A slot holds the group of its
    # letters (plus one), or -1 when they belong to several groups, so that a text meeting
    # only letters of its own group, as the copies of a letter do, is dropped at once.
    table = np.zeros(1 << _TABLE_BITS, dtype=np.intp)
    mask = np.uint64((1 << _TABLE_BITS) - 1)
    letter_groups = row_roots[letters] + 1
    query_groups = row_roots[queries] + 1
    for band in range(bands):
        every_key = _band_keys(sigs, band * band_rows, (band + 1) * band_rows)
        letter_keys = every_key[letters]
        letter_slots = (letter_keys & mask).astype(np.intp)
        table[letter_slots] = letter_groups
        table[letter_slots[table[letter_slots] != letter_groups]] = -1
        held = table[(every_key[queries] & mask).astype(np.intp)]
        near = queries[(held != 0) & (held != query_groups)]
        table[letter_slots] = 0
        if not len(near):
            continue
        order = np.argsort(letter_keys, kind="stable")
        unique, first, counts = np.unique(letter_keys[order], return_index=True, return_counts=True)
        keys = every_key[near]
        at = np.minimum(np.searchsorted(unique, keys), len(unique) - 1)
        hits = np.where(unique[at] == keys, counts[at], 0)
        rows = np.repeat(near, hits)
        if not len(rows):
            continue
        # The position of each hit inside its run of equal letter keys.
        runs = np.cumsum(hits) - hits
        within = np.arange(len(rows), dtype=np.intp) - np.repeat(runs, hits)
        matched = letters[order[np.repeat(first[at], hits) + within]]
        apart = row_roots[rows] != row_roots[matched]
        found_rows.append(rows[apart])
        found_letters.append(matched[apart])
    if not found_rows:
        return empty, empty
    pairs = np.unique(
        np.concatenate(found_rows).astype(np.int64) * len(sigs)
        + np.concatenate(found_letters).astype(np.int64)
    )
    return (pairs // len(sigs)).astype(np.intp), (pairs % len(sigs)).astype(np.intp)


def _same_author_candidates(
    sigs: UInt32Array,
    entries: npt.NDArray[np.intp],
    salts: npt.NDArray[np.intp],
    row_roots: npt.NDArray[np.intp],
    params: CampaignParams,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Pairs of rows of different groups, both ways, whose entries have the same salt (an
    author's number) and share a band of the same LSH as :func:`_passage_candidates`.

    The salt is mixed into the keys, so one sort per band finds the runs of entries with
    equal keys: few and short ones, as an author writes few texts, and long ones only for an
    author posting many near copies, which are reposts.
    """
    empty = np.empty(0, dtype=np.intp)
    bands, band_rows = _passage_lsh_shape(params)
    found_rows = []
    found_others = []
    # Few entries: their own rows; many: every row, which costs no gathering.
    few = len(entries) < len(sigs) // 2
    own = sigs[entries] if few else sigs
    salt = salts.astype(np.uint64)
    for band in range(bands):
        keys = _band_keys(own, band * band_rows, (band + 1) * band_rows)
        keys = _fmix64((keys if few else keys[entries]) ^ salt)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        lengths = np.diff(np.r_[starts, len(ordered)])
        shared = lengths >= 2
        if not shared.any():
            continue
        starts, lengths = starts[shared], lengths[shared]
        # Every member of a run meets every member of it, itself included (dropped below).
        members = np.repeat(lengths, lengths)
        first = np.repeat(starts, lengths)
        positions = first + (
            np.arange(len(members)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        rows = np.repeat(entries[order[positions]], members)
        runs = np.repeat(np.cumsum(members) - members, members)
        partners = np.repeat(first, members) + (np.arange(len(rows)) - runs)
        others = entries[order[partners]]
        apart = row_roots[rows] != row_roots[others]
        found_rows.append(rows[apart])
        found_others.append(others[apart])
    if not found_rows:
        return empty, empty
    pairs = np.unique(
        np.concatenate(found_rows).astype(np.int64) * len(sigs)
        + np.concatenate(found_others).astype(np.int64)
    )
    return (pairs // len(sigs)).astype(np.intp), (pairs % len(sigs)).astype(np.intp)


def _band_keys(sigs: UInt32Array, start: int, stop: int) -> UInt64Array:
    """One 64-bit key per row of the values ``start:stop`` of the signatures: their sum with
    odd multipliers, modulo 2**64. Keys are only compared for equality, and values that
    differ give the same key with a chance of about one in 2**64 per pair."""
    keys = np.zeros(len(sigs), dtype=np.uint64)
    if start % 2 == 0 and stop % 2 == 0 and sigs.flags.c_contiguous and sigs.shape[1] % 2 == 0:
        # Two 32-bit values read as one 64-bit value: half the multiplications.
        columns = sigs.view(np.uint64)[:, start // 2 : stop // 2].T
    else:
        columns = sigs[:, start:stop].T.astype(np.uint64)
    for number, column in enumerate(columns):
        keys += column * _band_multiplier(number)
    return keys


@functools.cache
def _band_multiplier(number: int) -> np.uint64:
    """An odd 64-bit multiplier for the ``number``-th value of a band key, mixed so that no
    simple relation between two multipliers lets small differences of values cancel out."""
    value = ((number + 1) * _POLY) & _MASK64
    value ^= value >> 33
    value = (value * _FMIX64_1) & _MASK64
    value ^= value >> 33
    value = (value * _FMIX64_2) & _MASK64
    value ^= value >> 33
    return np.uint64(value | 1)


def _estimated_jaccard(
    sigs: UInt32Array, rows: npt.NDArray[np.intp], others: npt.NDArray[np.intp]
) -> npt.NDArray[np.float64]:
    """The MinHash estimate of the Jaccard similarity of each pair of rows."""
    estimates = np.empty(len(rows), dtype=np.float64)
    # Chunks keep the gathered signatures to a few MB.
    step = 1 << 14
    for start in range(0, len(rows), step):
        stop = start + step
        equal = sigs[rows[start:stop]] == sigs[others[start:stop]]
        estimates[start:stop] = np.count_nonzero(equal, axis=1) / sigs.shape[1]
    return estimates


def _contained(
    first: frozenset[str], second: frozenset[str], params: CampaignParams
) -> float | None:
    """The share of the smaller set found in the larger one, when it reaches the containment
    threshold and the sizes are within the ratio; ``None`` otherwise."""
    smaller, larger = sorted((len(first), len(second)))
    if smaller == 0 or smaller < params.min_size_ratio * larger:
        return None
    share = len(first & second) / smaller
    return share if share >= params.containment else None


class _BandIndex:
    """MinHash LSH over signature rows: rows equal on every value of one band are candidates.

    The bands and their rows are those ``datasketch.MinHashLSH`` chooses for the threshold and
    :data:`_LSH_WEIGHTS`, and two rows meet in a band exactly when that band's values are
    equal, so the candidates are the ones that index returns; keeping plain dictionaries of
    lists instead of its storage layer and per-query byte swapping made detection about twice
    as fast at 100,000 texts.

    Each band's values are numbered once, all rows at a time, and a value that no other row
    has is never put in a bucket: it can bring no candidate. Most texts of a consultation are
    in no near-copy group, so the buckets hold the copies only; keeping every band of every
    text as a bytes key took about 5 KB per text (5 GB at a million).
    """

    def __init__(self, sigs: UInt32Array, params: CampaignParams) -> None:
        bands, rows = _lsh_shape(params)
        count = sigs.shape[0]
        banded = np.ascontiguousarray(sigs[:, : bands * rows]).reshape(count * bands, rows)
        # A void view makes each band of a row one comparable value (an exact key).
        keys = banded.view(np.dtype((np.void, rows * banded.itemsize))).reshape(count, bands)
        self.keys = np.empty((count, bands), dtype=np.int64)
        shared = np.empty((count, bands), dtype=bool)
        for band in range(bands):
            _, numbers, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
            self.keys[:, band] = numbers.reshape(-1)
            shared[:, band] = counts[numbers.reshape(-1)] > 1
        # For each row, the bands whose value another row shares: the only ones looked up.
        self.shared_bands: list[tuple[int, ...]] = [()] * count
        for row in np.flatnonzero(shared.any(axis=1)).tolist():
            self.shared_bands[row] = tuple(np.flatnonzero(shared[row]).tolist())
        self.buckets: list[dict[int, list[int]]] = [{} for _ in range(bands)]

    def query(self, row: int) -> set[int]:
        """Rows already inserted that share a band with ``row``."""
        found: set[int] = set()
        bands = self.shared_bands[row]
        if not bands:
            return found
        keys = self.keys[row]
        for band in bands:
            members = self.buckets[band].get(int(keys[band]))
            if members is not None:
                found.update(members)
        return found

    def insert(self, row: int) -> None:
        """Add ``row`` to the bucket of each band whose value another row shares."""
        bands = self.shared_bands[row]
        if not bands:
            return
        keys = self.keys[row]
        for band in bands:
            bucket, key = self.buckets[band], int(keys[band])
            members = bucket.get(key)
            if members is None:
                bucket[key] = [row]
            else:
                members.append(row)


@functools.lru_cache(maxsize=16)
def _lsh_shape(params: CampaignParams) -> tuple[int, int]:
    """(bands, rows per band) of datasketch's LSH for these parameters."""
    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm, weights=_LSH_WEIGHTS)
    return lsh.b, lsh.r


@functools.lru_cache(maxsize=16)
def _passage_lsh_shape(params: CampaignParams) -> tuple[int, int]:
    """(bands, rows per band) of datasketch's LSH for the lowest Jaccard similarity of a
    pair that the containment rule accepts (the smallest size ratio, full containment at
    the threshold)."""
    least = params.min_size_ratio * params.containment
    lowest = least / (1.0 + params.min_size_ratio - least)
    lsh = MinHashLSH(threshold=lowest, num_perm=params.num_perm, weights=_LSH_WEIGHTS)
    return lsh.b, lsh.r


def _similar(first: frozenset[str], second: frozenset[str], threshold: float) -> bool:
    smaller, larger = sorted((len(first), len(second)))
    # The Jaccard similarity is at most the ratio of the sizes: skip the intersection.
    if larger == 0 or smaller < threshold * larger:
        return False
    shared = len(first & second)
    return shared >= threshold * (len(first) + len(second) - shared)


def _most_central(
    members: list[int],
    weights: Sequence[int],
    shingle_set: Callable[[int], frozenset[str]],
    sigs: UInt32Array,
    row_of: dict[int, int],
) -> list[int]:
    """Return the members whose text is the most central of the group (several on a tie).

    The score of a text is the sum over all items of the group of its Jaccard similarity to
    the item's text; an item's mean similarity to the other items is that score minus one,
    over the number of other items, so the order of the scores is the order of the means.
    """
    if len(members) == 1:
        return members
    if len(members) == 2:
        # Scores w_a + w_b J and w_b + w_a J differ by (w_a - w_b)(1 - J): the text with more
        # copies, unless the copies are as many or the shingle sets equal (J = 1). Most
        # repost groups are two texts, and this spares them the matrix below.
        first, second = members
        if weights[first] == weights[second] or shingle_set(first) == shingle_set(second):
            return members
        return [first if weights[first] > weights[second] else second]
    weight = np.array([weights[index] for index in members], dtype=np.float64)
    if len(members) <= _EXACT_CENTRALITY_LIMIT:
        scores = _exact_scores([shingle_set(index) for index in members], weight)
    else:
        scores = _estimated_scores(sigs[[row_of[index] for index in members]], weight)
    best = float(scores.max())
    return [
        index
        for index, score in zip(members, scores.tolist(), strict=True)
        if score >= best - _SCORE_TOLERANCE
    ]


def _exact_scores(
    sets: list[frozenset[str]], weight: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Weighted sums of the exact Jaccard similarities between every pair of sets."""
    # Only shingles found in two texts or more can be in an intersection of two different
    # texts; the others just count in the sizes.
    frequency = Counter(shingle for shingles in sets for shingle in shingles)
    columns = {
        shingle: column for column, shingle in enumerate(s for s, n in frequency.items() if n > 1)
    }
    incidence = np.zeros((len(sets), len(columns)), dtype=np.float32)
    for row, shingles in enumerate(sets):
        incidence[row, [columns[s] for s in shingles if s in columns]] = 1.0
    sizes = np.array([len(shingles) for shingles in sets], dtype=np.float64)
    scores = np.empty(len(sets), dtype=np.float64)
    step = 256
    for start in range(0, len(sets), step):
        stop = min(start + step, len(sets))
        # Sums of 0/1 products stay exact in float32 below 2^24 shingles.
        shared = (incidence[start:stop] @ incidence.T).astype(np.float64)
        union = sizes[start:stop, None] + sizes[None, :] - shared
        jaccard = np.divide(shared, union, out=np.ones_like(shared), where=union > 0)
        jaccard[np.arange(stop - start), np.arange(start, stop)] = 1.0
        scores[start:stop] = jaccard @ weight
    return scores


def _estimated_scores(
    sigs: UInt32Array, weight: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Weighted sums of the MinHash-estimated Jaccard similarities, in linear time.

    The estimate for a pair is the share of permutations where their minima are equal, so a
    text's sum is, over permutations, the total weight of the texts sharing its minimum.
    """
    scores = np.zeros(len(sigs), dtype=np.float64)
    for column in sigs.T:
        _, inverse = np.unique(column, return_inverse=True)
        scores += np.bincount(inverse, weights=weight)[inverse]
    scores /= sigs.shape[1]
    return scores


def _campaign(groups: list[list[Item]], central: list[list[Item]]) -> Campaign:
    """Build a campaign from its items grouped by text, given the groups of the most central
    texts."""
    everyone = [item for group in groups for item in group]
    representative, copies_of_representative = min(
        ((item, len(group)) for group in central for item in group),
        key=lambda pair: (pair[0].created_at, pair[0].id),
    )
    return Campaign(
        members=tuple(sorted(item.id for item in everyone)),
        representative=representative.id,
        copies=len(everyone),
        exact_copies=copies_of_representative,
        distinct_authors=len({item.author for item in everyone}),
        first_at=min(item.created_at for item in everyone),
        last_at=max(item.created_at for item in everyone),
    )
