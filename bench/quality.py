"""Our clustering beside BERTopic's default pipeline, on the same embeddings and gold labels.

    .venv/bin/python -m bench.quality [--runs 5] [--fit-limit 4000] [--republique also|only|no]

First the République numérique consultation (dev half) goes through the whole product, as in
``python -m bench.republique`` (seeds 0 to 2 at most): its two levels scored beside k-means and
BERTopic's recipe on the same vectors. Then, on the clustering stage alone:

For each labelled data set of :mod:`bench.clustering` (the five Austrian climate-council Polis
conversations, gold = the conversation; MasakhaNEWS-fr dev, headline + text as in MTEB, gold =
the category), embedded once with the packaged USE multilingual model (cached in
``.bench-cache/``), prints N, the number of clusters, the time, the outlier rate and the
V-measure on all items ("other" counted as a class) and on the clustered items only, for:

- ``consult``: :func:`consult.nlp.cluster.cluster` with its defaults (run i with seed i);
- ``BERTopic``: ``BERTopic(embedding_model=None)`` fitted with the precomputed embeddings, i.e.
  its defaults: UMAP (15 neighbours, 5 dimensions, ``min_dist`` 0, cosine, unseeded so
  parallel), HDBSCAN (``min_cluster_size`` 10, eom), no outlier reduction. Its time includes
  its topic representation (c-TF-IDF over the texts), which ours leaves to a later stage.

BERTopic is optional (``pip install -e '.[bench]'``); without it only our side is printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import v_measure_score

from bench import republique
from bench.clustering import (
    Dataset,
    _csv_field_limit,
    embeddings,
    load_austria,
    load_masakhanews,
)
from consult.nlp.cluster import ClusterParams, cluster
from consult.nlp.embed import UniversalSentenceEncoder

IntArray = NDArray[np.int64]
# A pipeline: (data set, its vectors, run number) -> labels, -1 for outliers.
Pipeline = Callable[[Dataset, NDArray[np.float64], int], IntArray]


FIT_LIMIT = ClusterParams().fit_limit


def ours(dataset: Dataset, vectors: NDArray[np.float64], run: int) -> IntArray:
    # Run i uses seed i: the spread over seeds is part of what is measured.
    return cluster(vectors, ClusterParams(seed=run, fit_limit=FIT_LIMIT)).labels


def bertopic(dataset: Dataset, vectors: NDArray[np.float64], run: int) -> IntArray:
    from bertopic import BERTopic  # type: ignore[import-untyped]

    # Unseeded, as by default: each run differs, and UMAP uses every core.
    topics, _ = BERTopic(embedding_model=None).fit_transform(dataset.texts, embeddings=vectors)
    return np.asarray(topics, dtype=np.int64)


def scores(labels: IntArray, gold: list[str]) -> tuple[int, float, float, float]:
    """Clusters, outlier rate, V-measure of all items ("other" a class), of clustered items."""
    kept = labels >= 0
    gold_array = np.asarray(gold)
    v_kept = v_measure_score(gold_array[kept], labels[kept]) if kept.any() else 0.0
    clusters = len(set(labels[kept].tolist()))
    return clusters, float(np.mean(~kept)), v_measure_score(gold_array, labels), v_kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="runs per pipeline and data set (default 5)"
    )
    parser.add_argument(
        "--fit-limit",
        type=int,
        default=ClusterParams().fit_limit,
        help="rows laid out by UMAP (4,000 for a consultation, 2,000 for an article)",
    )
    parser.add_argument(
        "--republique",
        choices=("also", "only", "no"),
        default="also",
        help=(
            "the République numérique dev half through the whole product, both levels scored "
            "beside k-means and BERTopic (bench/republique.py): also (default), only, or no"
        ),
    )
    arguments = parser.parse_args()
    if arguments.republique != "no":
        republique.run(range(min(arguments.runs, 3)))
        if arguments.republique == "only":
            return
    runs = max(1, arguments.runs)
    global FIT_LIMIT
    FIT_LIMIT = arguments.fit_limit
    _csv_field_limit()
    embedder = UniversalSentenceEncoder()
    pipelines: list[tuple[str, Pipeline]] = [("consult", ours)]
    if importlib.util.find_spec("bertopic") is None:
        print("BERTopic is not installed: pip install -e '.[bench]' to compare with it")
    else:
        pipelines.append(("BERTopic", bertopic))
    datasets = [dataset for dataset in (load_austria(), load_masakhanews()) if dataset]
    if not datasets:
        return
    vectors = {dataset.name: embeddings(dataset, embedder) for dataset in datasets}

    print(
        f"mean (and standard deviation) over {runs} runs: consult with seeds 0..{runs - 1}, "
        "BERTopic unseeded; time excludes the first run of each (numba compilation)"
    )
    print(
        f"{'data set':<20} {'pipeline':<10} {'N':>6} {'k':>5} {'time s':>7} "
        f"{'outliers':>14} {'V all':>14} {'V clustered':>14}"
    )
    for dataset in datasets:
        short = dataset.name.split(" (")[0]
        gold = dataset.gold
        for name, pipeline in pipelines:
            pipeline(dataset, vectors[dataset.name], 0)  # untimed: compiles numba code
            results, seconds = [], []
            for run in range(runs):
                start = time.perf_counter()
                labels = pipeline(dataset, vectors[dataset.name], run)
                seconds.append(time.perf_counter() - start)
                results.append(scores(labels, gold))
            table = np.asarray(results)
            mean, spread = table.mean(axis=0), table.std(axis=0)
            print(
                f"{short:<20} {name:<10} {len(gold):>6} {mean[0]:>5.0f} "
                f"{float(np.mean(seconds)):>7.2f} "
                f"{mean[1]:>7.1%} ±{spread[1]:>5.1%} "
                f"{mean[2]:>7.3f} ±{spread[2]:>5.3f} {mean[3]:>7.3f} ±{spread[3]:>5.3f}"
            )


if __name__ == "__main__":
    main()
