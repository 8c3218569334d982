"""Opinion groups and bridging targets from a participant × target matrix of votes, as Polis
finds them.

The input holds +1 (pour, agree), 0 (mitigé, pass) and -1 (contre, disagree) and NaN where the
participant did not vote: a missing vote is *not* a mitigé. It is never counted as seen.

The pipeline (:func:`opinion_groups`)::

    keep targets with at least ``min_target_votes`` votes, then participants with at least
    ``min_participant_votes`` votes on the kept targets (Polis: 7)
    -> missing votes replaced by the target's mean vote, for the projection only
    -> PCA to 2 dimensions (``scale_by_votes``: each participant's point scaled by
       sqrt(targets / votes cast), as later Polis versions push out those who voted little;
       off by default: against the groups published with the Polis open data, mean adjusted
       Rand index 0.83 without, 0.76 with, ``python -m bench.opinions``)
    -> k-means for k in 2..5 (seeded), the k of best silhouette
    -> per group and target: votes seen, agrees, disagrees (the real votes, never the imputed)

Then, from the counts only:

- **representativeness** (Polis's ``repness``): a group's smoothed agree rate
  ``pa = (agrees + 1) / (seen + 2)`` against the rest's; what a group *supports* most distinctly
  has the highest ``pa · pa / pa_rest`` among the targets most of it agrees with, and what it
  *rejects* likewise with the disagree rate;
- **bridging** (Polis's group-informed consensus): the product over groups of
  ``(agrees + 1) / (seen + 2)``: high only when every group agrees; the same product of disagree
  rates says what every group rejects;
- **division**: the variance of the groups' smoothed agree rates.

Nothing here knows who the participants are: rows are positions, and the caller keeps the map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

# Polis keeps participants who voted on at least 7 statements.
MIN_PARTICIPANT_VOTES = 7
MIN_TARGET_VOTES = 1
GROUP_COUNTS = range(2, 6)
# Silhouette on at most this many points (a seeded sample above it): it is quadratic.
SILHOUETTE_SAMPLE = 4000
# Targets listed per group as what it supports or rejects most distinctly.
DISTINCT = 5

Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class Distinct:
    """A target a group supports (or rejects) more than the rest of the participants."""

    target: int
    """Column of the target in the input matrix."""
    rate: float
    """The group's smoothed agree (or disagree) rate, (n + 1) / (seen + 2)."""
    rest_rate: float
    """The same rate among the other groups' members."""

    @property
    def ratio(self) -> float:
        """How many times more the group agrees (or disagrees) than the rest."""
        return self.rate / self.rest_rate


@dataclass(frozen=True)
class Group:
    """An opinion group: its size, and what it supports and rejects most distinctly."""

    size: int
    supports: list[Distinct]
    rejects: list[Distinct]


@dataclass
class Opinions:
    """What :func:`opinion_groups` finds. Arrays are indexed by the input's rows and columns."""

    labels: NDArray[np.int64]
    """Group of each input row, from 0, largest group first; -1: left out (too few votes)."""
    targets: NDArray[np.bool_]
    """Targets kept (enough votes)."""
    groups: list[Group]
    seen: NDArray[np.int64]
    """groups × targets: votes cast (pour, mitigé or contre) by each group's members."""
    agrees: NDArray[np.int64]
    disagrees: NDArray[np.int64]
    silhouette: float
    """Mean silhouette of the chosen grouping (on a seeded sample above SILHOUETTE_SAMPLE)."""
    silhouettes: dict[int, float] = field(default_factory=dict)
    """Silhouette of each number of groups tried."""

    @property
    def participants(self) -> int:
        """Participants grouped (enough votes)."""
        return int((self.labels >= 0).sum())

    @property
    def agree_rates(self) -> Matrix:
        """groups × targets: smoothed agree rate (agrees + 1) / (seen + 2)."""
        return (self.agrees + 1.0) / (self.seen + 2.0)

    @property
    def disagree_rates(self) -> Matrix:
        """groups × targets: smoothed disagree rate (disagrees + 1) / (seen + 2)."""
        return (self.disagrees + 1.0) / (self.seen + 2.0)

    @property
    def consensus(self) -> Matrix:
        """Per target, group-informed consensus: product over groups of the agree rates
        (0 for targets left out)."""
        return np.where(self.targets, np.prod(self.agree_rates, axis=0), 0.0)

    @property
    def rejection(self) -> Matrix:
        """Per target, product over groups of the disagree rates (0 for targets left out)."""
        return np.where(self.targets, np.prod(self.disagree_rates, axis=0), 0.0)

    @property
    def division(self) -> Matrix:
        """Per target, variance of the groups' agree rates (0 for targets left out)."""
        return np.where(self.targets, np.var(self.agree_rates, axis=0), 0.0)

    def bridging(self, limit: int | None = None) -> list[int]:
        """Kept targets, highest consensus first (ties: lower column first)."""
        return _ranked(self.consensus, self.targets, limit)

    def dividing(self, limit: int | None = None) -> list[int]:
        """Kept targets, most divisive first (ties: lower column first)."""
        return _ranked(self.division, self.targets, limit)


def _ranked(score: Matrix, kept: NDArray[np.bool_], limit: int | None) -> list[int]:
    columns = np.flatnonzero(kept)
    order = columns[np.lexsort((columns, -score[columns]))]
    return [int(c) for c in (order if limit is None else order[:limit])]


def vote_counts(
    matrix: Matrix, labels: NDArray[np.int64], groups: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """groups × targets: votes seen, agrees and disagrees among each group's rows (rows with
    label -1 count nowhere; a missing vote is not seen)."""
    seen = np.zeros((groups, matrix.shape[1]), dtype=np.int64)
    agrees = np.zeros_like(seen)
    disagrees = np.zeros_like(seen)
    for g in range(groups):
        rows = matrix[labels == g]
        seen[g] = (~np.isnan(rows)).sum(axis=0)
        agrees[g] = (rows > 0).sum(axis=0)
        disagrees[g] = (rows < 0).sum(axis=0)
    return seen, agrees, disagrees


def kept(
    matrix: Matrix,
    min_participant_votes: int = MIN_PARTICIPANT_VOTES,
    min_target_votes: int = MIN_TARGET_VOTES,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Rows and columns kept: targets with at least ``min_target_votes`` votes, then
    participants with at least ``min_participant_votes`` votes on those targets."""
    voted = ~np.isnan(matrix)
    columns = voted.sum(axis=0) >= min_target_votes
    rows = voted[:, columns].sum(axis=1) >= min_participant_votes
    return rows, columns


def project(matrix: Matrix, seed: int = 0, scale_by_votes: bool = False) -> Matrix:
    """Rows × 2: the Polis projection of a vote matrix with NaN for missing votes."""
    voted = ~np.isnan(matrix)
    means = np.nanmean(np.where(voted.any(axis=0), matrix, 0.0), axis=0)
    means = np.nan_to_num(means)
    filled = np.where(voted, matrix, means)
    components = min(2, filled.shape[0], filled.shape[1])
    points = PCA(
        n_components=components,
        svd_solver="arpack" if components < min(filled.shape) else "full",
        random_state=seed,
    ).fit_transform(filled)
    if components < 2:
        points = np.hstack([points, np.zeros((points.shape[0], 2 - components))])
    if scale_by_votes:
        cast = np.maximum(voted.sum(axis=1), 1)
        points = points * np.sqrt(matrix.shape[1] / cast)[:, None]
    return np.asarray(points, dtype=np.float64)


def opinion_groups(
    matrix: Matrix,
    *,
    seed: int = 0,
    min_participant_votes: int = MIN_PARTICIPANT_VOTES,
    min_target_votes: int = MIN_TARGET_VOTES,
    group_counts: range = GROUP_COUNTS,
    distinct: int = DISTINCT,
    min_group_size: int = 1,
    scale_by_votes: bool = False,
    threads: int | None = 1,
) -> Opinions | None:
    """Opinion groups of a participants × targets matrix (+1, 0, -1, NaN missing); None when
    too few participants are left to form two groups. The same seed gives the same groups.

    ``min_group_size`` leaves out a number of groups whose smallest group is smaller (Polis:
    1, any size), so that no group's figures describe a handful of people.

    ``threads`` caps the BLAS and OpenMP threads during the call (None: leave them): k-means
    on a few thousand 2-d points is slower with threads on a busy machine (vtaiwan.uberx:
    4.4 s with both cores, 0.23 s with one).
    """
    with threadpool_limits(threads):
        return _opinion_groups(
            np.asarray(matrix, dtype=np.float64),
            seed,
            min_participant_votes,
            min_target_votes,
            group_counts,
            distinct,
            min_group_size,
            scale_by_votes,
        )


def _opinion_groups(
    matrix: Matrix,
    seed: int,
    min_participant_votes: int,
    min_target_votes: int,
    group_counts: range,
    distinct: int,
    min_group_size: int,
    scale_by_votes: bool,
) -> Opinions | None:
    rows, columns = kept(matrix, min_participant_votes, min_target_votes)
    tried = [k for k in group_counts if k < int(rows.sum())]
    if not tried or not columns.any():
        return None
    sub = matrix[np.ix_(rows, columns)]
    points = project(sub, seed, scale_by_votes)
    rng = np.random.default_rng(seed)
    sample = (
        np.sort(rng.choice(len(points), SILHOUETTE_SAMPLE, replace=False))
        if len(points) > SILHOUETTE_SAMPLE
        else np.arange(len(points))
    )
    best: tuple[float, int, NDArray[np.int64]] | None = None
    silhouettes: dict[int, float] = {}
    # People who voted alike sit on the same point: no more groups than distinct points.
    places = len(np.unique(points.round(9), axis=0))
    for k in (k for k in tried if k <= places):
        found = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(points)
        if len(set(found[sample].tolist())) < 2:
            continue
        if np.bincount(found, minlength=k).min() < min_group_size:
            continue
        # Rounded: the distances behind it are summed in an order that depends on the BLAS
        # threads of the moment, and a figure that moved in its tenth decimal between two runs
        # on the same votes would read as a different result.
        score = round(float(silhouette_score(points[sample], found[sample])), 6)
        silhouettes[k] = score
        if best is None or score > best[0]:
            best = (score, k, found.astype(np.int64))
    if best is None:
        return None
    score, k, found = best
    # Largest group first, so that group numbers mean the same on every run of the same seed.
    sizes = np.bincount(found, minlength=k)
    order = sorted(range(k), key=lambda g: (-sizes[g], g))
    renumber = np.empty(k, dtype=np.int64)
    renumber[order] = np.arange(k)
    labels = np.full(matrix.shape[0], -1, dtype=np.int64)
    labels[rows] = renumber[found]
    seen, agrees, disagrees = vote_counts(matrix, labels, k)
    seen[:, ~columns] = 0
    agrees[:, ~columns] = 0
    disagrees[:, ~columns] = 0
    result = Opinions(labels, columns, [], seen, agrees, disagrees, score, silhouettes)
    result.groups = _groups(result, k, distinct)
    return result


def _groups(result: Opinions, k: int, distinct: int) -> list[Group]:
    """Each group's size and what it supports and rejects most distinctly (Polis's repness:
    the group's smoothed rate against the rest's, among targets most of the group agrees or
    disagrees with)."""
    total_seen = result.seen.sum(axis=0)
    total_agrees = result.agrees.sum(axis=0)
    total_disagrees = result.disagrees.sum(axis=0)
    sizes = np.bincount(result.labels[result.labels >= 0], minlength=k)
    groups = []
    for g in range(k):
        rest_seen = total_seen - result.seen[g]
        picks = []
        for own, total in (
            (result.agrees[g], total_agrees),
            (result.disagrees[g], total_disagrees),
        ):
            rate = (own + 1.0) / (result.seen[g] + 2.0)
            rest = (total - own + 1.0) / (rest_seen + 2.0)
            # Most of the group's votes go that way, and more than among the rest.
            eligible = result.targets & (own * 2 > result.seen[g]) & (rate > rest)
            score = np.where(eligible, rate * rate / rest, -np.inf)
            columns = np.flatnonzero(eligible)
            order = columns[np.lexsort((columns, -score[columns]))][:distinct]
            picks.append([Distinct(int(c), float(rate[c]), float(rest[c])) for c in order])
        groups.append(Group(int(sizes[g]), picks[0], picks[1]))
    return groups
