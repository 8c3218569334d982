"""Clustering a run's scopes on several cores.

Each scope (the consultation, then one per article) is clustered independently, and the
seeded UMAP layout that dominates the cost runs on a single thread (the price of
reproducibility). So the articles go to a pool of worker processes while the job's own process
clusters the consultation scope; on two cores this halves the clustering stage.

The pool is started once per worker process and reused by every run: each of its processes
compiles UMAP's numba code when it starts (5 to 18 s), not at every run. Only an article's own
items, vectors and campaigns travel to a process, and the result comes back with its indexes
mapped onto the run's items, so a report is the same whatever the number of processes.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context

import anyio.to_thread
import numpy as np
from numpy.typing import NDArray

from consult.nlp.campaigns import Campaign
from consult.synthesis.pipeline import (
    CONSULTATION_SCOPE,
    Item,
    ScopeResult,
    SynthesisParams,
    synthesise_scope,
)

logger = logging.getLogger("consult.synthesis")

ScopeDone = Callable[[int], Awaitable[None]]
"""Called with the number of scopes finished so far, after each one."""


@dataclass(frozen=True)
class ScopeInput:
    """What one process needs to cluster one scope: its items, their vectors, its campaigns."""

    scope: str
    items: list[Item]
    vectors: NDArray[np.float32]
    campaigns: list[Campaign]


def scope_input(
    scope: str,
    members: Sequence[int],
    items: Sequence[Item],
    vectors: NDArray[np.float32],
    campaigns: Sequence[Campaign],
) -> ScopeInput:
    """The part of a run that the scope made of ``members`` (indexes into ``items``) needs."""
    ids = {items[index].id for index in members}
    return ScopeInput(
        scope=scope,
        items=[items[index] for index in members],
        vectors=np.ascontiguousarray(vectors[list(members)]),
        campaigns=[c for c in campaigns if not ids.isdisjoint(c.members)],
    )


def synthesise_input(data: ScopeInput, params: SynthesisParams) -> ScopeResult:
    """Cluster one scope from its own data (run inside a pool process)."""
    return synthesise_scope(
        data.scope,
        range(len(data.items)),
        data.items,
        data.vectors,
        data.campaigns,
        params,
    )


def mapped(result: ScopeResult, members: Sequence[int]) -> ScopeResult:
    """``result``, computed on a scope's own items, with indexes into the run's items."""
    for cluster in result.clusters:
        cluster.members = sorted(members[index] for index in cluster.members)
        cluster.quotes = [members[index] for index in cluster.quotes]
        cluster.amendments = [members[index] for index in cluster.amendments]
    result.coordinates = {members[index]: point for index, point in result.coordinates.items()}
    return result


def _exit_with_parent() -> None:
    """Stop this pool process as soon as the process that started it is gone.

    A worker killed outright (out of memory, SIGKILL) cannot shut its pool down, and the pool's
    processes, which hold both ends of their task queue, would wait for work forever.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_process() -> None:
    """Set up a new pool process: one BLAS thread, then compile the clustering code."""
    from threadpoolctl import threadpool_limits

    _exit_with_parent()

    # The pool already puts one process on each core; a BLAS library that also started a
    # thread per core in each of them would have its threads spin-waiting on one another
    # (measured: the pool then saved 18 % of the clustering time instead of about half).
    threadpool_limits(1)
    _warm_up()


def _warm_up() -> None:
    """Run a tiny synthesis, so that UMAP's numba code is compiled and every library a scope
    uses is loaded before the first real one."""
    rng = np.random.default_rng(0)
    words = ("loyer", "vélo", "école", "données", "santé", "énergie")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    items = [
        Item(
            id=index + 1,
            article_key="art-1",
            kind="argument",
            stance=None,
            text=f"{words[index % 6]} {words[(index * 7) % 6]} proposition {index}",
            author=f"warm-up:{index}",
            created_at=moment,
        )
        for index in range(120)
    ]
    centres = rng.normal(size=(6, 16))
    vectors = np.asarray(
        [centres[index % 6] + 0.1 * rng.normal(size=16) for index in range(120)],
        dtype=np.float32,
    )
    synthesise_scope("art-1", range(120), items, vectors, [], SynthesisParams())


def _synthesise_here(
    scope: str,
    members: Sequence[int],
    items: Sequence[Item],
    vectors: NDArray[np.float32],
    campaigns: Sequence[Campaign],
    params: SynthesisParams,
    single_threaded: bool,
) -> ScopeResult:
    """Cluster a scope in this process; with one BLAS thread while the pool's processes hold
    the other cores (more threads than cores spin-wait on one another)."""
    if not single_threaded:
        return synthesise_scope(scope, members, items, vectors, campaigns, params)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return synthesise_scope(scope, members, items, vectors, campaigns, params)


class ScopePool:
    """Worker processes that cluster article scopes; rebuilt if one of them dies."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("a scope pool needs at least one process")
        self.processes = processes
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        # "spawn": the job's process runs an event loop and threads, which fork would copy
        # in whatever state they are.
        return ProcessPoolExecutor(
            self.processes, mp_context=get_context("spawn"), initializer=_start_process
        )

    async def warm_up(self) -> None:
        """Start every process now (each compiles the clustering code as it starts), and
        compile it in this process too, which clusters the consultation's own scope."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            anyio.to_thread.run_sync(_warm_up),
            *(loop.run_in_executor(self._executor, _warm_up) for _ in range(self.processes)),
        )

    async def run(self, data: ScopeInput, params: SynthesisParams) -> ScopeResult:
        """Cluster one scope in a pool process.

        Cancelling the caller drops the scope if no process has started it. If a process
        dies (out of memory, killed), the run fails and the pool is replaced for the next.
        """
        executor = self._executor
        try:
            future = executor.submit(synthesise_input, data, params)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            if self._executor is executor:
                logger.warning("a clustering process died; starting a new pool")
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
            raise

    def close(self) -> None:
        """Stop the processes once they finish the scope in hand; queued scopes are dropped.

        Waits for them (call it from a thread in an event loop): an executor left to the
        garbage collector while its processes stop can raise in its clean-up callback.
        """
        self._executor.shutdown(wait=True, cancel_futures=True)


async def synthesise_scopes(
    scopes: dict[str, list[int]],
    items: Sequence[Item],
    vectors: NDArray[np.float32],
    campaigns: Sequence[Campaign],
    params: SynthesisParams,
    pool: ScopePool | None,
    scope_done: ScopeDone,
) -> list[ScopeResult]:
    """Every scope's result, in the order of ``scopes``.

    Without a pool the scopes are clustered one after another in a thread of this process.
    With one, the articles go to the pool, largest first, while a thread here clusters the
    consultation scope, which would cost more to send (every item and vector) than to keep.
    """
    finished = 0

    async def count_one() -> None:
        nonlocal finished
        finished += 1
        await scope_done(finished)

    async def here(scope: str, single_threaded: bool = False) -> ScopeResult:
        result = await anyio.to_thread.run_sync(
            _synthesise_here,
            scope,
            scopes[scope],
            items,
            vectors,
            campaigns,
            params,
            single_threaded,
        )
        await count_one()
        return result

    if pool is None:
        return [await here(scope) for scope in scopes]

    async def in_pool(scope: str) -> ScopeResult:
        data = scope_input(scope, scopes[scope], items, vectors, campaigns)
        result = await pool.run(data, params)
        await count_one()
        return mapped(result, scopes[scope])

    articles = sorted(
        (scope for scope in scopes if scope != CONSULTATION_SCOPE),
        key=lambda scope: -len(scopes[scope]),
    )
    tasks = {scope: asyncio.ensure_future(in_pool(scope)) for scope in articles}
    if CONSULTATION_SCOPE in scopes:
        tasks[CONSULTATION_SCOPE] = asyncio.ensure_future(here(CONSULTATION_SCOPE, True))
    try:
        await asyncio.gather(*tasks.values())
    finally:
        # Interrupted or failed: the scopes no process has started yet are dropped.
        for task in tasks.values():
            task.cancel()
    return [tasks[scope].result() for scope in scopes]
