"""Grouping a run's articles in a pool of processes gives the report of one process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from consult.synthesis.parallel import ScopeInput, ScopePool, scope_input, synthesise_articles
from consult.synthesis.pipeline import (
    ScopeResult,
    Stages,
    SynthesisParams,
    article_scopes,
    default_stages,
    find_copies,
)
from tests.support.corpus import corpus

ROOT = Path(__file__).resolve().parents[2]


async def _run(pool: ScopePool | None) -> tuple[list[ScopeResult], list[int]]:
    items, vectors = corpus(per_topic=60, letters=12)
    params, stages = SynthesisParams(), default_stages()
    copies = find_copies(items, stages.copies, params.seed)
    finished: list[int] = []

    async def scope_done(count: int) -> None:
        finished.append(count)

    results = await synthesise_articles(
        article_scopes(items),
        items,
        vectors,
        copies,
        params,
        stages,
        pool,
        scope_done,
    )
    return results, finished


def _comparable(result: ScopeResult) -> dict[str, Any]:
    """``result`` as plain data (each group's centroid as a list, which compares by value)."""
    plain = asdict(result)
    for group in plain["clusters"]:
        if group["centroid"] is not None:
            group["centroid"] = group["centroid"].tolist()
    return plain


@pytest.fixture(scope="module")
def pool() -> Iterator[ScopePool]:
    scope_pool = ScopePool(2)
    yield scope_pool
    scope_pool.close()


@pytest.mark.anyio
async def test_a_pool_gives_the_same_clusters_quotes_and_map_as_one_process(
    pool: ScopePool,
) -> None:
    alone, _ = await _run(None)
    pooled, finished = await _run(pool)
    assert [result.scope for result in pooled] == [result.scope for result in alone]
    assert [_comparable(result) for result in pooled] == [_comparable(result) for result in alone]
    # Every article reported as it finished.
    assert finished == list(range(1, len(alone) + 1))
    assert any(len(result.clusters) > 1 for result in pooled)


class _CountingPool(ScopePool):
    """A real pool that records how many scopes it was handed at once."""

    def __init__(self, processes: int) -> None:
        super().__init__(processes)
        self.handed = 0
        self.most_handed = 0

    async def run(self, data: ScopeInput, params: SynthesisParams, stages: Stages) -> ScopeResult:
        self.handed += 1
        self.most_handed = max(self.most_handed, self.handed)
        try:
            return await super().run(data, params, stages)
        finally:
            self.handed -= 1


@pytest.mark.anyio
async def test_an_article_s_vectors_are_read_only_when_a_process_is_free_to_group_it() -> None:
    # Each scope handed to the pool is a copy of its items and vectors: reading them all at
    # once held the whole run's vectors (2 GB at a million contributions) for the whole stage.
    items, vectors = corpus(per_topic=30, letters=6)
    items = [replace(item, article_key=f"art-{item.id % 6}") for item in items]
    params, stages = SynthesisParams(), default_stages()
    copies = find_copies(items, stages.copies, params.seed)
    scopes = article_scopes(items)
    finished: list[int] = []
    reads: list[list[int]] = []
    most_outstanding = 0

    def read(rows: np.ndarray) -> np.ndarray:
        nonlocal most_outstanding
        reads.append(rows.tolist())
        most_outstanding = max(most_outstanding, len(reads) - len(finished))
        return vectors[rows]

    async def scope_done(count: int) -> None:
        finished.append(count)

    counting = _CountingPool(2)
    try:
        results = await synthesise_articles(
            scopes, items, read, copies, params, stages, counting, scope_done
        )
    finally:
        counting.close()
    assert len(results) == 6
    assert finished == [1, 2, 3, 4, 5, 6]
    assert counting.most_handed == counting.processes
    # Each article read once, whole, and never more than one per process at a time.
    assert sorted(reads) == sorted(scopes.values())
    assert most_outstanding == counting.processes
    # What the themes need of the vectors travels back with each group.
    for result in results:
        for group in result.clusters:
            if group.position >= 0:
                assert group.centroid is not None
                expected = np.mean([v / np.linalg.norm(v) for v in vectors[group.members]], axis=0)
                assert np.allclose(group.centroid, expected / np.linalg.norm(expected))


def test_a_scope_travels_with_only_its_own_items_and_copies() -> None:
    items, vectors = corpus(per_topic=30, letters=12)
    # one author posting a text twice on art-1 and once on art-2: a repost group on both
    reposted = "Une piste cyclable protégée entre chaque école et la mairie, partout en France."
    for key in ["art-1", "art-1", "art-2"]:
        items.append(replace(items[0], id=len(items) + 1, article_key=key, text=reposted))
        vectors = np.vstack([vectors, vectors[:1]])
    copies = find_copies(items, default_stages().copies, 0)
    assert copies.campaigns and copies.reposts
    for scope, members in article_scopes(items).items():
        data = scope_input(scope, members, items, vectors[members], copies)
        assert [item.id for item in data.items] == [items[index].id for index in members]
        assert (data.vectors == vectors[members]).all()
        ids = {item.id for item in data.items}
        for kept, every in [
            (data.copies.campaigns, copies.campaigns),
            (data.copies.reposts, copies.reposts),
        ]:
            assert kept == [group for group in every if not ids.isdisjoint(group.members)]
    # the repost group goes with both of its articles, as a repost group
    assert all(
        scope_input(scope, members, items, vectors[members], copies).copies.reposts
        == copies.reposts
        for scope, members in article_scopes(items).items()
    )


_ORPHAN_SCRIPT = """
import asyncio, os, sys
from consult.synthesis.parallel import ScopePool

async def main():
    pool = ScopePool(1)
    await pool.warm_up()
    print(*[p.pid for p in pool._executor._processes.values()], flush=True)
    await asyncio.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_pool_processes_stop_when_their_worker_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(_ORPHAN_SCRIPT)
    worker = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert worker.stdout is not None
        children = [int(pid) for pid in worker.stdout.readline().split()]
        assert children and all(_alive(pid) for pid in children)
        worker.send_signal(signal.SIGKILL)  # no clean-up: the pool cannot be shut down
        worker.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        if worker.stdout is not None:
            worker.stdout.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
