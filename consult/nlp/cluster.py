"""Group contributions by topic: reduce the sentence embeddings, run HDBSCAN, reassign outliers.

The pipeline is::

    L2-normalise -> reduce (a swappable :class:`Reducer`, PCA by default) -> re-normalise
    -> HDBSCAN (euclidean, "eom") -> centroids in the original space
    -> outliers close enough to a centroid join it, the rest stay "other" (label -1)

Why PCA and not UMAP: UMAP to 5 dimensions is what BERTopic uses and gave the fewest outliers on
real consultation text, but it needs numba (heavy, slow to import, ~25 s per fit at 10k items)
and is not reproducible without giving up its parallelism. The reducer is therefore a small
protocol, so that a UMAP reducer can be plugged in later where it is installed, and the default
is tuned to work well without it. On unit vectors the euclidean distance is a monotone function
of the cosine (``|a - b|^2 = 2 - 2 cos``), so re-normalising after the projection lets HDBSCAN's
fast euclidean trees work on what is really an angular distance.

Default parameters, chosen by measurement (``python -m bench.clustering``: USE multilingual
vectors of the 5,764 comments of the five Austrian climate-council Polis conversations, gold =
the conversation, and of MasakhaNEWS-fr dev, 211 French articles in 5 categories; outlier share
after reassignment at 0.5 / V-measure with "other" as a class / V-measure on clustered items):

==================  ======================  ======================
setting             Austria (N 5,764)       MasakhaNEWS-fr (N 211)
==================  ======================  ======================
PCA 5               55 % / 0.144 / 0.303    19 % / 0.532 / 0.653
**PCA 8**           55 % / 0.156 / 0.329    19 % / 0.537 / 0.673
PCA 10              60 % / 0.157 / 0.348    29 % / 0.460 / 0.634
PCA 20              71 % / 0.132 / 0.359    32 % / 0.502 / 0.726
raw 512-d           82 % / 0.090 / 0.293    50 % / 0.358 / 0.616
k-means, k = gold    0 % / 0.204 / 0.204     0 % / 0.541 / 0.541
==================  ======================  ======================

- ``dimensions = 8``: more dimensions make the density thinner, so HDBSCAN declares more
  items noise (raw vectors: 82 %) for a slightly purer rest; fewer lose separation. 8 had the
  fewest outliers and the best all-items V-measure on both sets (5 was close on Austria, worse
  on MasakhaNEWS); HDBSCAN took 0.9 s at 5,764 items (20 dimensions: 1.3 s, raw: 27 s).
- ``min_samples = min(min_cluster_size, 5)``: HDBSCAN's default (``= min_cluster_size``) added
  5-8 points of outliers for no better purity; ``min_samples`` of 1-2 removed 7-12 points of
  outliers on Austria but cost purity (V-measure of clustered items 0.61-0.62 instead of 0.67
  on MasakhaNEWS).
- ``min_cluster_size = clip(round(sqrt(N) / 2), 5, 100)``: on these sets the results barely
  moved between 10, sqrt(N)/2 and N/100 (the clusters found are large); the rule keeps a small
  corpus able to form clusters and a large one from shattering into hundreds.
- ``reassign_similarity = 0.5``: 0.4 cut Austria's outliers from 55 % to 40 % (MasakhaNEWS:
  19 % to 6 %) but lowered the purity of the clusters; 0.5 keeps clusters honest and leaves
  the loosely related items visible as "other". Callers wanting fewer outliers lower it.

Even so, citizen comments that all discuss one broad subject (climate) leave about half of the
items as "other" with PCA; UMAP to 5 dimensions left 27-28 % on French consultation arguments,
which is why the reducer is swappable.

Rules every result follows:

- Deterministic: the same vectors and seed give the same labels. Clusters are numbered by
  decreasing size, ties by their lowest member index, so the numbering does not depend on
  HDBSCAN's internal order.
- Every item gets exactly one label, a cluster index ``0..k-1`` or ``-1`` ("other").
- Zero vectors (texts empty once prepared) are always ``-1``: they carry no meaning, and keeping
  them out of the reduction stops them from forming a spurious "empty" cluster.
- Tiny inputs (fewer than ``TINY_INPUT`` usable vectors, or fewer than twice the minimum cluster
  size) come back as a single "other" group: HDBSCAN on a handful of points finds clusters in
  noise, and a reader is better served by the plain list.
- Copy-paste campaigns: the caller collapses each campaign to one item before clustering and
  passes the number of copies as its weight. ``hdbscan`` takes no sample weights, and repeating a
  campaign's rows would make it a dense cluster of its own, which is what collapsing avoids; so
  weights do not change the clustering, they are kept so that :attr:`Clustering.weighted_sizes`
  can count the contributions (copies included) behind each cluster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_DIMENSIONS",
    "TINY_INPUT",
    "ClusterParams",
    "Clustering",
    "IdentityReducer",
    "PCAReducer",
    "Reducer",
    "central_items",
    "cluster",
    "default_min_cluster_size",
    "default_min_samples",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Fewer usable vectors than this are never clustered (see the module docstring).
TINY_INPUT = 10
DEFAULT_DIMENSIONS = 8
# Below this many rows the exact SVD is fast (well under a second at 512 dimensions); above it
# the seeded randomized SVD keeps PCA linear in N and is still deterministic.
_FULL_SVD_LIMIT = 20_000
# Rows whose norm is below this are treated as empty texts.
_ZERO_NORM = 1e-12


def default_min_cluster_size(n: int) -> int:
    """HDBSCAN's ``min_cluster_size`` for ``n`` usable items: ``clip(round(sqrt(n) / 2), 5, 100)``.

    A fixed size does not suit both a 200-item and a 100,000-item consultation: too small and a
    large corpus shatters into hundreds of micro-clusters nobody reads, too large and a small one
    has a single cluster. Growing with the square root keeps the number of clusters a reader
    sees in the tens whatever the size (about 10 at 200 items, 38 at 5,764, 158 -> 100 at 100k).
    """
    return int(min(100, max(5, round(math.sqrt(max(n, 0)) / 2))))


def default_min_samples(min_cluster_size: int) -> int:
    """HDBSCAN's ``min_samples`` for a given ``min_cluster_size``: ``min(min_cluster_size, 5)``.

    ``min_samples`` sets how conservative the density estimate is: HDBSCAN's default (equal to
    ``min_cluster_size``) declares most of a loosely written corpus noise. A small constant keeps
    the density estimate local so more items belong to a cluster.
    """
    return min(min_cluster_size, 5)


@dataclass(frozen=True)
class ClusterParams:
    """Parameters of :func:`cluster`.

    ``reducer`` is ``"pca"`` (project to ``dimensions`` principal components) or ``"none"``
    (cluster the raw vectors; slow and outlier-prone above a few hundred dimensions, kept for
    comparison). ``min_cluster_size`` / ``min_samples`` left at ``None`` are resolved by
    :func:`default_min_cluster_size` / :func:`default_min_samples`; the :class:`Clustering`
    returned holds the resolved values. ``reassign_similarity`` is the cosine bound above which
    an outlier joins its nearest cluster; the others stay "other".
    """

    reducer: str = "pca"
    dimensions: int = DEFAULT_DIMENSIONS
    min_cluster_size: int | None = None
    min_samples: int | None = None
    reassign_similarity: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.reducer not in ("pca", "none"):
            raise ValueError(f"unknown reducer {self.reducer!r}: expected 'pca' or 'none'")
        if self.dimensions < 1:
            raise ValueError("dimensions must be at least 1")
        if self.min_cluster_size is not None and self.min_cluster_size < 2:
            raise ValueError("min_cluster_size must be at least 2")
        if self.min_samples is not None and self.min_samples < 1:
            raise ValueError("min_samples must be at least 1")
        if not -1.0 <= self.reassign_similarity <= 1.0 and not math.isinf(self.reassign_similarity):
            raise ValueError("reassign_similarity must be a cosine in [-1, 1] (or inf: never)")


@dataclass(frozen=True)
class Clustering:
    """The result of :func:`cluster`.

    ``labels[i]`` is item ``i``'s cluster index (``0..k-1``, by decreasing size) or ``-1``.
    ``centroids[c]`` is the L2-normalised mean, in the original embedding space, of cluster
    ``c``'s density members (before reassignment: the reassignment bound is measured against
    these same centroids, so they are what a reassigned item was compared with).
    ``weights`` are the item weights given to :func:`cluster` (ones when none were given).
    """

    labels: IntArray
    centroids: FloatArray
    reassigned: int
    params: ClusterParams
    weights: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    @property
    def sizes(self) -> list[int]:
        """Number of items per cluster, indexed like the clusters (decreasing)."""
        k = self.centroids.shape[0]
        counts = np.bincount(self.labels[self.labels >= 0], minlength=k)
        return [int(count) for count in counts[:k]]

    @property
    def weighted_sizes(self) -> list[float]:
        """Total weight per cluster: contributions behind it when campaigns were collapsed."""
        k = self.centroids.shape[0]
        if self.weights.shape[0] != self.labels.shape[0]:
            return [float(size) for size in self.sizes]
        members = self.labels >= 0
        totals = np.bincount(self.labels[members], weights=self.weights[members], minlength=k)
        return [float(total) for total in totals[:k]]

    @property
    def outlier_rate(self) -> float:
        """Share of items labelled "other" (0.0 for an empty input)."""
        n = self.labels.shape[0]
        return float(np.count_nonzero(self.labels < 0)) / n if n else 0.0


class Reducer(Protocol):
    """A dimension reduction stage: one row out per row in, fitted on the rows it is given."""

    def fit_transform(self, vectors: FloatArray) -> FloatArray:
        """Return the reduced (n, d) rows of the (n, D) L2-normalised ``vectors``."""
        ...


class IdentityReducer:
    """Keep the vectors as they are."""

    def fit_transform(self, vectors: FloatArray) -> FloatArray:
        return vectors


class PCAReducer:
    """Project onto the first ``dimensions`` principal components (seeded, so reproducible)."""

    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS, seed: int = 0) -> None:
        self.dimensions = dimensions
        self.seed = seed

    def fit_transform(self, vectors: FloatArray) -> FloatArray:
        from sklearn.decomposition import PCA

        n, dim = vectors.shape
        components = min(self.dimensions, n, dim)
        if components >= dim:
            return vectors
        solver = "full" if n <= _FULL_SVD_LIMIT else "randomized"
        pca = PCA(n_components=components, svd_solver=solver, random_state=self.seed)
        reduced: FloatArray = np.asarray(pca.fit_transform(vectors), dtype=np.float64)
        return reduced


def _reducer_for(params: ClusterParams) -> Reducer:
    if params.reducer == "none":
        return IdentityReducer()
    return PCAReducer(params.dimensions, params.seed)


def _normalised(vectors: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Unit rows and the mask of usable (non-zero, finite) rows; unusable rows become zero."""
    norms = np.linalg.norm(vectors, axis=1)
    usable = np.isfinite(norms) & (norms > _ZERO_NORM)
    unit = np.zeros_like(vectors)
    unit[usable] = vectors[usable] / norms[usable, None]
    return unit, usable


def _validated(vectors: NDArray[np.generic]) -> FloatArray:
    array = np.asarray(vectors, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array, got shape {array.shape}")
    return array


def cluster(
    vectors: NDArray[np.generic],
    params: ClusterParams = ClusterParams(),
    weights: NDArray[np.generic] | None = None,
    *,
    reducer: Reducer | None = None,
) -> Clustering:
    """Cluster embedding rows by topic; see the module docstring for the rules.

    ``weights`` (one non-negative number per row, e.g. the copies of a collapsed campaign) do not
    change the clustering; they are kept for :attr:`Clustering.weighted_sizes`. ``reducer``
    replaces the one named by ``params.reducer`` (e.g. a UMAP reducer where installed).
    """
    raw = _validated(vectors)
    n, dim = raw.shape
    if weights is None:
        item_weights = np.ones(n, dtype=np.float64)
    else:
        item_weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        if item_weights.shape[0] != n:
            raise ValueError(f"weights has {item_weights.shape[0]} entries for {n} vectors")
        if not np.all(np.isfinite(item_weights)) or np.any(item_weights < 0):
            raise ValueError("weights must be finite and non-negative")

    unit, usable = _normalised(raw)
    usable_count = int(np.count_nonzero(usable))
    min_cluster_size = params.min_cluster_size or default_min_cluster_size(usable_count)
    min_samples = params.min_samples or default_min_samples(min_cluster_size)
    resolved = replace(params, min_cluster_size=min_cluster_size, min_samples=min_samples)

    labels = np.full(n, -1, dtype=np.int64)
    empty = Clustering(labels, np.zeros((0, dim)), 0, resolved, item_weights)
    if usable_count < max(TINY_INPUT, 2 * min_cluster_size):
        return empty

    import hdbscan

    rows = np.flatnonzero(usable)
    reduced = (reducer or _reducer_for(params)).fit_transform(unit[rows])
    reduced, reduced_usable = _normalised(np.asarray(reduced, dtype=np.float64))
    # A row that projects onto the origin has no direction left; it stays "other".
    rows, reduced = rows[reduced_usable], reduced[reduced_usable]
    if rows.shape[0] < max(TINY_INPUT, 2 * min_cluster_size):
        return empty

    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=min_samples,
        metric="euclidean",
        cluster_selection_method="eom",
        core_dist_n_jobs=1,
    )
    found = np.asarray(clusterer.fit_predict(reduced), dtype=np.int64)
    k = int(found.max()) + 1 if found.size else 0
    if k == 0:
        return empty

    core_centroids = np.zeros((k, dim), dtype=np.float64)
    np.add.at(core_centroids, found[found >= 0], unit[rows[found >= 0]])
    core_centroids /= np.linalg.norm(core_centroids, axis=1, keepdims=True)
    labels[rows] = found

    outliers = rows[found < 0]
    reassigned = 0
    if outliers.size:
        similarity = unit[outliers] @ core_centroids.T
        nearest = np.argmax(similarity, axis=1)
        close = similarity[np.arange(outliers.size), nearest] >= params.reassign_similarity
        labels[outliers[close]] = nearest[close]
        reassigned = int(np.count_nonzero(close))

    # Renumber by decreasing final size, ties by lowest member index: independent of the
    # order in which HDBSCAN happened to number its clusters.
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    first_member = np.full(k, n, dtype=np.int64)
    np.minimum.at(first_member, labels[labels >= 0], np.flatnonzero(labels >= 0))
    order = np.lexsort((first_member, -sizes))
    new_index = np.empty(k, dtype=np.int64)
    new_index[order] = np.arange(k)
    labels[labels >= 0] = new_index[labels[labels >= 0]]
    return Clustering(labels, core_centroids[order], reassigned, resolved, item_weights)


def central_items(
    vectors: NDArray[np.generic],
    labels: NDArray[np.generic],
    cluster_index: int,
    count: int = 5,
    diversity: float = 0.3,
) -> list[int]:
    """Indexes of up to ``count`` representative items of one cluster.

    The first is the member closest (cosine) to the cluster's centroid; each next one maximises
    ``(1 - diversity) * cosine(item, centroid) - diversity * max cosine(item, already chosen)``
    (maximal marginal relevance), so the quotes shown are central without repeating each other.
    ``diversity = 0`` gives the most central items in order. Ties go to the lowest index.
    """
    if not 0.0 <= diversity <= 1.0:
        raise ValueError("diversity must be between 0 and 1")
    unit, usable = _normalised(_validated(vectors))
    label_array = np.asarray(labels).reshape(-1)
    if label_array.shape[0] != unit.shape[0]:
        raise ValueError("labels and vectors must have the same number of rows")
    members = np.flatnonzero((label_array == cluster_index) & usable)
    if count <= 0 or members.size == 0:
        return []
    member_vectors = unit[members]
    centroid = member_vectors.sum(axis=0)
    norm = np.linalg.norm(centroid)
    if norm > _ZERO_NORM:
        centroid /= norm
    relevance = member_vectors @ centroid

    chosen = [int(np.argmax(relevance))]
    redundancy = member_vectors @ member_vectors[chosen[0]]
    available = np.ones(members.size, dtype=bool)
    available[chosen[0]] = False
    while len(chosen) < min(count, members.size):
        score = (1.0 - diversity) * relevance - diversity * redundancy
        score[~available] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, member_vectors @ member_vectors[best])
    return [int(members[i]) for i in chosen]
