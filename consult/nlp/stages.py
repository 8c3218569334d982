"""The stages of a synthesis, each behind a declared protocol, as BERTopic's constructor takes
each of its models: an embedder (:class:`consult.nlp.embed.Embedder`), a clusterer (with its
reducer), a labeller, a copy detector and a theme grouper.

A synthesis is assembled once from these objects; nothing downstream asks which implementation
it holds. Each stage states its settings (``describe``) for the report's method section, and
takes the run's seed as an argument, so one seed reaches every random step.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from consult.nlp.campaigns import CampaignParams, Copies, Item, detect_copies
from consult.nlp.cluster import (
    DEFAULT_REDUCER,
    Clustering,
    ClusterParams,
    Reducer,
    cluster,
)
from consult.nlp.label import ClusterLabel, label_clusters

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Settings = dict[str, object]


class Clusterer(Protocol):
    """Groups embedding rows by topic: a cluster index per row, or -1 ("other")."""

    def cluster(self, vectors: FloatArray, weights: FloatArray, seed: int) -> Clustering:
        """Cluster ``vectors`` (one row per text, ``weights`` the contributions behind each)."""
        ...

    def describe(self) -> Settings:
        """The stage's name and settings."""
        ...


class Labeller(Protocol):
    """Names each group: its keywords and a title."""

    def label(
        self,
        texts: Sequence[str],
        labels: IntArray,
        central: Mapping[int, int],
        weights: Sequence[float],
        headlines: Sequence[str],
    ) -> dict[int, ClusterLabel]:
        """Keywords and title of each group in ``labels`` (``central[c]``: its central text;
        ``headlines[i]``: the title line text ``i``'s author wrote, "" when none)."""
        ...

    def describe(self) -> Settings:
        """The stage's name and settings."""
        ...


class CopyDetector(Protocol):
    """Finds the texts posted as copies of one another: campaigns (one text, many authors)
    and reposts (one author posting a text again)."""

    def detect(self, items: Sequence[Item], seed: int) -> Copies:
        """Groups of copies among ``items``, campaigns and reposts apart (each item in at most
        one group of either kind)."""
        ...

    def describe(self) -> Settings:
        """The stage's name and settings."""
        ...


class ThemeGrouper(Protocol):
    """Gathers groups into themes from their centroids: a theme index per group."""

    def group(self, centroids: FloatArray) -> IntArray:
        """Theme of each row of ``centroids`` (L2-normalised rows), numbered from 0."""
        ...

    def describe(self) -> Settings:
        """The stage's name and settings."""
        ...


@dataclass(frozen=True)
class DensityClusterer:
    """A reduction (seeded UMAP to 5 dimensions by default), then HDBSCAN, then the outliers
    close enough to a cluster join it (see :mod:`consult.nlp.cluster`).

    Density needs numbers: under ``small_input`` rows (a small article) HDBSCAN finds nothing,
    and the rows are grouped by complete linkage instead: texts form a group only when every
    pair of them is within ``small_distance`` (cosine distance), a group has at least
    ``small_group`` texts, and the others stay "other" (so a few unrelated texts are listed as
    they are, while a few texts saying the same thing are grouped)."""

    reducer: Reducer = DEFAULT_REDUCER
    params: ClusterParams = field(default_factory=ClusterParams)
    small_input: int = 40
    small_distance: float = 0.6
    small_group: int = 2

    def cluster(self, vectors: FloatArray, weights: FloatArray, seed: int) -> Clustering:
        """Cluster the rows with this stage's settings and the run's seed."""
        params = replace(self.params, seed=seed)
        if vectors.shape[0] < self.small_input:
            return _linkage_clustering(
                vectors, params, weights, self.small_distance, self.small_group
            )
        return cluster(vectors, params, weights, reducer=self.reducer)

    def describe(self) -> Settings:
        """The reducer's settings and HDBSCAN's, and the grouping of small inputs."""
        settings: Settings = {"name": "hdbscan", "reducer": self.reducer.describe()}
        for key, value in asdict(self.params).items():
            if key != "seed":
                # An infinite bound (never) has no JSON spelling.
                settings[key] = "never" if isinstance(value, float) and math.isinf(value) else value
        settings["small_input"] = {
            "below": self.small_input,
            "name": "complete-linkage",
            "max_cosine_distance": self.small_distance,
            "min_group": self.small_group,
        }
        return settings


def _linkage_clustering(
    vectors: FloatArray,
    params: ClusterParams,
    weights: FloatArray,
    max_distance: float,
    min_group: int,
) -> Clustering:
    """Complete-linkage groups of at least ``min_group`` rows, numbered like :func:`cluster`'s
    (by decreasing size, ties by lowest row); zero rows and the rest are "other"."""
    n = vectors.shape[0]
    rows = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1)
    usable = np.flatnonzero(norms > 1e-12)
    labels = np.full(n, -1, dtype=np.int64)
    dimension = rows.shape[1] if rows.ndim == 2 else 0
    if usable.size >= min_group:
        unit = rows[usable] / norms[usable, None]
        found = LinkageThemes(max_distance).group(unit)
        sizes = Counter(found.tolist())
        kept = sorted(
            (t for t, size in sizes.items() if size >= min_group),
            key=lambda t: (-sizes[t], int(np.argmax(found == t))),
        )
        for position, name in enumerate(kept):
            labels[usable[found == name]] = position
    k = int(labels.max()) + 1 if n else 0
    centroids = np.zeros((k, dimension))
    for label in range(k):
        members = rows[labels == label]
        total = (members / np.linalg.norm(members, axis=1, keepdims=True)).sum(axis=0)
        centroids[label] = total / max(float(np.linalg.norm(total)), 1e-12)
    return Clustering(labels, centroids, 0, params, np.asarray(weights, dtype=np.float64))


@dataclass(frozen=True)
class KeywordLabeller:
    """Class-based TF-IDF keywords and a readable title (see :mod:`consult.nlp.label`)."""

    keywords: int = 8

    def label(
        self,
        texts: Sequence[str],
        labels: IntArray,
        central: Mapping[int, int],
        weights: Sequence[float],
        headlines: Sequence[str],
    ) -> dict[int, ClusterLabel]:
        """Keywords and title of each group."""
        return label_clusters(
            texts, labels, central, top_n=self.keywords, weights=weights, headlines=headlines
        )

    def describe(self) -> Settings:
        """How many keywords are kept."""
        return {"name": "c-tf-idf", "keywords": self.keywords}


@dataclass(frozen=True)
class ShingleCopyDetector:
    """MinHash over character shingles, verified (see :mod:`consult.nlp.campaigns`)."""

    params: CampaignParams = field(default_factory=CampaignParams)

    def detect(self, items: Sequence[Item], seed: int) -> Copies:
        """The campaigns and reposts, with the run's seed for the hash functions."""
        return detect_copies(items, replace(self.params, seed=seed))

    def describe(self) -> Settings:
        """The detector's thresholds."""
        settings: Settings = {"name": "minhash"}
        settings.update({k: v for k, v in asdict(self.params).items() if k != "seed"})
        return settings


@dataclass(frozen=True)
class LinkageThemes:
    """Complete-linkage agglomeration of the groups' centroids: two groups share a theme only
    when every pair of groups in it is within ``max_distance`` (cosine distance), so a theme
    never drifts from one subject to another through a chain of neighbours."""

    max_distance: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.max_distance <= 2.0:
            raise ValueError("max_distance is a cosine distance in (0, 2]")

    def group(self, centroids: FloatArray) -> IntArray:
        """Themes numbered by decreasing size, ties by their first group (deterministic)."""
        n = centroids.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        if n == 1:
            return np.zeros(1, dtype=np.int64)
        from scipy.cluster.hierarchy import fcluster, linkage  # type: ignore[import-untyped]
        from scipy.spatial.distance import pdist  # type: ignore[import-untyped]

        distances = np.clip(pdist(np.asarray(centroids, dtype=np.float64), "cosine"), 0.0, 2.0)
        tree = linkage(distances, method="complete")
        found = np.asarray(fcluster(tree, t=self.max_distance, criterion="distance"), np.int64)
        # Renumber by decreasing size, ties by lowest member: independent of scipy's order.
        names = sorted(
            set(found.tolist()),
            key=lambda t: (-int(np.sum(found == t)), int(np.argmax(found == t))),
        )
        index = {name: position for position, name in enumerate(names)}
        return np.asarray([index[int(t)] for t in found], dtype=np.int64)

    def describe(self) -> Settings:
        """The linkage and its bound."""
        return {"name": "complete-linkage", "max_cosine_distance": self.max_distance}
