"""Opinion groups of a consultation, from its votes: what brings the groups together, what divides
them (see :mod:`consult.nlp.opinions` for the method, decisions 0029 and 0031 for the choices).

The targets are the articles and the visible contributions (amendments and the others) people
voted on; a participant is an account that voted. A missing vote is not a mitigé. Only counts
leave this module: how many participants each group holds and how each group voted on each
target, never who is in which group.

The groups are a stage of each synthesis run (:func:`store_run_opinions`): computed from the
votes as they are when the run fixes its input, and stored with the run (group sizes, and per
target its votes per group and its ranks), so that a report, its officials' review pages and the
open data read them (:func:`run_opinions`, :func:`group_figures`) without reading a vote.

A run made before that stage existed has nothing stored: its report computes the groups when
read (:func:`consultation_opinions`), kept in memory per process keyed by a fingerprint of the
consultation's votes (their number, the last id and the last change, the hidden contributions).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consult.contributions.models import Contribution, Visibility, Vote, VoteValue
from consult.nlp.opinions import Opinions, opinion_groups
from consult.synthesis.models import (
    SynthesisMembership,
    SynthesisOpinions,
    SynthesisOpinionTarget,
    SynthesisRun,
)

# Polis's minimum: a participant counts once they voted on 7 targets.
MIN_PARTICIPANT_VOTES = 7
# A target counts once 3 people voted on it.
MIN_TARGET_VOTES = 3
# Below this many participants, no groups are formed.
MIN_PARTICIPANTS = 20
# No group smaller than this: a group's rates would describe a handful of people.
MIN_GROUP_SIZE = 5
SEED = 0
# Targets listed on a report as bridging and as dividing.
LISTED = 10
DIVIDING = 5
VALUE = {VoteValue.FOR: 1.0, VoteValue.MIXED: 0.0, VoteValue.AGAINST: -1.0}
# Votes read at a time.
PARTITION = 20_000
# Target rows per INSERT statement.
INSERT_CHUNK = 5000
# Contributions listed with their figures under each article group of an officials' review.
FIGURES_LISTED = 10
# Groups computed for this many consultations are kept in each process.
_CACHED = 8
# Seconds during which groups just computed or checked are served without asking the database
# whether a vote changed (the check counts the votes: 1.8 s at a million votes on SQLite).
FRESH_SECONDS = 60.0


@dataclass(frozen=True, order=True)
class Target:
    """What was voted on: an article (by key) or a contribution (by id)."""

    kind: str
    """"article" or "contribution"."""
    key: str
    """The article key, or the contribution id as text."""

    @property
    def contribution_id(self) -> int | None:
        """The contribution's id (None for an article)."""
        return int(self.key) if self.kind == "contribution" else None


@dataclass(frozen=True)
class TargetOpinion:
    """How the groups voted on one target."""

    target: Target
    votes: int
    """Votes cast on it by grouped participants (pour, mitigé or contre)."""
    agrees: int
    disagrees: int
    consensus: float
    """Product over groups of the smoothed agree rates: high when every group agrees."""
    rejection: float
    """Product over groups of the smoothed disagree rates: high when every group rejects it."""
    division: float
    """Variance of the groups' agree rates: high when groups disagree with one another."""
    agreement: tuple[float, ...]
    """Each group's smoothed agree rate, (agrees + 1) / (votes + 2), group 1 first."""
    group_votes: tuple[int, ...]
    """Votes cast in each group."""
    group_agrees: tuple[int, ...]
    """Of those, pour, per group."""
    group_disagrees: tuple[int, ...]
    """Of those, contre, per group."""


@dataclass(frozen=True)
class OpinionGroup:
    """An opinion group: its size and what it supports and rejects most distinctly."""

    number: int
    """From 1, largest group first."""
    participants: int
    supports: tuple[Target, ...]
    rejects: tuple[Target, ...]


@dataclass(frozen=True)
class ConsultationOpinions:
    """The opinion groups of a consultation: counts only."""

    participants: int
    """Participants grouped (at least MIN_PARTICIPANT_VOTES votes on kept targets)."""
    voters: int
    """Everyone who voted."""
    groups: tuple[OpinionGroup, ...]
    targets: tuple[TargetOpinion, ...]
    """Every kept target, highest consensus first."""
    silhouette: float
    seed: int = SEED
    min_participant_votes: int = MIN_PARTICIPANT_VOTES
    min_target_votes: int = MIN_TARGET_VOTES
    ranked: int = -1
    """Targets ranked in all (-1: all of them are in ``targets``); a report reads only the
    ones it lists (:func:`run_opinions` with ``listed_only``)."""
    computed_at: datetime | None = None
    """When the votes were read (None: just now, not stored)."""

    @property
    def target_count(self) -> int:
        """Targets ranked in all."""
        return len(self.targets) if self.ranked < 0 else self.ranked

    def bridging(self, limit: int = LISTED) -> list[TargetOpinion]:
        """The targets that bring the groups together most, the first ``limit``."""
        return list(self.targets[:limit])

    def dividing(self, limit: int = DIVIDING) -> list[TargetOpinion]:
        """The targets that divide the groups most, the first ``limit``."""
        return sorted(self.targets, key=lambda t: (-t.division, t.target))[:limit]


_cache: OrderedDict[Hashable, ConsultationOpinions | None] = OrderedDict()
# (database, consultation id) -> when its votes' fingerprint was last read, and that fingerprint.
_checked: dict[tuple[str, int], tuple[float, Hashable]] = {}


def _database(db: AsyncSession) -> str:
    """Which database: two sites in one process (tests) may hold the same consultation id."""
    return db.get_bind().engine.url.render_as_string(hide_password=True)


async def _fingerprint(db: AsyncSession, consultation_id: int) -> Hashable:
    votes = (
        await db.execute(
            select(func.count(), func.max(Vote.id), func.max(Vote.updated_at)).where(
                Vote.consultation_id == consultation_id
            )
        )
    ).one()
    hidden = (
        await db.execute(
            select(func.count(), func.max(Contribution.id)).where(
                Contribution.consultation_id == consultation_id,
                Contribution.visibility == Visibility.HIDDEN,
            )
        )
    ).one()
    return (_database(db), consultation_id, *votes, *hidden)


async def vote_matrix(
    db: AsyncSession, consultation_id: int
) -> tuple[np.ndarray, list[Target], int]:
    """Participants × targets: +1 pour, 0 mitigé, -1 contre, NaN not voted; the targets of
    the columns (sorted); the number of voters. Votes on hidden contributions are left out."""
    hidden = set(
        (
            await db.scalars(
                select(Contribution.id).where(
                    Contribution.consultation_id == consultation_id,
                    Contribution.visibility == Visibility.HIDDEN,
                )
            )
        ).all()
    )
    voter_ids: list[int] = []
    columns: list[int] = []
    values: list[float] = []
    column_of: dict[tuple[str, str | int], int] = {}
    # Read in partitions: the event loop serves other requests between them.
    result = await db.stream(
        select(Vote.voter_id, Vote.article_key, Vote.contribution_id, Vote.value).where(
            Vote.consultation_id == consultation_id
        )
    )
    async for partition in result.partitions(PARTITION):
        for voter, article_key, contribution_id, value in partition:
            if contribution_id is not None:
                if contribution_id in hidden:
                    continue
                key: tuple[str, str | int] = ("contribution", contribution_id)
            else:
                key = ("article", str(article_key))
            columns.append(column_of.setdefault(key, len(column_of)))
            voter_ids.append(voter)
            values.append(VALUE[value])
    voters, row_of = np.unique(np.asarray(voter_ids, dtype=np.int64), return_inverse=True)
    # Columns in the order of the targets, so that the same votes give the same matrix.
    found = [Target(kind, str(key)) for kind, key in column_of]
    order = sorted(range(len(found)), key=lambda c: found[c])
    targets = [found[c] for c in order]
    position = np.empty(len(found), dtype=np.int64)
    position[order] = np.arange(len(found))
    matrix = np.full((len(voters), len(targets)), np.nan)
    matrix[row_of, position[np.asarray(columns, dtype=np.int64)]] = values
    return matrix, targets, len(voters)


def summarise(
    matrix: np.ndarray, targets: list[Target], voters: int, seed: int = SEED
) -> ConsultationOpinions | None:
    """The opinion groups of a vote matrix as counts; None below MIN_PARTICIPANTS grouped
    participants or when no grouping leaves every group MIN_GROUP_SIZE people."""
    found: Opinions | None = opinion_groups(
        matrix,
        seed=seed,
        min_participant_votes=MIN_PARTICIPANT_VOTES,
        min_target_votes=MIN_TARGET_VOTES,
        min_group_size=MIN_GROUP_SIZE,
    )
    if found is None or found.participants < MIN_PARTICIPANTS:
        return None
    rates = found.agree_rates
    consensus, rejection, division = found.consensus, found.rejection, found.division
    opinions = [
        TargetOpinion(
            target=targets[c],
            votes=int(found.seen[:, c].sum()),
            agrees=int(found.agrees[:, c].sum()),
            disagrees=int(found.disagrees[:, c].sum()),
            consensus=float(consensus[c]),
            rejection=float(rejection[c]),
            division=float(division[c]),
            agreement=tuple(float(r) for r in rates[:, c]),
            group_votes=tuple(int(n) for n in found.seen[:, c]),
            group_agrees=tuple(int(n) for n in found.agrees[:, c]),
            group_disagrees=tuple(int(n) for n in found.disagrees[:, c]),
        )
        for c in found.bridging()
    ]
    groups = tuple(
        OpinionGroup(
            number=g + 1,
            participants=group.size,
            supports=tuple(targets[d.target] for d in group.supports),
            rejects=tuple(targets[d.target] for d in group.rejects),
        )
        for g, group in enumerate(found.groups)
    )
    return ConsultationOpinions(
        participants=found.participants,
        voters=voters,
        groups=groups,
        targets=tuple(opinions),
        silhouette=found.silhouette,
        seed=seed,
    )


async def consultation_opinions(
    db: AsyncSession, consultation_id: int, *, fresh_seconds: float = FRESH_SECONDS
) -> ConsultationOpinions | None:
    """The opinion groups of a consultation's votes (None: too few participants), as they were
    at most ``fresh_seconds`` ago; computed off the event loop, kept while no vote changes."""
    now = time.monotonic()
    place = (_database(db), consultation_id)
    checked = _checked.get(place)
    if checked is not None and now - checked[0] < fresh_seconds and checked[1] in _cache:
        return _cache[checked[1]]
    key = await _fingerprint(db, consultation_id)
    if key not in _cache:
        matrix, targets, voters = await vote_matrix(db, consultation_id)
        _cache[key] = await asyncio.to_thread(summarise, matrix, targets, voters)
    _cache.move_to_end(key)
    while len(_cache) > _CACHED:
        _cache.popitem(last=False)
    _checked[place] = (time.monotonic(), key)
    return _cache[key]


# --------------------------------------------------------------------------- stored with a run


async def has_run_opinions(db: AsyncSession, run_id: int) -> bool:
    """Whether the run's opinion groups are stored (a resumed run computes them once)."""
    found = await db.scalar(
        select(SynthesisOpinions.run_id).where(SynthesisOpinions.run_id == run_id)
    )
    return found is not None


def _ref(target: Target) -> list[str]:
    return [target.kind, target.key]


def _target_rows(run_id: int, opinions: ConsultationOpinions) -> list[dict[str, Any]]:
    division_rank = {
        t.target: rank for rank, t in enumerate(opinions.dividing(len(opinions.targets)), start=1)
    }
    return [
        {
            "run_id": run_id,
            "rank": rank,
            "division_rank": division_rank[t.target],
            "kind": t.target.kind,
            "key": t.target.key,
            "contribution_id": t.target.contribution_id,
            "votes": t.votes,
            "agrees": t.agrees,
            "disagrees": t.disagrees,
            "consensus": t.consensus,
            "rejection": t.rejection,
            "division": t.division,
            "group_votes": list(t.group_votes),
            "group_agrees": list(t.group_agrees),
            "group_disagrees": list(t.group_disagrees),
        }
        for rank, t in enumerate(opinions.targets, start=1)
    ]


async def store_run_opinions(
    db: AsyncSession,
    run_id: int,
    consultation_id: int,
    *,
    clock: Callable[[], datetime],
    held: Any,
) -> bool:
    """The opinion-groups stage of a synthesis run: read the consultation's votes, find the
    groups (in a thread) and store them with the run, replacing what an interrupted attempt
    may have stored, and commit. Written only while ``held`` (a condition on the run's row)
    holds; False, and nothing written, when it no longer does."""
    read_at = clock()
    matrix, targets, voters = await vote_matrix(db, consultation_id)
    await db.rollback()  # end the reads: the computation may take seconds
    votes = int(np.count_nonzero(~np.isnan(matrix)))
    found = await asyncio.to_thread(summarise, matrix, targets, voters)
    claimed = await db.execute(update(SynthesisRun).where(held).values(heartbeat_at=clock()))
    if not claimed.rowcount:  # type: ignore[attr-defined]
        await db.rollback()
        return False
    await db.execute(delete(SynthesisOpinionTarget).where(SynthesisOpinionTarget.run_id == run_id))
    await db.execute(delete(SynthesisOpinions).where(SynthesisOpinions.run_id == run_id))
    db.add(
        SynthesisOpinions(
            run_id=run_id,
            computed_at=read_at,
            votes=votes,
            voters=voters,
            participants=found.participants if found else 0,
            targets=len(found.targets) if found else 0,
            silhouette=found.silhouette if found else 0.0,
            seed=found.seed if found else SEED,
            min_participant_votes=MIN_PARTICIPANT_VOTES,
            min_target_votes=MIN_TARGET_VOTES,
            groups=[
                {
                    "number": g.number,
                    "participants": g.participants,
                    "supports": [_ref(t) for t in g.supports],
                    "rejects": [_ref(t) for t in g.rejects],
                }
                for g in (found.groups if found else ())
            ],
        )
    )
    await db.flush()
    rows = _target_rows(run_id, found) if found else []
    for start in range(0, len(rows), INSERT_CHUNK):
        await db.execute(insert(SynthesisOpinionTarget), rows[start : start + INSERT_CHUNK])
    await db.commit()
    return True


_TARGET_COLUMNS = (
    SynthesisOpinionTarget.kind,
    SynthesisOpinionTarget.key,
    SynthesisOpinionTarget.votes,
    SynthesisOpinionTarget.agrees,
    SynthesisOpinionTarget.disagrees,
    SynthesisOpinionTarget.consensus,
    SynthesisOpinionTarget.rejection,
    SynthesisOpinionTarget.division,
    SynthesisOpinionTarget.group_votes,
    SynthesisOpinionTarget.group_agrees,
    SynthesisOpinionTarget.group_disagrees,
)


def _stored_target(row: Sequence[Any]) -> TargetOpinion:
    kind, key, votes, agrees, disagrees, consensus, rejection, division, seen, pour, contre = row
    return TargetOpinion(
        target=Target(kind, key),
        votes=votes,
        agrees=agrees,
        disagrees=disagrees,
        consensus=consensus,
        rejection=rejection,
        division=division,
        # The same arithmetic as the computation's: the same floats.
        agreement=tuple((a + 1.0) / (n + 2.0) for a, n in zip(pour, seen, strict=True)),
        group_votes=tuple(seen),
        group_agrees=tuple(pour),
        group_disagrees=tuple(contre),
    )


async def stored_opinions(
    db: AsyncSession, run_id: int, *, listed_only: bool = False
) -> tuple[bool, ConsultationOpinions | None]:
    """A run's stored opinion groups: whether it has them stored, and them (None: too few
    people voted to form groups). ``listed_only`` reads only the targets a report lists (the
    LISTED most bridging and the DIVIDING most dividing)."""
    stored = await db.scalar(select(SynthesisOpinions).where(SynthesisOpinions.run_id == run_id))
    if stored is None:
        return False, None
    if not stored.groups:
        return True, None
    query = (
        select(*_TARGET_COLUMNS)
        .where(SynthesisOpinionTarget.run_id == run_id)
        .order_by(SynthesisOpinionTarget.rank)
    )
    if listed_only:
        query = query.where(
            or_(
                SynthesisOpinionTarget.rank <= LISTED,
                SynthesisOpinionTarget.division_rank <= DIVIDING,
            )
        )
    targets = tuple(_stored_target(row) for row in (await db.execute(query)).all())
    groups = tuple(
        OpinionGroup(
            number=g["number"],
            participants=g["participants"],
            supports=tuple(Target(kind, key) for kind, key in g["supports"]),
            rejects=tuple(Target(kind, key) for kind, key in g["rejects"]),
        )
        for g in stored.groups
    )
    return True, ConsultationOpinions(
        participants=stored.participants,
        voters=stored.voters,
        groups=groups,
        targets=targets,
        silhouette=stored.silhouette,
        seed=stored.seed,
        min_participant_votes=stored.min_participant_votes,
        min_target_votes=stored.min_target_votes,
        ranked=stored.targets if listed_only else -1,
        computed_at=stored.computed_at,
    )


async def run_opinions(
    db: AsyncSession, run_id: int, consultation_id: int, *, listed_only: bool = False
) -> ConsultationOpinions | None:
    """The opinion groups a run's report and open data show: those stored with the run, or,
    for a run made before they were stored, the votes' as they are now."""
    found, opinions = await stored_opinions(db, run_id, listed_only=listed_only)
    if found:
        return opinions
    return await consultation_opinions(db, consultation_id)


@dataclass(frozen=True)
class ContributionFigures:
    """How the opinion groups voted on one contribution, and its bridging rank."""

    contribution_id: int
    kind: str
    """The contribution's kind: "amendment", "argument"..."""
    rank: int
    """Bridging rank, from 1 (brings the groups together most)."""
    votes: int
    group_votes: tuple[int, ...]
    group_agrees: tuple[int, ...]
    group_disagrees: tuple[int, ...]

    @property
    def by_group(self) -> list[tuple[int, int, int, int, int]]:
        """Per group, from 1: (number, votes, pour, mitigé, contre)."""
        return [
            (number, seen, pour, seen - pour - contre, contre)
            for number, (seen, pour, contre) in enumerate(
                zip(self.group_votes, self.group_agrees, self.group_disagrees, strict=True),
                start=1,
            )
        ]


@dataclass(frozen=True)
class GroupFigures:
    """The opinion-group figures of an article group's contributions (counts only)."""

    ranked: int
    """Articles and contributions the run ranked in all."""
    group_sizes: tuple[int, ...]
    """People in each opinion group, group 1 first."""
    contributions: tuple[ContributionFigures, ...]
    """The group's contributions with figures, best bridging rank first (the first
    FIGURES_LISTED)."""
    count: int
    """The group's contributions with figures in all."""


async def group_figures(
    db: AsyncSession, run_id: int, cluster_ids: Sequence[int], *, listed: int = FIGURES_LISTED
) -> dict[int, GroupFigures]:
    """Cluster id -> the opinion-group figures of its contributions, for the clusters that
    have any; empty when the run stored no groups."""
    stored = await db.scalar(select(SynthesisOpinions).where(SynthesisOpinions.run_id == run_id))
    if stored is None or not stored.groups or not cluster_ids:
        return {}
    rows = await db.execute(
        select(
            SynthesisMembership.cluster_id,
            SynthesisMembership.contribution_id,
            Contribution.kind,
            SynthesisOpinionTarget.rank,
            SynthesisOpinionTarget.votes,
            SynthesisOpinionTarget.group_votes,
            SynthesisOpinionTarget.group_agrees,
            SynthesisOpinionTarget.group_disagrees,
        )
        .join(
            SynthesisOpinionTarget,
            (SynthesisOpinionTarget.run_id == SynthesisMembership.run_id)
            & (SynthesisOpinionTarget.contribution_id == SynthesisMembership.contribution_id),
        )
        .join(Contribution, Contribution.id == SynthesisMembership.contribution_id)
        .where(
            SynthesisMembership.run_id == run_id,
            SynthesisMembership.cluster_id.in_(list(cluster_ids)),
        )
        .order_by(SynthesisMembership.cluster_id, SynthesisOpinionTarget.rank)
    )
    found: dict[int, list[ContributionFigures]] = defaultdict(list)
    for cluster_id, contribution_id, kind, rank, votes, seen, pour, contre in rows.all():
        found[cluster_id].append(
            ContributionFigures(
                contribution_id,
                kind.value,
                rank,
                votes,
                tuple(seen),
                tuple(pour),
                tuple(contre),
            )
        )
    sizes = tuple(g["participants"] for g in stored.groups)
    return {
        cluster_id: GroupFigures(stored.targets, sizes, tuple(figures[:listed]), len(figures))
        for cluster_id, figures in found.items()
    }
