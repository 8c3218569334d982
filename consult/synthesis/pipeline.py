"""The synthesis on in-memory data: groups per article, then themes across the consultation.

This module knows nothing of the database: :mod:`consult.synthesis.runs` loads the
contributions and their stored vectors, calls :func:`find_copies`, :func:`synthesise_article`
for each article and :func:`gather_themes` once (each CPU-bound, run off the event loop), and
saves what they return. Every function here is deterministic: the same items, vectors,
parameters and stages give the same result.

Two levels, following how a ministry answers:

- **Article groups** (scope: the article's key) are the unit an official answers; each lies
  inside exactly one article. Contributions go with what they discuss: an argument on an
  amendment, and anything below it, is in its target's group. A contribution discussed by at
  least ``discussion_size`` contributions (itself included) is a *discussion*, a group of its
  own; the other contributions of the article are clustered by topic. A contribution that fits
  no group closely enough stays in the article's "other" group, listed as it is.
- **Themes** (scope ``""``) are for reading: each gathers article groups of one subject across
  articles (a contribution's theme is its article group's), and lists the groups it gathers.

Within an article the copies of one text are collapsed into one unit, so a form letter signed
5,000 times is one text for the clustering (it cannot become a dense group of its own), while
every signature stays a member. Both kinds of copies are collapsed: a campaign (many authors,
one text) and a repost group (one author posting the same text again); a campaign with enough
copies on the article is a group of its own, a repost group never is (it is one voice).
Arguments are for or against their own target: a group counts them per target and never adds
the stances (or votes) of different targets together.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from consult.nlp.campaigns import Campaign, Copies
from consult.nlp.campaigns import Item as CopyItem
from consult.nlp.cluster import ClusterParams, UMAPReducer, central_items
from consult.nlp.embed import Embedder
from consult.nlp.stages import (
    Clusterer,
    CopyDetector,
    DensityClusterer,
    KeywordLabeller,
    Labeller,
    LinkageThemes,
    ShingleCopyDetector,
    ThemeGrouper,
)

CONSULTATION_SCOPE = ""
OTHER = -1
# Amendment ids listed per group; the counts cover them all.
MAX_LISTED_AMENDMENTS = 50
# Rows laid out by UMAP in an article. On the 5,764 Austrian climate-council comments (one
# theme, the size of a busy article), seeds 0-4: 2,000 rows gave 19 % "other" and a V-measure
# of 0.181 in 2.4 s, 4,000 rows 23 % and 0.179 in 5.0 s (bench/README.md).
ARTICLE_FIT_LIMIT = 2_000
# Parent links followed at most this far up to a thread's root (threads stop at 3 replies).
_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Item:
    """One contribution as the synthesis sees it (slots: a run holds a million of them)."""

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
    parent_id: int | None = None
    """The contribution it argues about or replies to (None: the article itself)."""
    headline: str = ""
    """The title line its author wrote (a proposal's title), "" when none."""


@dataclass(frozen=True)
class SynthesisParams:
    """The settings of one run that are not a stage's own; stored with each run.

    Measured on the République numérique dev half (``python -m bench.republique``; gold = the
    opinion each argument discusses): discussions of 5 or more contributions as groups of their
    own, and outliers joining a group at cosine 0.35, raised the article level's V-measure from
    0.744 to 0.88 and cut its "other" share from 22.5 % to 11-13 % (seeds 0-2); the size changed
    little between 3 and 8.
    """

    seed: int = 0
    quotes: int = 5
    discussion_size: int = 5
    """Contributions (the discussed one included) that make a discussion a group of its own."""
    reassign_similarity: float = 0.35
    """Cosine above which a contribution no cluster took joins its nearest group."""

    def __post_init__(self) -> None:
        if self.discussion_size < 2:
            raise ValueError("discussion_size must be at least 2")
        if self.quotes < 1:
            raise ValueError("quotes must be at least 1")

    def as_json(self) -> dict[str, Any]:
        """Plain JSON for the run record and the report."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SynthesisParams:
        """Inverse of :meth:`as_json`; unknown keys (older runs' settings) are ignored."""
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class Stages:
    """The stages a synthesis is made of, assembled once (:func:`default_stages`)."""

    clusterer: Clusterer
    labeller: Labeller
    copies: CopyDetector
    themes: ThemeGrouper

    def describe(self) -> dict[str, Any]:
        """Every stage's name and settings, as the report's method section states them."""
        return {
            "clusterer": self.clusterer.describe(),
            "labeller": self.labeller.describe(),
            "copies": self.copies.describe(),
            "themes": self.themes.describe(),
        }


@dataclass(frozen=True)
class SynthesisPipeline:
    """What a synthesis run executes, assembled once per process: the configured embedder
    (its model loads on first use) and the stages."""

    embedder: Embedder
    stages: Stages


def default_stages() -> Stages:
    """The stages every run uses: seeded UMAP and HDBSCAN in each article (the pipeline does
    the outlier reassignment itself, against discussions too), c-TF-IDF labels, MinHash copies,
    complete-linkage themes."""
    return Stages(
        clusterer=DensityClusterer(
            UMAPReducer(),
            ClusterParams(fit_limit=ARTICLE_FIT_LIMIT, reassign_similarity=float("inf")),
        ),
        labeller=KeywordLabeller(),
        copies=ShingleCopyDetector(),
        themes=LinkageThemes(),
    )


@dataclass(frozen=True)
class TargetTally:
    """The arguments of a group about one target, by stance."""

    target: int | None
    """Id of the contribution argued about; None: the article itself."""
    stances: dict[str, int]


@dataclass
class GroupResult:
    """One group of a scope (``position == -1``: the "other" group)."""

    position: int
    title: str
    keywords: tuple[str, ...]
    members: list[int]
    """Indexes into the run's items, every copy of a campaign included."""
    units: int
    """Texts grouped (the copies of a campaign or of a repost group count once)."""
    quotes: list[int]
    """Item indexes of the representative contributions (a discussion's own text first)."""
    x: float
    y: float
    kinds: dict[str, int] = field(default_factory=dict)
    amendments: list[int] = field(default_factory=list)
    """Item indexes of the amendments (at most :data:`MAX_LISTED_AMENDMENTS`)."""
    discussion: int | None = None
    """For a discussion: the item index of the contribution discussed."""
    targets: list[TargetTally] = field(default_factory=list)
    articles: list[tuple[str, int]] = field(default_factory=list)
    """For a theme: the article groups it gathers, as (article key, position)."""
    theme: int | None = None
    """For an article group: the position of its theme."""
    generic: bool = False
    """A group of brief reactions ("d'accord", "doublon"...) rather than a topic."""
    centroid: NDArray[np.float64] | None = field(default=None, repr=False)
    """For an article group: the direction of its members' mean vector, which is all the
    themes need of its vectors (the run holds no article's vectors once it is grouped)."""


@dataclass
class ScopeResult:
    """The groups of one scope, "other" last, and where each member sits on the map."""

    scope: str
    clusters: list[GroupResult]
    coordinates: dict[int, tuple[float, float]]
    """Item index -> (x, y) in [0, 1]², from a seeded 2-d projection of the scope's texts."""
    too_small: bool

    @property
    def size(self) -> int:
        """Contributions in the scope."""
        return sum(len(c.members) for c in self.clusters)


def input_hash(model_id: str, describe: dict[str, Any], items: Sequence[Item]) -> str:
    """SHA-256 of everything a report is computed from: model, settings and every item.

    Two runs with the same hash produce the same report. Items are hashed in id order with
    their text, place, kind, stance, target and vote counts.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps({"model": model_id, "settings": describe}, sort_keys=True).encode())
    for item in sorted(items, key=lambda item: item.id):
        record = [
            item.id,
            item.article_key,
            item.kind,
            item.stance,
            item.parent_id,
            hashlib.sha256(item.text.encode()).hexdigest(),
            item.headline,
            item.author,
            item.votes_for,
            item.votes_mixed,
            item.votes_against,
        ]
        digest.update(json.dumps(record).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def find_copies(items: Sequence[Item], copies: CopyDetector, seed: int) -> Copies:
    """Copies among the items over the whole consultation: campaigns and reposts apart."""
    return copies.detect(
        [CopyItem(item.id, item.text, item.author, item.created_at) for item in items], seed
    )


def article_scopes(items: Sequence[Item]) -> dict[str, list[int]]:
    """One scope per article, in order of each article's first contribution by id (reports
    order articles as the bill does)."""
    scopes: dict[str, list[int]] = {}
    for index, item in sorted(enumerate(items), key=lambda pair: pair[1].id):
        scopes.setdefault(item.article_key, []).append(index)
    return scopes


def _unit(vector: NDArray[Any]) -> NDArray[np.float64]:
    vector = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-12 else vector


def _centroid(vectors: NDArray[Any], members: Sequence[int]) -> NDArray[np.float64]:
    """The direction of the members' mean (each member's vector counted as a direction)."""
    return _unit(np.mean([_unit(vectors[i]) for i in members], axis=0))


def _group_centroid(group: GroupResult) -> NDArray[np.float64]:
    if group.centroid is None:
        raise ValueError(f"article group {group.position} was formed without its centroid")
    return group.centroid


def _threads(members: Sequence[int], items: Sequence[Item]) -> dict[int, list[int]]:
    """Root item index -> the root and everything below it within these members."""
    index_of = {items[index].id: index for index in members}
    threads: dict[int, list[int]] = defaultdict(list)
    for index in members:
        root = index
        for _ in range(_MAX_DEPTH):
            parent = index_of.get(items[root].parent_id or -1)
            if parent is None or parent == root:
                break
            root = parent
        threads[root].append(index)
    return {root: sorted(thread) for root, thread in sorted(threads.items())}


def _collapse(
    roots: Sequence[int], items: Sequence[Item], copies: Copies
) -> tuple[list[int], dict[int, list[int]], set[int]]:
    """Collapse the copies of one text among ``roots`` into one unit, for campaigns and repost
    groups alike: unit item indexes, the roots behind each (a unit's text is always a real
    contribution: the group's representative when it is here, else its first copy here), and
    the units that stand for a campaign."""
    groups: list[Campaign] = [*copies.campaigns, *copies.reposts]
    group_of = {member: position for position, c in enumerate(groups) for member in c.members}
    behind: dict[int, list[int]] = {}
    by_group: dict[int, list[int]] = defaultdict(list)
    for index in roots:
        group = group_of.get(items[index].id)
        if group is None:
            behind[index] = [index]
        else:
            by_group[group].append(index)
    letters: set[int] = set()
    for group, found in by_group.items():
        representative = groups[group].representative
        unit = next((i for i in found if items[i].id == representative), min(found))
        behind[unit] = sorted(found)
        if group < len(copies.campaigns):
            letters.add(unit)
    return sorted(behind), behind, letters


# Rows a map's projection is fitted on. Up to this many, every row of the scope is used; beyond,
# a seeded sample fixes the map's two axes and the other rows are placed on it a chunk at a
# time: fitting on every row held float64 copies of the whole scope (three of 4 GB each for
# the consultation's map at a million contributions), for a picture that a sample draws alike.
PROJECTION_FIT_ROWS = 20_000
# Rows placed on a fitted map at a time (each chunk is copied to float64 and centred).
_PROJECTION_CHUNK = 4_096


RowReader = Callable[[NDArray[np.intp]], NDArray[Any]]
"""Reads the vectors of the given rows, in that order (a run reads them from its vector file)."""


def row_reader(vectors: NDArray[Any] | RowReader) -> RowReader:
    """``vectors`` as a reader of its rows, whether a matrix or a reader already."""
    return vectors.__getitem__ if isinstance(vectors, np.ndarray) else vectors


def map_projection(
    vectors: NDArray[Any] | RowReader, rows: Sequence[int], seed: int
) -> NDArray[np.float64]:
    """Seeded 2-d PCA projection of ``vectors[rows]`` scaled to [0, 1]² (a map, not a
    measure: axes mean nothing). ``vectors`` is a matrix, or a reader of its rows: beyond
    :data:`PROJECTION_FIT_ROWS` rows, the rows are read a chunk at a time."""
    n = len(rows)
    if n == 0:
        return np.zeros((0, 2))
    from sklearn.decomposition import PCA

    read = row_reader(vectors)
    index = np.asarray(rows, dtype=np.intp)
    if n <= PROJECTION_FIT_ROWS:
        whole = np.asarray(read(index), dtype=np.float64)
        centred = whole - whole.mean(axis=0)
        if n < 3 or not np.any(centred):
            return np.full((n, 2), 0.5)
        # The seeded randomized solver is as reproducible and, from a few thousand rows,
        # several times faster; two components of a map need no exact decomposition.
        solver = "full" if n <= 2_000 else "randomized"
        points = PCA(n_components=2, svd_solver=solver, random_state=seed).fit_transform(centred)
    else:
        sample = np.sort(
            np.random.default_rng(seed).choice(index, PROJECTION_FIT_ROWS, replace=False)
        )
        fitted = np.asarray(read(sample), dtype=np.float64)
        if not np.any(fitted - fitted.mean(axis=0)):
            return np.full((n, 2), 0.5)
        # PCA centres on the sample's own mean, in fitting and in placing: the whole scope's
        # mean would change nothing but another pass over every row.
        pca = PCA(n_components=2, svd_solver="randomized", random_state=seed).fit(fitted)
        chunks = [
            index[start : start + _PROJECTION_CHUNK] for start in range(0, n, _PROJECTION_CHUNK)
        ]
        points = np.concatenate(
            [pca.transform(np.asarray(read(chunk), dtype=np.float64)) for chunk in chunks]
        )
    # Fix the sign of each axis so the map does not flip between equivalent solutions.
    for axis in range(2):
        column = points[:, axis]
        if column[np.argmax(np.abs(column))] < 0:
            points[:, axis] = -column
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high - low > 1e-12, high - low, 1.0)
    return np.asarray((points - low) / span, dtype=np.float64)


@dataclass
class _Group:
    """A group being formed: its roots (each with its thread) and its centroid."""

    roots: list[int]
    centroid: NDArray[np.float64]
    discussion: int | None = None
    units: int = 0


def _form_groups(
    threads: dict[int, list[int]],
    items: Sequence[Item],
    vectors: NDArray[Any],
    copies: Copies,
    params: SynthesisParams,
    stages: Stages,
) -> tuple[list[_Group], list[int], int]:
    """The article's groups (discussions and topic clusters, unordered), the roots left
    "other", and how many units were left "other"."""
    groups: list[_Group] = []
    discussed = [root for root, thread in threads.items() if len(thread) >= params.discussion_size]
    for root in discussed:
        groups.append(_Group([root], _centroid(vectors, threads[root]), discussion=root, units=1))
    rest = [root for root in threads if root not in set(discussed)]
    units, behind, letters = _collapse(rest, items, copies)
    # A letter posted by many is, like a discussion, a group of its own: one text, answered
    # once. One author posting a text again and again is still one voice: clustered as one text.
    for unit in [u for u in units if u in letters and len(behind[u]) >= params.discussion_size]:
        groups.append(_Group(list(behind[unit]), _unit(vectors[unit]), units=1))
        units.remove(unit)
    if not units:
        return groups, [], 0
    # In the vectors' own precision: the clustering works in single precision and each
    # comparison below in double, so a double copy here only doubled the article's memory.
    unit_vectors = vectors[units]
    weights = np.asarray([sum(len(threads[r]) for r in behind[u]) for u in units], dtype=np.float64)
    clustering = stages.clusterer.cluster(unit_vectors, weights, params.seed)
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for row, label in enumerate(clustering.labels.tolist()):
        by_cluster[int(label)].append(row)
    first_cluster = len(groups)
    for label in range(clustering.centroids.shape[0]):
        rows = by_cluster.get(label, [])
        roots = sorted(r for row in rows for r in behind[units[row]])
        groups.append(_Group(roots, _unit(clustering.centroids[label]), units=len(rows)))
    # Units no cluster took join the nearest group, discussions included, when close enough.
    left: list[int] = []
    left_units = 0
    if groups:
        centroids = np.stack([g.centroid for g in groups])
        for row in by_cluster.get(OTHER, []):
            similarity = centroids @ _unit(unit_vectors[row])
            best = int(np.argmax(similarity))
            if similarity[best] >= params.reassign_similarity:
                groups[best].roots.extend(behind[units[row]])
                groups[best].units += 1
            else:
                left.extend(behind[units[row]])
                left_units += 1
    else:
        left = [r for row in by_cluster.get(OTHER, []) for r in behind[units[row]]]
        left_units = len(by_cluster.get(OTHER, []))
    for group in groups[first_cluster:]:
        group.roots.sort()
    return groups, sorted(left), left_units


def _targets(members: Sequence[int], items: Sequence[Item]) -> list[TargetTally]:
    """The group's arguments by target and stance, most argued target first."""
    counts: dict[int | None, Counter[str]] = defaultdict(Counter)
    for index in members:
        item = items[index]
        if item.kind == "argument" and item.stance:
            counts[item.parent_id][item.stance] += 1
    ordered = sorted(counts.items(), key=lambda pair: (-sum(pair[1].values()), pair[0] or -1))
    return [TargetTally(target, dict(sorted(stances.items()))) for target, stances in ordered]


def _describe(result: GroupResult, items: Sequence[Item]) -> GroupResult:
    kinds = Counter(items[index].kind for index in result.members)
    result.kinds = dict(sorted(kinds.items()))
    result.amendments = [i for i in result.members if items[i].kind == "amendment"][
        :MAX_LISTED_AMENDMENTS
    ]
    return result


def _quotes(
    members: Sequence[int], vectors: NDArray[Any], count: int, first: int | None
) -> list[int]:
    """Representative members: the discussed contribution first for a discussion, then the
    most central ones without repeats (maximal marginal relevance)."""
    pool = [m for m in members if m != first]
    rows = central_items(vectors[pool], np.zeros(len(pool), dtype=np.int64), 0, count)
    chosen = [pool[row] for row in rows]
    return [first, *chosen][:count] if first is not None else chosen[:count]


def synthesise_article(
    scope: str,
    members: Sequence[int],
    items: Sequence[Item],
    vectors: NDArray[np.float32],
    copies: Copies,
    params: SynthesisParams,
    stages: Stages,
) -> ScopeResult:
    """Group, label and describe the contributions of one article.

    ``members`` are indexes into ``items`` and ``vectors`` (row ``i`` is item ``i``'s vector, a
    zero row for a text empty once prepared). Every member ends in exactly one group or in
    "other"; a thread is never split; the copies of a campaign or a repost group end where
    their unit does.
    """
    threads = _threads(members, items)
    formed, left, left_units = _form_groups(threads, items, vectors, copies, params, stages)

    def members_of(roots: Sequence[int]) -> list[int]:
        return sorted(index for root in roots for index in threads[root])

    formed.sort(key=lambda g: (-len(members_of(g.roots)), min(g.roots)))
    points = map_projection(vectors, members, params.seed)
    coordinates = {
        index: (float(points[row, 0]), float(points[row, 1])) for row, index in enumerate(members)
    }
    results: list[GroupResult] = []
    for position, group in enumerate([*formed, None]):
        roots = left if group is None else group.roots
        if group is None and not roots:
            continue
        group_members = members_of(roots)
        centre = np.mean([coordinates[i] for i in group_members], axis=0)
        results.append(
            _describe(
                GroupResult(
                    position=OTHER if group is None else position,
                    title="",
                    keywords=(),
                    members=group_members,
                    units=left_units if group is None else group.units,
                    quotes=_quotes(
                        group_members,
                        vectors,
                        params.quotes,
                        None if group is None else group.discussion,
                    ),
                    x=float(centre[0]),
                    y=float(centre[1]),
                    discussion=None if group is None else group.discussion,
                    targets=_targets(group_members, items),
                    centroid=None if group is None else _centroid(vectors, group_members),
                ),
                items,
            )
        )
    _name(results, items, stages.labeller)
    return ScopeResult(scope, results, coordinates, too_small=not formed and bool(members))


def _name(results: Sequence[GroupResult], items: Sequence[Item], labeller: Labeller) -> None:
    """Give each group (not "other") its keywords and title, in one pass over the scope."""
    named = [r for r in results if r.position != OTHER]
    if not named:
        return
    texts: list[str] = []
    headlines: list[str] = []
    labels: list[int] = []
    central: dict[int, int] = {}
    for result in results:
        for index in result.members:
            if result.quotes and index == result.quotes[0]:
                central[result.position] = len(texts)
            texts.append(items[index].text)
            headlines.append(items[index].headline)
            labels.append(result.position)
    found = labeller.label(
        texts, np.asarray(labels, dtype=np.int64), central, [1.0] * len(texts), headlines
    )
    for result in named:
        label = found.get(result.position)
        if label is not None:
            result.title, result.keywords = label.title, tuple(label.keywords)
            result.generic = label.generic


def gather_themes(
    articles: Sequence[ScopeResult],
    items: Sequence[Item],
    vectors: NDArray[np.float32] | RowReader,
    params: SynthesisParams,
    stages: Stages,
) -> ScopeResult:
    """The consultation's themes: article groups gathered by subject (each article group in
    exactly one theme; the articles' "other" contributions make the themes' "other").

    The themes compare the article groups' centroids; ``vectors`` (a matrix, or a reader of
    its rows) only draws the consultation's map."""
    groups = [(a, g) for a in articles for g in a.clusters if g.position != OTHER]
    centroids = np.stack([_group_centroid(g) for _, g in groups]) if groups else np.zeros((0, 0))
    theme_of = stages.themes.group(centroids)
    everyone = sorted(index for a in articles for g in a.clusters for index in g.members)
    points = map_projection(vectors, everyone, params.seed)
    coordinates = {
        index: (float(points[row, 0]), float(points[row, 1])) for row, index in enumerate(everyone)
    }
    results: list[GroupResult] = []
    gathered: dict[int, list[tuple[ScopeResult, GroupResult]]] = defaultdict(list)
    for (article, group), theme in zip(groups, theme_of.tolist(), strict=True):
        gathered[int(theme)].append((article, group))
        group.theme = int(theme)
    for theme in sorted(gathered):
        parts = sorted(
            gathered[theme], key=lambda p: (-len(p[1].members), p[0].scope, p[1].position)
        )
        members = sorted(index for _, g in parts for index in g.members)
        centre = np.mean([coordinates[i] for i in members], axis=0)
        results.append(
            _describe(
                GroupResult(
                    position=theme,
                    title="",
                    keywords=(),
                    members=members,
                    units=sum(g.units for _, g in parts),
                    quotes=[g.quotes[0] for _, g in parts if g.quotes][: params.quotes],
                    x=float(centre[0]),
                    y=float(centre[1]),
                    articles=[(a.scope, g.position) for a, g in parts],
                    targets=_targets(members, items),
                ),
                items,
            )
        )
    others = [g for a in articles for g in a.clusters if g.position == OTHER]
    other = sorted(index for g in others for index in g.members)
    if other:
        centre = np.mean([coordinates[i] for i in other], axis=0)
        results.append(
            _describe(
                GroupResult(
                    position=OTHER,
                    title="",
                    keywords=(),
                    members=other,
                    units=sum(g.units for g in others),
                    quotes=[],
                    targets=_targets(other, items),
                    x=float(centre[0]),
                    y=float(centre[1]),
                ),
                items,
            )
        )
    _name(results, items, stages.labeller)
    # A theme that gathers one group is that group: it keeps the group's name, which was chosen
    # among the texts of its own article (the keywords that set one group apart from the whole
    # consultation are often its oddest words: « Drôle » for a group named « Documents PDF »).
    named = {(a.scope, g.position): g for a, g in groups}
    for result in results:
        if len(result.articles) == 1:
            only = named[result.articles[0]]
            result.title, result.keywords, result.generic = only.title, only.keywords, only.generic
    return ScopeResult(
        CONSULTATION_SCOPE, results, coordinates, too_small=not groups and bool(everyone)
    )
