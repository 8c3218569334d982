"""Topic clustering quality on real labelled text.

    .venv/bin/python -m bench.clustering

Embeds each data set with the packaged USE multilingual model, then, for several settings of
:func:`consult.nlp.cluster.cluster` and a k-means baseline (k = number of gold classes), prints
N, the clustering time, the outlier rate before and after reassignment, and the V-measure on the
items kept in a cluster and on all items (with "other" as a class of its own).

Data sets, read from ``../shared/data`` beside the repository (skipped with a message when
absent):

- the five Austrian climate-council Polis conversations (German citizen comments); each
  conversation is one topic, so the gold label is the conversation the comment belongs to;
- MasakhaNEWS-fr dev (French news), gold = category, embedding headline + text as in MTEB.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn.metrics import v_measure_score

from consult.nlp.cluster import ClusterParams, cluster, default_min_cluster_size
from consult.nlp.embed import UniversalSentenceEncoder

DATA = Path(__file__).parents[1] / ".." / "shared" / "data"

# (label, params for a data set of N texts); sizes left at None use the default rules of
# consult.nlp.cluster (printed as [min_cluster_size/min_samples]).
SETTINGS: list[tuple[str, Callable[[int], ClusterParams]]] = [
    ("pca5", lambda n: ClusterParams(dimensions=5)),
    ("pca8 (default)", lambda n: ClusterParams()),
    ("pca10", lambda n: ClusterParams(dimensions=10)),
    ("pca20", lambda n: ClusterParams(dimensions=20)),
    ("raw", lambda n: ClusterParams(reducer="none")),
    ("pca8 mcs=10", lambda n: ClusterParams(min_cluster_size=10)),
    ("pca8 mcs=N/100", lambda n: ClusterParams(min_cluster_size=max(5, n // 100))),
    (
        "pca8 ms=mcs",
        lambda n: ClusterParams(
            min_cluster_size=default_min_cluster_size(n), min_samples=default_min_cluster_size(n)
        ),
    ),
    ("pca8 reassign 0.4", lambda n: ClusterParams(reassign_similarity=0.4)),
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
        f"{label:<26} {n:>6} {k:>4} {seconds:>7.2f} {before:>8.1%} {after:>8.1%} "
        f"{v_kept:>7.3f} {v_all:>7.3f}"
    )


def run(dataset: Dataset, embedder: UniversalSentenceEncoder) -> None:
    start = time.perf_counter()
    vectors = embedder.embed(dataset.texts)
    n = len(dataset.texts)
    print(
        f"\n{dataset.name}: {n} texts, {len(set(dataset.gold))} gold classes, "
        f"embedded in {time.perf_counter() - start:.1f} s"
    )
    print(
        f"{'setting':<26} {'N':>6} {'k':>4} {'time s':>7} {'out pre':>8} {'out post':>8} "
        f"{'V kept':>7} {'V all':>7}"
    )
    for label, make_params in SETTINGS:
        params = make_params(n)
        start = time.perf_counter()
        result = cluster(vectors, params)
        seconds = time.perf_counter() - start
        before = (float(np.count_nonzero(result.labels < 0)) + result.reassigned) / n
        name = f"{label} [{result.params.min_cluster_size}/{result.params.min_samples}]"
        print(_row(name, n, seconds, result.labels, dataset.gold, before, len(result.sizes)))
    classes = len(set(dataset.gold))
    start = time.perf_counter()
    kmeans = KMeans(n_clusters=classes, n_init=10, random_state=0).fit(vectors)
    seconds = time.perf_counter() - start
    labels = np.asarray(kmeans.labels_, dtype=np.int64)
    print(_row(f"k-means k={classes}", n, seconds, labels, dataset.gold, 0.0, classes))


def main() -> None:
    _csv_field_limit()
    embedder = UniversalSentenceEncoder()
    print("sizes shown as [min_cluster_size/min_samples]; V = V-measure against the gold labels")
    for loader in (load_austria, load_masakhanews):
        dataset = loader()
        if dataset is not None:
            run(dataset, embedder)


if __name__ == "__main__":
    main()
