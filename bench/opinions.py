"""Opinion groups against Polis's own, on real Polis conversations, and their speed.

    .venv/bin/python -m bench.opinions [--seeds 0 1 2 3 4] [--size 10000 1000]

For each of three Polis open-data conversations (vtaiwan.uberx, scoop-hivemind.biodiversity,
15-per-hour-seattle, read in place from ``../shared/data/polis-opendata``, never copied), builds
the participant × comment matrix from ``votes.csv`` (the last vote of each participant on each
comment; comments moderated out in ``comments.csv`` left out), runs
:func:`consult.nlp.opinions.opinion_groups` with Polis's minimum of 7 votes per participant,
and prints, per seed, the number of groups, their sizes, and the adjusted Rand index between
our groups and Polis's (``group-id`` of ``participants-votes.csv``) on the participants both
grouped; each seed twice, as by default and with each participant's point scaled by
sqrt(targets / votes cast) as later Polis versions do. Then times the whole computation
(projection, k-means for 2 to 5 groups, counts, representativeness, bridging) on a synthetic
matrix, seeded: 10,000 participants × 1,000 targets, 4 planted opinion groups, each participant
voting on 10 % of the targets, and prints the adjusted Rand index with the planted groups.
Last, the same million votes through a SQLite table: the time a report took to read its opinion
groups when they were computed on reading, against the synthesis run's stage that stores them
and a report's read of what it stored.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import adjusted_rand_score

from consult.nlp.opinions import MIN_PARTICIPANT_VOTES, Matrix, opinion_groups

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "polis-opendata"
CONVERSATIONS = ("vtaiwan.uberx", "scoop-hivemind.biodiversity", "15-per-hour-seattle")


def load(folder: Path) -> tuple[Matrix, list[str], dict[str, int]]:
    """The vote matrix (rows: participants in order of first vote), their ids, and Polis's
    group of each participant it grouped."""
    rejected = set()
    with (folder / "comments.csv").open(encoding="utf-8", newline="") as raw:
        for row in csv.DictReader(raw):
            if row["moderated"].strip() == "-1":
                rejected.add(row["comment-id"])
    last: dict[tuple[str, str], tuple[int, int]] = {}
    with (folder / "votes.csv").open(encoding="utf-8", newline="") as raw:
        for row in csv.DictReader(raw):
            if row["comment-id"] in rejected:
                continue
            key = (row["voter-id"], row["comment-id"])
            stamp = int(row["timestamp"])
            if key not in last or stamp >= last[key][0]:
                last[key] = (stamp, int(row["vote"]))
    voters = list(dict.fromkeys(v for v, _c in last))
    comments = list(dict.fromkeys(c for _v, c in last))
    row_of = {v: i for i, v in enumerate(voters)}
    column_of = {c: i for i, c in enumerate(comments)}
    matrix = np.full((len(voters), len(comments)), np.nan)
    for (voter, comment), (_stamp, vote) in last.items():
        matrix[row_of[voter], column_of[comment]] = vote
    polis: dict[str, int] = {}
    with (folder / "participants-votes.csv").open(encoding="utf-8", newline="") as raw:
        for row in csv.DictReader(raw):
            if row["group-id"].strip():
                polis[row["participant"]] = int(row["group-id"])
    return matrix, voters, polis


def compare(name: str, seeds: list[int]) -> None:
    folder = DATA / name
    if not (folder / "votes.csv").exists():
        print(f"skip {name}: no {folder}/votes.csv")
        return
    matrix, voters, polis = load(folder)
    print(
        f"{name}: {matrix.shape[0]} participants × {matrix.shape[1]} comments, "
        f"{int((~np.isnan(matrix)).sum())} votes; Polis grouped {len(polis)} in "
        f"{len(set(polis.values()))} groups"
    )
    for seed in seeds:
        for scaled in (False, True):
            started = time.perf_counter()
            found = opinion_groups(
                matrix,
                seed=seed,
                min_participant_votes=MIN_PARTICIPANT_VOTES,
                scale_by_votes=scaled,
            )
            elapsed = time.perf_counter() - started
            setting = "scaled by votes" if scaled else "default"
            if found is None:
                print(f"  seed {seed}, {setting}: no groups")
                continue
            both = [i for i, v in enumerate(voters) if found.labels[i] >= 0 and v in polis]
            ari = adjusted_rand_score(
                [polis[voters[i]] for i in both], [int(found.labels[i]) for i in both]
            )
            sizes = [g.size for g in found.groups]
            print(
                f"  seed {seed}, {setting}: {len(sizes)} groups {sizes}, grouped "
                f"{found.participants}, both grouped {len(both)}, ARI {ari:.3f}, "
                f"silhouette {found.silhouette:.3f}, {elapsed * 1000:.0f} ms"
            )


def synthetic(participants: int, targets: int, seed: int = 0) -> tuple[Matrix, list[int]]:
    """4 planted groups, each with its own leaning on every target; 10 % of votes cast."""
    rng = np.random.default_rng(seed)
    leaning = rng.uniform(-1, 1, size=(4, targets))
    groups = rng.integers(0, 4, size=participants)
    noise = rng.normal(0, 0.5, size=(participants, targets))
    votes = np.clip(np.rint(leaning[groups] + noise), -1, 1)
    votes[rng.random((participants, targets)) > 0.1] = np.nan
    return votes, groups.tolist()


def timing(participants: int, targets: int) -> None:
    matrix, planted = synthetic(participants, targets)
    started = time.perf_counter()
    found = opinion_groups(matrix, seed=0)
    assert found is not None
    found.bridging(10)
    found.dividing(10)
    elapsed = time.perf_counter() - started
    print(
        f"synthetic {participants} participants × {targets} targets "
        f"({int((~np.isnan(matrix)).sum())} votes, 4 planted groups): {len(found.groups)} "
        f"groups, ARI with the planted ones {adjusted_rand_score(planted, found.labels):.3f}, "
        f"{elapsed:.2f} s"
    )


def database_timing(participants: int, targets: int) -> None:
    """The same votes stored in a SQLite ``votes`` table (articles as targets): the groups
    computed when a report is read (runs made before they were stored: the first read after a
    vote, and a read again), against the synthesis run's stage that stores them and the reads
    of what it stored (a report lists the most bridging and dividing texts; the open data reads
    every ranked text)."""
    from consult import models  # noqa: F401  (every table on the metadata)
    from consult.db import Base, create_engine, create_session_factory
    from consult.synthesis import opinions
    from consult.synthesis.models import SynthesisRun

    matrix, _planted = synthetic(participants, targets)
    rows, columns = np.nonzero(~np.isnan(matrix))
    names = {1.0: "pour", 0.0: "mitige", -1.0: "contre"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "votes.sqlite"
        url = f"sqlite+aiosqlite:///{path}"

        async def measure() -> dict[str, float]:
            engine = create_engine(url)
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            with sqlite3.connect(path) as raw:  # foreign keys not enforced: votes alone
                raw.executemany(
                    "INSERT INTO votes (voter_id, consultation_id, article_key, value, "
                    "created_at, updated_at) VALUES (?, 1, ?, ?, '2026-01-01', '2026-01-01')",
                    (
                        (int(r) + 1, f"art-{int(c)}", names[float(matrix[r, c])])
                        for r, c in zip(rows, columns, strict=True)
                    ),
                )
                raw.execute(
                    "INSERT INTO synthesis_runs (id, consultation_id, status, stage, done, total, "
                    "model_id, params, seed, input_hash, contribution_count, attempts, error, "
                    "created_at, stages, summary) VALUES (1, 1, 'running', 'opinions', 0, 0, '', "
                    "'{}', 0, '', 0, 1, '', '2026-01-01', '{}', '')"
                )
            factory = create_session_factory(engine)
            times: dict[str, float] = {}

            async def timed(name: str, work: Any) -> Any:
                started = time.perf_counter()
                result = await work
                times[name] = time.perf_counter() - started
                return result

            async with factory() as db:
                votes = await timed("matrix", opinions.vote_matrix(db, 1))
                live = await timed("live", opinions.consultation_opinions(db, 1, fresh_seconds=0))
                await timed("again", opinions.consultation_opinions(db, 1, fresh_seconds=0))
            async with factory() as db:
                stored = await timed(
                    "stage",
                    opinions.store_run_opinions(
                        db, 1, 1, clock=lambda: datetime.now(UTC), held=SynthesisRun.id == 1
                    ),
                )
            async with factory() as db:
                _found, listed = await timed(
                    "report", opinions.stored_opinions(db, 1, listed_only=True)
                )
            async with factory() as db:
                _found, every = await timed("export", opinions.stored_opinions(db, 1))
            assert live is not None and votes[0].shape == matrix.shape and stored
            assert listed is not None and every is not None
            assert every.groups == live.groups and every.targets == live.targets
            assert listed.bridging() == live.bridging() and listed.dividing() == live.dividing()
            await engine.dispose()
            return times

        times = asyncio.run(measure())
    print(
        f"the same votes in SQLite ({len(rows)} rows): reading the matrix {times['matrix']:.2f} s"
    )
    print(
        f"  computed when read (before): a report's opinion groups, first read "
        f"{times['live']:.2f} s, read again (no vote changed, counted again) "
        f"{times['again'] * 1000:.0f} ms"
    )
    print(
        f"  stored with the run (after): the run's stage {times['stage']:.2f} s once; a report "
        f"reads them in {times['report'] * 1000:.1f} ms "
        f"({times['live'] / times['report']:.0f} times faster than the first read before, "
        f"{times['again'] / times['report']:.0f} times than a read again), the open data's "
        f"{targets} ranked texts in {times['export'] * 1000:.0f} ms; same groups and ranks"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--size", type=int, nargs=2, default=[10_000, 1_000])
    parser.add_argument(
        "--no-database", action="store_true", help="skip the timing through a SQLite table"
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name in CONVERSATIONS:
        compare(name, args.seeds)
    timing(*args.size)
    if not args.no_database:
        database_timing(*args.size)


if __name__ == "__main__":
    main()
