"""Group contributions by topic: reduce the sentence embeddings, run HDBSCAN, reassign outliers.

The pipeline is::

    L2-normalise -> at most FIT_LIMIT rows (a seeded sample above it)
    -> reduce (a swappable :class:`Reducer`: seeded UMAP to 5 dimensions by default)
    -> HDBSCAN (euclidean, "eom") -> rows left out of the sample take the label of most of their
    15 nearest sampled rows (cosine, original space) -> centroids in the original space
    -> outliers close enough to a centroid join it, the rest stay "other" (label -1)

UMAP (15 neighbours, cosine, ``min_dist`` 0, as BERTopic uses it) turns the neighbour graph into
a low-dimensional layout where topics are dense and separated, which is what HDBSCAN needs; PCA
keeps the directions of largest variance, and citizen comments on one broad subject differ
little along them, so HDBSCAN declares half of them noise. PCA stays available
(:class:`PCAReducer`: instant, no numba); its output, like the raw vectors', is re-normalised so
that HDBSCAN's euclidean trees measure an angle (``|a - b|^2 = 2 - 2 cos`` on unit vectors),
whereas a UMAP layout is used as it is.

Measured with ``python -m bench.clustering`` (USE multilingual vectors of the 5,764 comments of
the five Austrian climate-council Polis conversations, gold = the conversation, and of
MasakhaNEWS-fr dev, 211 French articles in 5 categories; seed 0; share of "other" after
reassignment at 0.5 / V-measure with "other" as a class / V-measure on clustered items; time at
5,764 items on two shared cores):

=========================  ======================  ======================  ========
setting                    Austria (N 5,764)       MasakhaNEWS-fr (N 211)  time
=========================  ======================  ======================  ========
**UMAP 5, fit 4,000**      24 % / 0.179 / 0.221     0 % / 0.465 / 0.465    5.1 s
UMAP 5, all rows           27 % / 0.176 / 0.224     0 % / 0.465 / 0.465    7.2 s
UMAP 5, fit 2,000          15 % / 0.174 / 0.205     0 % / 0.465 / 0.465    2.4 s
UMAP 10, fit 4,000         19 % / 0.188 / 0.221     9 % / 0.605 / 0.665    5.5 s
PCA 8, all rows            54 % / 0.155 / 0.324    19 % / 0.537 / 0.673    0.7 s
raw 512-d                  82 % / 0.090 / 0.296    50 % / 0.358 / 0.616     22 s
k-means, k = gold           0 % / 0.204 / 0.204     0 % / 0.541 / 0.541    1.5 s
=========================  ======================  ======================  ========

- UMAP halves the "other" share on the Austrian comments and raises the all-items V-measure
  (its clusters are finer sub-topics: 33 against PCA's 5, so the V-measure of clustered items,
  which penalises splitting a conversation, is lower). On MasakhaNEWS seed 0 merges the five
  categories into two clusters; over seeds 0-4 UMAP 5 gives 6 % "other" and V-measure
  0.593 ± 0.064 (UMAP 10 the same, 0.593 ± 0.065), better than PCA's 0.537, and on Austria
  21.5 % ± 4.8 and 0.175 ± 0.005. A small corpus stays seed-sensitive (with 15 neighbours, 3
  seeds in 10 gave two clusters); 5 dimensions are kept, as in BERTopic, since 10 were no
  better on average.
- ``fit_limit = 4,000``: seeded UMAP runs on one thread (the price of reproducibility) and its
  fit grows with N (CPU: 2.3 s at 2,000 rows, 5.2 s at 4,000, 15 s at 10,000, with the exact
  neighbours computed here by matrix products instead of UMAP's own search). UMAP's
  ``transform`` placed the remaining rows at 3-4 ms each (100,000 rows: 5 minutes), and
  placing them at the weighted mean of their neighbours' positions left 46 % "other" instead
  of 27 %; labelling them by their nearest sampled rows costs a matrix product and keeps the
  quality of a full fit. On 100,000 rows (real vectors repeated with noise,
  ``python -m bench.clustering --scale``): 14 s with a 4,000-row fit, 25 s with 8,000 (same
  share of "other": 16.6 % against 16.8 %), 6 s with 2,000 (25 % "other"); PCA on all rows
  took 42 s, HDBSCAN's cost on 100,000 points. The first UMAP fit of a process also compiles
  numba code (5-18 s), once.
- ``min_cluster_size = clip(round(sqrt(n) / 2), 5, 100)`` of the n rows clustered: results
  moved little between 10 and this rule (smaller sizes give more, smaller clusters and more
  "other"); the rule keeps the number of clusters a reader sees in the tens.
- ``min_samples = min(min_cluster_size, 5)``: HDBSCAN's default (``= min_cluster_size``), with
  PCA, halved the all-items V-measure on Austria (0.085 against 0.155) and added 5 points of
  "other" on MasakhaNEWS.
- ``reassign_similarity = 0.5``: without reassignment UMAP leaves 33 % "other" on Austria
  (0.165 V-measure); 0.5 brings in the items close to a cluster's centroid and keeps clusters
  honest. Callers wanting fewer outliers lower it.

Rules every result follows:

- Deterministic: the same vectors and seed give the same labels (UMAP is seeded, the sample is
  drawn from the seed). Clusters are numbered by decreasing size, ties by their lowest member
  index, so the numbering does not depend on HDBSCAN's internal order.
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

import functools
import importlib
import logging
import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

_log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_DIMENSIONS",
    "FIT_LIMIT",
    "TINY_INPUT",
    "UMAP_DIMENSIONS",
    "UMAP_NEIGHBOURS",
    "ClusterParams",
    "Clustering",
    "IdentityReducer",
    "PCAReducer",
    "Reducer",
    "UMAPReducer",
    "central_items",
    "cluster",
    "compile_ahead",
    "default_min_cluster_size",
    "default_min_samples",
]

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]
IntArray = NDArray[np.int64]
_Float = TypeVar("_Float", np.float32, np.float64)

# Fewer usable vectors than this are never clustered (see the module docstring).
TINY_INPUT = 10
DEFAULT_DIMENSIONS = 8
# Below this many rows the exact SVD is fast (well under a second at 512 dimensions); above it
# the seeded randomized SVD keeps PCA linear in N and is still deterministic.
_FULL_SVD_LIMIT = 20_000
# Rows whose norm is below this are treated as empty texts.
_ZERO_NORM = 1e-12
# UMAP's settings as BERTopic uses them (see the module docstring for the measurements).
UMAP_DIMENSIONS = 5
UMAP_NEIGHBOURS = 15
# The reducer and HDBSCAN see at most this many rows, a seeded sample; the others take the label
# of their nearest sampled neighbours (see the module docstring).
FIT_LIMIT = 4_000
# How many nearest sampled rows label a row left out of the sample.
_VOTE_NEIGHBOURS = 15
# Rows compared with the sample at once when labelling the rest (bounds the memory to
# _VOTE_BLOCK x FIT_LIMIT similarities).
_VOTE_BLOCK = 2_048
# UMAP warnings that describe expected situations, not faults: well-separated topics make a
# disconnected neighbour graph (UMAP then lays the components out separately), and a seed forces
# the single thread that reproducibility needs.
_EXPECTED_UMAP_WARNINGS = (
    r".*not fully connected.*",
    r".*n_jobs value .* overridden.*",
    r".*Use no seed for parallelism.*",
    # The neighbours are given, so there is no search index; transform() is never called.
    r".*knn_search_index.*",
)


def default_min_cluster_size(n: int) -> int:
    """HDBSCAN's ``min_cluster_size`` for ``n`` usable items: ``clip(round(sqrt(n) / 2), 5, 100)``.

    A fixed size does not suit both a 200-item and a 100,000-item consultation: too small and a
    large corpus shatters into hundreds of micro-clusters nobody reads, too large and a small one
    has a single cluster. Growing with the square root keeps the number of clusters a reader
    sees in the tens whatever the size (7 at 200 items, 32 at 4,000, the default ``fit_limit``;
    100 at 40,000 rows and above, when every row is clustered).
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
    """Parameters of :func:`cluster` (the reduction is a stage of its own: :class:`Reducer`).

    ``fit_limit`` bounds the rows reduced and clustered: above it a seeded sample of that many
    is, and every other row takes the label of most of its nearest sampled rows; ``None``
    clusters every row. ``min_cluster_size`` / ``min_samples`` left at ``None`` are resolved by
    :func:`default_min_cluster_size` (of the rows clustered, at most ``fit_limit``) /
    :func:`default_min_samples`; the :class:`Clustering` returned holds the resolved values.
    ``reassign_similarity`` is the cosine bound above which an outlier joins its nearest
    cluster; the others stay "other". ``seed`` drives every random step (the sample, the layout).
    """

    fit_limit: int | None = FIT_LIMIT
    min_cluster_size: int | None = None
    min_samples: int | None = None
    reassign_similarity: float = 0.5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.fit_limit is not None and self.fit_limit < TINY_INPUT:
            raise ValueError(f"fit_limit must be at least {TINY_INPUT} (or None: no limit)")
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
    ``c``'s density members and of the rows left out of the sample that took its label (before
    reassignment: the reassignment bound is measured against these same centroids, so they are
    what a reassigned item was compared with).
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
    """A dimension reduction stage: one row out per row in, fitted on the rows it is given.

    ``angular``: whether the rows out are directions (re-normalised before HDBSCAN, whose
    euclidean distance then measures an angle) rather than positions, as a UMAP layout's are.
    """

    @property
    def angular(self) -> bool:
        """Whether the reduced rows are directions rather than positions."""
        ...

    def fit_transform(self, vectors: FloatArray, seed: int) -> FloatArray:
        """Return the reduced (n, d) rows of the (n, D) L2-normalised ``vectors``."""
        ...

    def describe(self) -> dict[str, object]:
        """The stage's name and settings, as a report states them."""
        ...


@dataclass(frozen=True)
class IdentityReducer:
    """Keep the vectors as they are (slow and outlier-prone above a few hundred dimensions;
    kept for comparison)."""

    @property
    def angular(self) -> bool:
        """Raw embeddings are directions."""
        return True

    def fit_transform(self, vectors: FloatArray, seed: int) -> FloatArray:
        """The vectors, unchanged."""
        return vectors

    def describe(self) -> dict[str, object]:
        """``{"name": "none"}``."""
        return {"name": "none"}


@dataclass(frozen=True)
class PCAReducer:
    """Project onto the first ``dimensions`` principal components (seeded, so reproducible)."""

    dimensions: int = DEFAULT_DIMENSIONS

    def __post_init__(self) -> None:
        if self.dimensions < 1:
            raise ValueError("dimensions must be at least 1")

    @property
    def angular(self) -> bool:
        """Principal components keep directions."""
        return True

    def fit_transform(self, vectors: FloatArray, seed: int) -> FloatArray:
        """The rows projected onto their first principal components."""
        from sklearn.decomposition import PCA

        n, dim = vectors.shape
        components = min(self.dimensions, n, dim)
        if components >= dim:
            return vectors
        solver = "full" if n <= _FULL_SVD_LIMIT else "randomized"
        pca = PCA(n_components=components, svd_solver=solver, random_state=seed)
        reduced: FloatArray = np.asarray(pca.fit_transform(vectors), dtype=np.float64)
        return reduced

    def describe(self) -> dict[str, object]:
        """Name and dimensions."""
        return {"name": "pca", "dimensions": self.dimensions}


@dataclass(frozen=True)
class UMAPReducer:
    """Seeded UMAP (cosine, ``min_dist`` 0) to ``dimensions``; reproducible for the same input.

    With a seed UMAP runs on one thread, the price of getting the same labels twice. ``umap``
    (and numba, whose compilation costs seconds on the first fit of a process) is imported on
    the first use only.
    """

    dimensions: int = UMAP_DIMENSIONS
    neighbours: int = UMAP_NEIGHBOURS

    def __post_init__(self) -> None:
        if self.dimensions < 1 or self.neighbours < 2:
            raise ValueError("dimensions must be at least 1 and neighbours at least 2")

    @property
    def angular(self) -> bool:
        """A layout is a set of positions."""
        return False

    def describe(self) -> dict[str, object]:
        """Name, dimensions and neighbours."""
        return {"name": "umap", "dimensions": self.dimensions, "neighbours": self.neighbours}

    def fit_transform(self, vectors: FloatArray, seed: int) -> FloatArray:
        """The seeded layout of the rows."""
        umap = _umap_with_compilation_kept()
        n = vectors.shape[0]
        if n < 4:
            # No neighbourhood to lay out; the caller never clusters so few rows anyway.
            return vectors
        neighbours = max(2, min(self.neighbours, n - 1))
        model = umap.UMAP(
            n_neighbors=neighbours,
            # The spectral initialisation needs fewer dimensions than rows minus one.
            n_components=max(1, min(self.dimensions, n - 2)),
            min_dist=0.0,
            metric="cosine",
            random_state=seed,
            n_jobs=1,
            # Exact neighbours computed here: UMAP's own search is single-threaded once seeded,
            # quadratic below 4,096 rows and costs ~25 s of numba compilation above.
            precomputed_knn=(*_exact_neighbours(vectors, neighbours), None),
        )
        with warnings.catch_warnings():
            for message in _EXPECTED_UMAP_WARNINGS:
                warnings.filterwarnings("ignore", message=message)
            layout = np.asarray(model.fit_transform(vectors), dtype=np.float64)
        return layout


# umap's modules whose numba functions a fit compiles (the layout, the fuzzy graph, the spectral
# initialisation and the helpers they call).
_UMAP_MODULES = ("umap.umap_", "umap.layouts", "umap.utils", "umap.spectral", "umap.distances")


def _umap_with_compilation_kept() -> Any:
    """``umap``, its numba functions compiled once per machine rather than once per process.

    Most of umap's functions are compiled on their first call in each process and the result
    thrown away at its end: 6-10 s of CPU before the first synthesis of every worker, and more
    than twice that under a line tracer. Kept in numba's cache (next to umap's sources, or in
    ``NUMBA_CACHE_DIR``), later processes load them in milliseconds; numba compiles a function
    again when its source or the argument types change. Where no cache can be written, a
    function is compiled per process as before.
    """
    _keep_umaps_compiled_functions()
    import umap

    return umap


@functools.cache
def _keep_umaps_compiled_functions() -> int:
    """Switch numba's cache on for umap's functions; for how many it could be."""
    with warnings.catch_warnings():
        # umap announces on import that its optional TensorFlow variant is unavailable.
        warnings.filterwarnings("ignore", category=ImportWarning)
        import umap  # noqa: F401
    from numba.core.dispatcher import Dispatcher

    kept = 0
    for name in _UMAP_MODULES:
        module = importlib.import_module(name)
        for function in vars(module).values():
            if isinstance(function, Dispatcher) and function.__module__ == name:
                try:
                    function.enable_caching()
                    kept += 1
                except RuntimeError:  # no writable cache directory: compiled per process
                    _log.debug("numba cannot cache %s.%s", name, function.py_func.__name__)
    return kept


def compile_ahead() -> bool:
    """Compile the clustering's numba code now and keep it in numba's cache; whether it was kept.

    Run once where the product is installed (``consult precompile``): the first synthesis of
    every later process, web or worker, then loads the compiled code in about two seconds
    instead of compiling it for half a minute. A seeded fit of a few hundred rows runs each
    function a synthesis runs, with the argument types it uses (umap lays out float32 whatever
    it is given). Nothing is kept where numba has no writable cache directory.
    """
    rows = np.random.default_rng(0).normal(size=(300, 32))
    UMAPReducer().fit_transform(rows / np.linalg.norm(rows, axis=1, keepdims=True), seed=0)
    return _keep_umaps_compiled_functions() > 0


def _exact_neighbours(
    unit: FloatArray | Float32Array, neighbours: int
) -> tuple[IntArray, FloatArray]:
    """Each unit row's ``neighbours`` nearest rows (itself included) and their cosine distances.

    A blocked matrix product: BLAS uses every core and the order is fixed (distance, then
    index), so the result does not depend on the thread count.
    """
    n = unit.shape[0]
    indices = np.empty((n, neighbours), dtype=np.int64)
    distances = np.empty((n, neighbours), dtype=np.float64)
    for start in range(0, n, _VOTE_BLOCK):
        block = np.clip(1.0 - unit[start : start + _VOTE_BLOCK] @ unit.T, 0.0, 2.0)
        nearest = np.argpartition(block, neighbours - 1, axis=1)[:, :neighbours]
        nearest_distances = np.take_along_axis(block, nearest, axis=1)
        order = np.lexsort((nearest, nearest_distances), axis=1)
        indices[start : start + block.shape[0]] = np.take_along_axis(nearest, order, axis=1)
        distances[start : start + block.shape[0]] = np.take_along_axis(
            nearest_distances, order, axis=1
        )
    return indices, distances


def _normalised(vectors: NDArray[_Float]) -> tuple[NDArray[_Float], NDArray[np.bool_]]:
    """Unit rows and the mask of usable (non-zero, finite) rows; unusable rows become zero.

    Norms are computed in double precision whatever the input's precision, and the rows keep
    the input's dtype.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64))
    usable = np.isfinite(norms) & (norms > _ZERO_NORM)
    unit = np.zeros_like(vectors)
    # Divided in place, row by row where usable: selecting the usable rows first made two
    # temporary copies of the whole matrix (0.8 GB for an article of 186,000 contributions).
    np.divide(vectors, norms[:, None].astype(vectors.dtype), out=unit, where=usable[:, None])
    return unit, usable


def _validated(vectors: NDArray[np.generic]) -> Float32Array:
    """The rows in single precision: ample for cosines of unit vectors, and a 100,000 x 512
    matrix then takes 200 MB instead of 400 MB (its copies likewise)."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array, got shape {array.shape}")
    return array


def _nearest_label(
    unit: Float32Array, to_label: IntArray, sample: Float32Array, sample_labels: IntArray
) -> IntArray:
    """Label each row ``unit[to_label]`` like most of its nearest (cosine) ``sample`` rows,
    "other" included.

    Ties go to the lowest label, so to "other" first: a row as close to noise as to a cluster is
    left to the reassignment bound, which is stricter. Single precision halves the time of the
    products (the largest cost at 100,000 rows) and is ample to rank neighbours. The rows are
    taken a block at a time: copying them all first held a second matrix of the article.
    """
    neighbours = min(_VOTE_NEIGHBOURS, sample.shape[0])
    classes = int(sample_labels.max()) + 2  # "other" is counted in column 0
    sample_t = np.ascontiguousarray(sample.T)
    labels = np.empty(to_label.shape[0], dtype=np.int64)
    for start in range(0, to_label.shape[0], _VOTE_BLOCK):
        similarity = unit[to_label[start : start + _VOTE_BLOCK]] @ sample_t
        # The largest at the end: partitioning a negated copy took twice as long.
        nearest = np.argpartition(similarity, -neighbours, axis=1)[:, -neighbours:]
        count = nearest.shape[0]
        cells = np.arange(count)[:, None] * classes + sample_labels[nearest] + 1
        votes = np.bincount(cells.ravel(), minlength=count * classes).reshape(count, classes)
        labels[start : start + count] = np.argmax(votes, axis=1) - 1
    return labels


# Rows summed at a time by _label_sums (16 MB in double precision at 512 dimensions).
_SUM_BLOCK = 4096


def _label_sums(unit: Float32Array, rows: IntArray, found: IntArray, k: int) -> FloatArray:
    """Per label ``0..k-1``, the double-precision sum of the rows labelled with it.

    Rows are grouped by label (a stable sort) and summed with ``reduceat`` (``np.add.at`` over
    100,000 rows of 512 values took seconds), a block of rows at a time: converting them all to
    double precision at once held a matrix twice the article's. Each block starts from the sum
    carried so far for its first label, so every sum adds its rows one after the other in the
    same order as a single pass would.
    """
    labelled = found >= 0
    order = np.argsort(found[labelled], kind="stable")
    grouped_labels = found[labelled][order]
    grouped_rows = rows[labelled][order]
    sums = np.zeros((k, unit.shape[1]), dtype=np.float64)
    for start in range(0, grouped_rows.shape[0], _SUM_BLOCK):
        block_labels = grouped_labels[start : start + _SUM_BLOCK]
        block = np.empty((block_labels.shape[0] + 1, unit.shape[1]), dtype=np.float64)
        block[0] = sums[block_labels[0]]
        block[1:] = unit[grouped_rows[start : start + _SUM_BLOCK]]
        firsts = np.flatnonzero(np.r_[True, block_labels[1:] != block_labels[:-1]])
        starts = firsts + 1
        starts[0] = 0  # the carried sum opens the first label's run
        sums[block_labels[firsts]] = np.add.reduceat(block, starts, axis=0)
    return sums


DEFAULT_REDUCER: Reducer = UMAPReducer()


def cluster(
    vectors: NDArray[np.generic],
    params: ClusterParams = ClusterParams(),
    weights: NDArray[np.generic] | None = None,
    *,
    reducer: Reducer = DEFAULT_REDUCER,
) -> Clustering:
    """Cluster embedding rows by topic; see the module docstring for the rules.

    ``weights`` (one non-negative number per row, e.g. the copies of a collapsed campaign) do not
    change the clustering; they are kept for :attr:`Clustering.weighted_sizes`. ``reducer`` lays
    the rows out before HDBSCAN (seeded UMAP to 5 dimensions by default).
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
    fitted_count = min(usable_count, params.fit_limit or usable_count)
    min_cluster_size = params.min_cluster_size or default_min_cluster_size(fitted_count)
    min_samples = params.min_samples or default_min_samples(min_cluster_size)
    resolved = replace(params, min_cluster_size=min_cluster_size, min_samples=min_samples)

    labels = np.full(n, -1, dtype=np.int64)
    empty = Clustering(labels, np.zeros((0, dim)), 0, resolved, item_weights)
    if fitted_count < max(TINY_INPUT, 2 * min_cluster_size):
        return empty

    import hdbscan

    rows = np.flatnonzero(usable)
    left_out = np.zeros(0, dtype=np.int64)
    if fitted_count < usable_count:
        chosen = np.random.default_rng(params.seed).choice(
            usable_count, fitted_count, replace=False
        )
        in_sample = np.zeros(usable_count, dtype=bool)
        in_sample[chosen] = True
        rows, left_out = rows[in_sample], rows[~in_sample]
    reduced = np.asarray(
        reducer.fit_transform(np.asarray(unit[rows], dtype=np.float64), params.seed),
        dtype=np.float64,
    )
    if reducer.angular:
        # A row that projects onto the origin has no direction left; it stays "other".
        reduced, reduced_usable = _normalised(reduced)
    else:
        reduced_usable = np.all(np.isfinite(reduced), axis=1)
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
    if left_out.size:
        rows = np.concatenate([rows, left_out])
        found = np.concatenate(
            [found, _nearest_label(unit, left_out, unit[rows[: found.size]], found)]
        )

    core_centroids = _label_sums(unit, rows, found, k)
    core_centroids /= np.linalg.norm(core_centroids, axis=1, keepdims=True)
    labels[rows] = found

    outliers = rows[found < 0]
    reassigned = 0
    if outliers.size:
        similarity = unit[outliers] @ core_centroids.T.astype(np.float32)
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
    rows = _validated(vectors)
    label_array = np.asarray(labels).reshape(-1)
    if label_array.shape[0] != rows.shape[0]:
        raise ValueError("labels and vectors must have the same number of rows")
    # Only the cluster's own rows are normalised: called once per cluster on a 100,000-row
    # scope, normalising every row each time cost 20 s.
    members = np.flatnonzero(label_array == cluster_index)
    member_vectors, usable = _normalised(np.asarray(rows[members], dtype=np.float64))
    members, member_vectors = members[usable], member_vectors[usable]
    if count <= 0 or members.size == 0:
        return []
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
