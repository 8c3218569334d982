"""Copy-paste campaigns (form letters) among citizen contributions.

A campaign is a group of contributions whose texts are the same letter: exact copies once
normalised (:func:`consult.nlp.normalize.normalise_for_matching`) and near copies whose sets of
character shingles have a Jaccard similarity of at least a threshold (0.8 by default), grouped
transitively. Near copies are found with MinHash LSH (datasketch), and every candidate pair the
index returns is checked against the true Jaccard similarity, so LSH can only miss pairs, never
invent them. Nothing is removed: a campaign lists every signature, with its copies, distinct
authors and time span, and names the most central text as its representative.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np
import numpy.typing as npt
from datasketch import MinHash, MinHashLSH

from consult.nlp.normalize import normalise_for_matching, shingles_of_normalised

__all__ = [
    "Campaign",
    "CampaignParams",
    "Item",
    "detect_campaigns",
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
    """A group of contributions that are copies of one letter."""

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
class CampaignParams:
    """Settings of :func:`detect_campaigns`."""

    threshold: float = 0.8
    """Jaccard similarity of shingle sets at or above which two texts are copies."""
    num_perm: int = 128
    shingle_size: int = 5
    min_copies: int = 3
    """Groups with fewer items are not campaigns."""
    min_chars: int = 40
    """Normalised texts shorter than this group only with exactly equal texts: a short
    sentence such as "Je suis d'accord." is not a form letter by near-duplication."""
    seed: int = 1


def detect_campaigns(
    items: Sequence[Item], params: CampaignParams = CampaignParams()
) -> list[Campaign]:
    """Group the items that are copies of the same text into campaigns.

    Texts are compared in their normalised form. Equal texts always group; texts of at least
    ``params.min_chars`` characters also group when the Jaccard similarity of their character
    shingles reaches ``params.threshold``, and grouping is transitive. Items whose text is
    empty once normalised belong to no campaign. Groups of at least ``params.min_copies``
    items are returned, largest first (then by lowest member id); each item is in at most one.
    The result depends only on the set of items, not on their order. Raises ``ValueError``
    for invalid parameters or repeated item ids.
    """
    _check_params(params)
    if len({item.id for item in items}) != len(items):
        raise ValueError("item ids must be unique")
    if len(items) < params.min_copies:
        return []
    # The index allocates millions of small long-lived containers, which the cyclic garbage
    # collector would scan again and again (a fifth of the time at 100,000 texts); none of
    # them can form a reference cycle.
    with _collector_paused():
        return _detect(items, params)


def _detect(items: Sequence[Item], params: CampaignParams) -> list[Campaign]:
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
    groups = _near_duplicate_groups(len(texts), long_texts, sigs, shingle_set, params)

    row_of = {index: row for row, index in enumerate(long_texts)}
    campaigns = []
    for members in groups:
        if sum(weights[index] for index in members) < params.min_copies:
            continue
        central = _most_central(members, weights, shingle_set, sigs, row_of)
        campaigns.append(
            _campaign(
                [by_text[texts[index]] for index in members],
                [by_text[texts[index]] for index in central],
            )
        )
    campaigns.sort(key=lambda campaign: (-campaign.copies, campaign.members[0]))
    return campaigns


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
    if params.min_copies < 1:
        raise ValueError(f"min_copies must be positive, got {params.min_copies}")
    if params.min_chars < 0:
        raise ValueError(f"min_chars must not be negative, got {params.min_chars}")


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


def _fmix64_high32(values: UInt64Array) -> UInt32Array:
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(_FMIX64_1)
    values = values ^ (values >> np.uint64(33))
    values = values * np.uint64(_FMIX64_2)
    values = values ^ (values >> np.uint64(33))
    return (values >> np.uint64(32)).astype(np.uint32)


def _fmix32(values: UInt32Array) -> UInt32Array:
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(_FMIX32_1)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(_FMIX32_2)
    return values ^ (values >> np.uint32(16))


def _near_duplicate_groups(
    count: int,
    long_texts: Sequence[int],
    sigs: UInt32Array,
    shingle_set: Callable[[int], frozenset[str]],
    params: CampaignParams,
) -> list[list[int]]:
    """Union the distinct texts ``0..count-1`` whose verified Jaccard similarity reaches the
    threshold; return the groups, each sorted, in order of their first text."""
    parent = list(range(count))
    indexed = [0] * count

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    # Candidates whose MinHash estimate is this far below the threshold are not worth the exact
    # check: 4.5 standard deviations of the estimate, a miss chance around one in 100,000.
    spread = params.threshold * (1.0 - params.threshold) / params.num_perm
    floor = params.threshold - 4.5 * math.sqrt(spread) - 1.0 / params.num_perm
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
            mine, theirs = find(text), find(candidate)
            if mine == theirs:
                continue
            if _similar(shingle_set(text), shingle_set(candidate), params.threshold):
                # The earlier text's group absorbs the later one (parents point backwards).
                low, high = min(mine, theirs), max(mine, theirs)
                parent[high] = low
                indexed[low] += indexed[high]
        root = find(text)
        if indexed[root] < _INDEXED_PER_GROUP:
            index.insert(row)
            indexed[root] += 1

    groups: dict[int, list[int]] = defaultdict(list)
    for text in range(count):
        groups[find(text)].append(text)
    return list(groups.values())


class _BandIndex:
    """MinHash LSH over signature rows: rows equal on every value of one band are candidates.

    The bands and their rows are those ``datasketch.MinHashLSH`` chooses for the threshold and
    :data:`_LSH_WEIGHTS`, and a row's key in a band is the band's values as bytes, so the
    candidates are the ones that index returns; keeping plain dictionaries of lists instead of
    its storage layer and per-query byte swapping made detection about twice as fast at
    100,000 texts.
    """

    def __init__(self, sigs: UInt32Array, params: CampaignParams) -> None:
        bands, rows = _lsh_shape(params)
        count = sigs.shape[0]
        banded = np.ascontiguousarray(sigs[:, : bands * rows]).reshape(count * bands, rows)
        # A void view turns each band of a row into one bytes object (an exact key).
        keys = banded.view(np.dtype((np.void, rows * banded.itemsize))).reshape(count, bands)
        self.keys: list[list[bytes]] = cast(list[list[bytes]], keys.tolist())
        self.buckets: list[dict[bytes, list[int]]] = [{} for _ in range(bands)]

    def query(self, row: int) -> set[int]:
        """Rows already inserted that share a band with ``row``."""
        found: set[int] = set()
        for bucket, key in zip(self.buckets, self.keys[row], strict=True):
            members = bucket.get(key)
            if members is not None:
                found.update(members)
        return found

    def insert(self, row: int) -> None:
        """Add ``row`` to the bucket of each of its bands."""
        for bucket, key in zip(self.buckets, self.keys[row], strict=True):
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
