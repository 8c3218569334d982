"""The synthesis pipeline on in-memory data: campaigns, then per scope cluster, label, represent.

This module knows nothing of the database: :mod:`consult.synthesis.runs` loads the
contributions and their stored vectors, calls :func:`find_campaigns` and :func:`synthesise_scope`
(each CPU-bound, run off the event loop), and saves what they return. Every function here is
deterministic: the same items, vectors and parameters give the same result.

A scope is the whole consultation (key ``""``) or one article (its provision key). Within a
scope, the copies of a campaign are collapsed into one unit, weighted by its number of copies,
so a form letter signed 5,000 times is one text for the clustering (it cannot become a dense
cluster of its own) while every signature is still counted in the sizes and vote splits.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from consult.nlp.campaigns import Campaign, CampaignParams, detect_campaigns
from consult.nlp.campaigns import Item as CampaignItem
from consult.nlp.cluster import ClusterParams, central_items, cluster

CONSULTATION_SCOPE = ""
OTHER = -1
# Amendment ids listed per cluster; the counts cover them all.
MAX_LISTED_AMENDMENTS = 50
# Rows laid out by UMAP in an article's scope. On the 5,764 Austrian climate-council comments
# (one theme, the size of a busy article), seeds 0-4: 2,000 rows gave 19 % "other" and a
# V-measure of 0.181 in 2.4 s, 4,000 rows 23 % and 0.179 in 5.0 s (bench/README.md). A whole
# consultation, with many more topics, keeps ClusterParams.fit_limit (4,000).
ARTICLE_FIT_LIMIT = 2_000


@dataclass(frozen=True)
class Item:
    """One contribution as the synthesis sees it."""

    id: int
    article_key: str
    kind: str
    stance: str | None
    text: str
    author: str
    created_at: datetime
    votes_for: int = 0
    votes_mixed: int = 0
    votes_against: int = 0


@dataclass(frozen=True)
class SynthesisParams:
    """Every setting that changes a report; stored with each run."""

    seed: int = 0
    quotes: int = 5
    keywords: int = 8
    cluster: ClusterParams = field(default_factory=ClusterParams)
    campaigns: CampaignParams = field(default_factory=CampaignParams)
    article_fit_limit: int | None = ARTICLE_FIT_LIMIT
    """The rows laid out and clustered in an article's scope (``cluster.fit_limit`` applies to
    the consultation's scope); ``None``: the same as the consultation's."""

    def cluster_params(self, scope: str) -> ClusterParams:
        """The clustering settings of a scope."""
        if scope == CONSULTATION_SCOPE or self.article_fit_limit is None:
            return self.cluster
        return replace(self.cluster, fit_limit=self.article_fit_limit)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON for the run record and the report."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SynthesisParams:
        """Inverse of :meth:`as_json` (unknown keys are ignored, missing ones defaulted)."""
        cluster_fields = ClusterParams.__dataclass_fields__
        campaign_fields = CampaignParams.__dataclass_fields__
        return cls(
            seed=int(data.get("seed", 0)),
            quotes=int(data.get("quotes", 5)),
            keywords=int(data.get("keywords", 8)),
            cluster=ClusterParams(
                **{k: v for k, v in data.get("cluster", {}).items() if k in cluster_fields}
            ),
            campaigns=CampaignParams(
                **{k: v for k, v in data.get("campaigns", {}).items() if k in campaign_fields}
            ),
            # Runs recorded before this setting existed laid articles out like the whole.
            article_fit_limit=data.get("article_fit_limit"),
        )


@dataclass
class ClusterResult:
    """One cluster of a scope (``position == -1``: the "other" group)."""

    position: int
    title: str
    keywords: tuple[str, ...]
    members: list[int]
    """Indexes into the run's items, every copy of a campaign included."""
    units: int
    """Texts clustered (a campaign counts once)."""
    quotes: list[int]
    """Item indexes of the representative contributions, most central first."""
    x: float
    y: float
    votes: tuple[int, int, int] = (0, 0, 0)
    stances: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    amendments: list[int] = field(default_factory=list)
    """Item indexes of the amendments in the cluster (at most :data:`MAX_LISTED_AMENDMENTS`)."""


@dataclass
class ScopeResult:
    """The clusters of one scope, "other" last, and where each member sits on the map."""

    scope: str
    clusters: list[ClusterResult]
    coordinates: dict[int, tuple[float, float]]
    """Item index -> (x, y) in [0, 1]², from a seeded 2-d projection of the scope's texts."""
    too_small: bool

    @property
    def size(self) -> int:
        """Contributions in the scope."""
        return sum(len(c.members) for c in self.clusters)


def input_hash(model_id: str, params: SynthesisParams, items: Sequence[Item]) -> str:
    """SHA-256 of everything a report is computed from: model, parameters and every item.

    Two runs with the same hash produce the same report. Items are hashed in id order with
    their text, place, kind, stance and vote counts (the vote bars are part of the report).
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps({"model": model_id, "params": params.as_json()}, sort_keys=True).encode()
    )
    for item in sorted(items, key=lambda item: item.id):
        record = [
            item.id,
            item.article_key,
            item.kind,
            item.stance,
            hashlib.sha256(item.text.encode()).hexdigest(),
            item.author,
            item.votes_for,
            item.votes_mixed,
            item.votes_against,
        ]
        digest.update(json.dumps(record).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def find_campaigns(items: Sequence[Item], params: CampaignParams) -> list[Campaign]:
    """Copy-paste campaigns among the items, over the whole consultation."""
    return detect_campaigns(
        [CampaignItem(item.id, item.text, item.author, item.created_at) for item in items], params
    )


def _units(
    members: Sequence[int],
    items: Sequence[Item],
    campaign_of: dict[int, int],
    representative_of: dict[int, int],
) -> tuple[list[int], dict[int, list[int]]]:
    """Collapse the scope's campaign copies: unit item indexes and the members behind each.

    The unit of a campaign is its representative when the representative is in the scope,
    otherwise its first member in the scope, so a unit's text is always a real contribution.
    """
    behind: dict[int, list[int]] = {}
    by_campaign: dict[int, list[int]] = defaultdict(list)
    for index in members:
        campaign = campaign_of.get(items[index].id)
        if campaign is None:
            behind[index] = [index]
        else:
            by_campaign[campaign].append(index)
    for campaign, copies in by_campaign.items():
        representative = representative_of[campaign]
        unit = next((i for i in copies if items[i].id == representative), min(copies))
        behind[unit] = sorted(copies)
    units = sorted(behind)
    return units, behind


def _projection(vectors: NDArray[np.float32], seed: int) -> NDArray[np.float64]:
    """Seeded 2-d PCA projection scaled to [0, 1]² (a map, not a measure: axes mean nothing)."""
    n = vectors.shape[0]
    if n == 0:
        return np.zeros((0, 2))
    centred = vectors.astype(np.float64) - vectors.mean(axis=0, dtype=np.float64)
    if n < 3 or not np.any(centred):
        return np.full((n, 2), 0.5)
    from sklearn.decomposition import PCA

    # The seeded randomized solver is as reproducible and, from a few thousand rows, several
    # times faster; two components of a map need no exact decomposition.
    solver = "full" if n <= 2_000 else "randomized"
    points = PCA(n_components=2, svd_solver=solver, random_state=seed).fit_transform(centred)
    # Fix the sign of each axis so the map does not flip between equivalent solutions.
    for axis in range(2):
        column = points[:, axis]
        if column[np.argmax(np.abs(column))] < 0:
            points[:, axis] = -column
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 1e-12, high - low, 1.0)
    return np.asarray((points - low) / span, dtype=np.float64)


def synthesise_scope(
    scope: str,
    members: Sequence[int],
    items: Sequence[Item],
    vectors: NDArray[np.float32],
    campaigns: Sequence[Campaign],
    params: SynthesisParams,
    labeller: Callable[..., dict[int, Any]] | None = None,
) -> ScopeResult:
    """Cluster, label and describe the items of one scope.

    ``members`` are indexes into ``items`` and ``vectors`` (row ``i`` is item ``i``'s vector,
    a zero row for a text empty once prepared). Every member ends in exactly one cluster or in
    "other"; the copies of a campaign all end where their unit does.
    """
    if labeller is None:
        from consult.nlp.label import label_clusters

        labeller = label_clusters

    campaign_of = {member: position for position, c in enumerate(campaigns) for member in c.members}
    representative_of = {position: c.representative for position, c in enumerate(campaigns)}
    units, behind = _units(members, items, campaign_of, representative_of)
    unit_vectors = (
        vectors[units]
        if units
        else np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32)
    )
    weights = np.array([len(behind[u]) for u in units], dtype=np.float64)
    clustering = cluster(unit_vectors, params.cluster_params(scope), weights)
    labels = clustering.labels
    k = clustering.centroids.shape[0]

    points = _projection(unit_vectors, params.seed)
    coordinates: dict[int, tuple[float, float]] = {}
    for row, unit in enumerate(units):
        point = (float(points[row, 0]), float(points[row, 1]))
        for member in behind[unit]:
            coordinates[member] = point

    central = {c: central_items(unit_vectors, labels, c, params.quotes) for c in range(k)}
    names = (
        labeller(
            [items[u].text for u in units],
            labels,
            {c: rows[0] for c, rows in central.items() if rows},
            top_n=params.keywords,
            weights=weights.tolist(),
        )
        if k
        else {}
    )

    results = []
    for position in [*range(k), OTHER]:
        rows = np.flatnonzero(labels == position)
        if position == OTHER and rows.size == 0:
            continue
        cluster_members = sorted(member for row in rows for member in behind[units[row]])
        label = names.get(position) if position != OTHER else None
        centre = points[rows].mean(axis=0) if rows.size else np.array([0.5, 0.5])
        results.append(
            _describe(
                ClusterResult(
                    position=position,
                    title=label.title if label is not None else "",
                    keywords=tuple(label.keywords) if label is not None else (),
                    members=cluster_members,
                    units=int(rows.size),
                    quotes=[units[row] for row in central.get(position, [])],
                    x=float(centre[0]),
                    y=float(centre[1]),
                ),
                items,
            )
        )
    return ScopeResult(scope=scope, clusters=results, coordinates=coordinates, too_small=k == 0)


def _describe(result: ClusterResult, items: Sequence[Item]) -> ClusterResult:
    """Add the vote split, stance and kind counts, and the amendments of a cluster."""
    votes = [0, 0, 0]
    stances: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    amendments: list[int] = []
    for index in result.members:
        item = items[index]
        votes[0] += item.votes_for
        votes[1] += item.votes_mixed
        votes[2] += item.votes_against
        kinds[item.kind] += 1
        if item.stance:
            stances[item.stance] += 1
        if item.kind == "amendment" and len(amendments) < MAX_LISTED_AMENDMENTS:
            amendments.append(index)
    result.votes = (votes[0], votes[1], votes[2])
    result.stances = dict(sorted(stances.items()))
    result.kinds = dict(sorted(kinds.items()))
    result.amendments = amendments
    return result


def scopes_of(items: Sequence[Item]) -> dict[str, list[int]]:
    """The consultation scope (every item), then one scope per article, in order of each
    article's first contribution by id (reports order articles as the bill does)."""
    scopes: dict[str, list[int]] = {CONSULTATION_SCOPE: list(range(len(items)))}
    for index, item in sorted(enumerate(items), key=lambda pair: pair[1].id):
        scopes.setdefault(item.article_key, []).append(index)
    return scopes
