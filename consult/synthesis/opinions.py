"""Opinion groups of a consultation, from its votes: what brings the groups together, what divides
them (see :mod:`consult.nlp.opinions` for the method, decision 0029 for the choices).

The targets are the articles and the visible contributions (amendments and the others) people
voted on; a participant is an account that voted. A missing vote is not a mitigé. Only counts
leave this module: how many participants each group holds and how each group voted on each
target, never who is in which group.

The groups are computed when a report or an export asks for them, from the votes as they are
then, and kept in memory per process keyed by a fingerprint of the consultation's votes (their
number, the last id and the last change, the hidden contributions): a report read again while
no vote changed costs one aggregate query, and none within FRESH_SECONDS of the last one.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.contributions.models import Contribution, Visibility, Vote, VoteValue
from consult.nlp.opinions import Opinions, opinion_groups

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
