"""Topic clustering quality on real labelled text.

    .venv/bin/python -m bench.clustering [--scale]

Embeds each data set with the packaged USE multilingual model (cached in ``.bench-cache/``),
then, for several settings of :func:`consult.nlp.cluster.cluster` and a k-means baseline
(k = number of gold classes), prints N, the clustering time (wall clock, and the CPU time of all
threads, steadier on a shared machine), the outlier rate before and after reassignment, and the
V-measure on the items kept in a cluster and on all items (with "other" as a class of its own).
``--scale`` also times the main settings on 100,000 synthetic rows.

Data sets, read from ``../shared/data`` beside the repository (skipped with a message when
absent):

- the five Austrian climate-council Polis conversations (German citizen comments); each
  conversation is one topic, so the gold label is the conversation the comment belongs to;
- MasakhaNEWS-fr dev (French news), gold = category, embedding headline + text as in MTEB.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn.metrics import v_measure_score

from consult.nlp.cluster import (
    ClusterParams,
    IdentityReducer,
    PCAReducer,
    Reducer,
    UMAPReducer,
    cluster,
    default_min_cluster_size,
)
from consult.nlp.embed import UniversalSentenceEncoder

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"
# Embeddings of the data sets, keyed by model and texts: embedding 6,000 texts takes minutes on
# two cores, clustering them seconds. The folder ignores itself, so nothing of it is committed.
CACHE = Path(__file__).parents[1] / ".bench-cache"

# (label, params and reducer for a data set of N texts); sizes left at None use the default rules of
# consult.nlp.cluster (printed as [min_cluster_size/min_samples]). "all rows" settings reduce and
# cluster every row; the others a seeded sample of at most fit_limit (default 4,000) rows, the
# rest being labelled by their nearest sampled rows.
UMAP5, UMAP10, RAW = UMAPReducer(), UMAPReducer(dimensions=10), IdentityReducer()
PCA5, PCA8, PCA10, PCA20 = PCAReducer(5), PCAReducer(8), PCAReducer(10), PCAReducer(20)
Setting = tuple[ClusterParams, Reducer]
SETTINGS: list[tuple[str, Callable[[int], Setting]]] = [
    ("umap5 (default)", lambda n: (ClusterParams(), UMAP5)),
    ("umap5 all rows", lambda n: (ClusterParams(fit_limit=None), UMAP5)),
    ("umap5 fit 2000", lambda n: (ClusterParams(fit_limit=2_000), UMAP5)),
    ("umap5 mcs=10", lambda n: (ClusterParams(min_cluster_size=10), UMAP5)),
    (
        "umap5 all rows mcs=10",
        lambda n: (ClusterParams(min_cluster_size=10, fit_limit=None), UMAP5),
    ),
    ("umap10", lambda n: (ClusterParams(), UMAP10)),
    ("umap5 reassign inf", lambda n: (ClusterParams(reassign_similarity=float("inf")), UMAP5)),
    ("pca5 all rows", lambda n: (ClusterParams(fit_limit=None), PCA5)),
    ("pca8 all rows", lambda n: (ClusterParams(fit_limit=None), PCA8)),
    ("pca8", lambda n: (ClusterParams(), PCA8)),
    ("pca10 all rows", lambda n: (ClusterParams(fit_limit=None), PCA10)),
    ("pca20 all rows", lambda n: (ClusterParams(fit_limit=None), PCA20)),
    ("raw all rows", lambda n: (ClusterParams(fit_limit=None), RAW)),
    ("pca8 all rows mcs=10", lambda n: (ClusterParams(min_cluster_size=10, fit_limit=None), PCA8)),
    (
        "pca8 all rows ms=mcs",
        lambda n: (
            ClusterParams(
                fit_limit=None,
                min_cluster_size=default_min_cluster_size(n),
                min_samples=default_min_cluster_size(n),
            ),
            PCA8,
        ),
    ),
    (
        "pca8 all rows reassign 0.4",
        lambda n: (ClusterParams(fit_limit=None, reassign_similarity=0.4), PCA8),
    ),
]
# Settings timed on a synthetic corpus of SCALE rows (see scale()).
SCALE = 100_000
SCALE_SETTINGS: list[tuple[str, Setting]] = [
    ("umap5 (default)", (ClusterParams(), UMAP5)),
    ("umap5 fit 2000", (ClusterParams(fit_limit=2_000), UMAP5)),
    ("umap5 fit 8000", (ClusterParams(fit_limit=8_000), UMAP5)),
    ("pca8", (ClusterParams(), PCA8)),
    ("pca8 all rows", (ClusterParams(fit_limit=None), PCA8)),
]


@dataclass
class Dataset:
    name: str
    texts: list[str]
    gold: list[str]


def _csv_field_limit() -> None:
    # Some comments are long; the csv module's default field limit is 128 KiB.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def load_austria() -> Dataset | None:
    folders = sorted((DATA / "polis-opendata").glob("austria-climate.*"))
    if not folders:
        print(f"skip austria-climate: no {DATA / 'polis-opendata'}/austria-climate.* folder")
        return None
    texts: list[str] = []
    gold: list[str] = []
    for folder in folders:
        with (folder / "comments.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts.append(row["comment-body"])
                gold.append(folder.name)
    return Dataset(f"austria-climate ({len(folders)} conversations)", texts, gold)


def load_masakhanews() -> Dataset | None:
    path = DATA / "masakhanews-fra-dev" / "dev.tsv"
    if not path.exists():
        print(f"skip masakhanews-fr: no {path}")
        return None
    texts: list[str] = []
    gold: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            texts.append(f"{row['headline']} {row['text']}")
            gold.append(row["category"])
    return Dataset("masakhanews-fr dev", texts, gold)


def embeddings(dataset: Dataset, embedder: UniversalSentenceEncoder) -> NDArray[np.float64]:
    """The data set's vectors, from :data:`CACHE` when the same model embedded the same texts."""
    digest = hashlib.sha256(embedder.model_id.encode())
    for text in dataset.texts:
        digest.update(text.encode())
        digest.update(b"\0")
    path = CACHE / f"{digest.hexdigest()[:24]}.npy"
    if path.exists():
        cached: NDArray[np.float64] = np.load(path)
        return cached
    vectors = np.asarray(embedder.embed(dataset.texts), dtype=np.float64)
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n", encoding="utf-8")
    np.save(path, vectors)
    return vectors


def _row(
    label: str,
    n: int,
    seconds: float,
    labels: NDArray[np.int64],
    gold: list[str],
    before: float,
    k: int,
) -> str:
    kept = labels >= 0
    gold_array = np.asarray(gold)
    v_kept = v_measure_score(gold_array[kept], labels[kept]) if kept.any() else 0.0
    v_all = v_measure_score(gold_array, labels)
    after = float(np.count_nonzero(~kept)) / n
    return (
        f"{label:<34} {n:>6} {k:>4} {seconds:>7.2f} {before:>8.1%} {after:>8.1%} "
        f"{v_kept:>7.3f} {v_all:>7.3f}"
    )


def run(dataset: Dataset, embedder: UniversalSentenceEncoder) -> None:
    start = time.perf_counter()
    vectors = embeddings(dataset, embedder)
    n = len(dataset.texts)
    print(
        f"\n{dataset.name}: {n} texts, {len(set(dataset.gold))} gold classes, "
        f"embedded (or read from {CACHE.name}/) in {time.perf_counter() - start:.1f} s"
    )
    print(
        f"{'setting':<34} {'N':>6} {'k':>4} {'time s':>7} {'out pre':>8} {'out post':>8} "
        f"{'V kept':>7} {'V all':>7} {'cpu s':>6}"
    )
    for label, make_setting in SETTINGS:
        params, reducer = make_setting(n)
        start, cpu = time.perf_counter(), time.process_time()
        result = cluster(vectors, params, reducer=reducer)
        seconds = time.perf_counter() - start
        before = (float(np.count_nonzero(result.labels < 0)) + result.reassigned) / n
        name = f"{label} [{result.params.min_cluster_size}/{result.params.min_samples}]"
        row = _row(name, n, seconds, result.labels, dataset.gold, before, len(result.sizes))
        print(f"{row} {time.process_time() - cpu:>6.1f}")
    classes = len(set(dataset.gold))
    start = time.perf_counter()
    kmeans = KMeans(n_clusters=classes, n_init=10, random_state=0).fit(vectors)
    seconds = time.perf_counter() - start
    labels = np.asarray(kmeans.labels_, dtype=np.int64)
    print(_row(f"k-means k={classes}", n, seconds, labels, dataset.gold, 0.0, classes))


def warm_up() -> None:
    """Pay UMAP's one-off import and numba compilation before anything is timed."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    cluster(rng.normal(size=(300, 16)))
    print(
        f"first UMAP clustering of the process (import + numba compilation): "
        f"{time.perf_counter() - start:.1f} s"
    )


def scale(vectors: NDArray[np.float64], rows: int = SCALE) -> None:
    """Time the settings of :data:`SCALE_SETTINGS` on ``rows`` rows made from real vectors.

    Each real vector is repeated with a small random perturbation, so the corpus keeps the real
    topic structure at a size no labelled set has; only the time is meaningful here.
    """
    rng = np.random.default_rng(0)
    unit = vectors[np.linalg.norm(vectors, axis=1) > 0]
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    big = unit[rng.integers(0, unit.shape[0], size=rows)]
    big = big + rng.normal(scale=0.3 / np.sqrt(big.shape[1]), size=big.shape)
    print(f"\nsynthetic corpus: {rows} rows from {unit.shape[0]} real vectors")
    print(f"{'setting':<34} {'N':>6} {'k':>4} {'time s':>7} {'out post':>8} {'cpu s':>6}")
    for label, (params, reducer) in SCALE_SETTINGS:
        start, cpu = time.perf_counter(), time.process_time()
        result = cluster(big, params, reducer=reducer)
        seconds = time.perf_counter() - start
        print(
            f"{label:<34} {rows:>6} {len(result.sizes):>4} {seconds:>7.2f} "
            f"{result.outlier_rate:>8.1%} {time.process_time() - cpu:>6.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        action="store_true",
        help=f"also time the default settings on {SCALE:,} synthetic rows",
    )
    options = parser.parse_args()
    _csv_field_limit()
    embedder = UniversalSentenceEncoder()
    warm_up()
    print("sizes shown as [min_cluster_size/min_samples]; V = V-measure against the gold labels")
    austria = None
    for loader in (load_austria, load_masakhanews):
        dataset = loader()
        if dataset is not None:
            run(dataset, embedder)
            austria = austria or (dataset if loader is load_austria else None)
    if options.scale and austria is not None:
        scale(embeddings(austria, embedder))


if __name__ == "__main__":
    main()
