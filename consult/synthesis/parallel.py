"""Grouping a run's articles on several cores.

Each article is grouped independently, and the seeded UMAP layout that dominates the cost runs
on a single thread (the price of reproducibility). So the articles go to a pool of worker
processes, the largest first; on two cores this halves the grouping stage. The themes, which
only compare the articles' groups, are gathered afterwards in the job's own process.

The pool is started once per worker process and reused by every run: each of its processes
compiles UMAP's numba code when it starts (5 to 18 s), not at every run. Only an article's own
items, vectors and copies travel to a process, and the result comes back with its indexes
mapped onto the run's items, so a report is the same whatever the number of processes. An
article's copies travel as the detector returned them, campaigns and reposts apart (the pipeline
treats them differently), reduced to the groups with a copy on the article.
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

from consult.nlp.campaigns import Copies
from consult.synthesis.pipeline import (
    Item,
    RowReader,
    ScopeResult,
    Stages,
    SynthesisParams,
    default_stages,
    row_reader,
    synthesise_article,
)

logger = logging.getLogger("consult.synthesis")

ScopeDone = Callable[[int], Awaitable[None]]
"""Called with the number of scopes finished so far, after each one."""


@dataclass(frozen=True)
class ScopeInput:
    """What one process needs to cluster one scope: its items, their vectors, its copies."""

    scope: str
    items: list[Item]
    vectors: NDArray[np.float32]
    copies: Copies
    """The campaigns and repost groups with a copy in the scope."""


def scope_input(
    scope: str,
    members: Sequence[int],
    items: Sequence[Item],
    scope_vectors: NDArray[np.float32],
    copies: Copies,
) -> ScopeInput:
    """The part of a run that the scope made of ``members`` (indexes into ``items``) needs;
    ``scope_vectors`` are the members' vectors, in the order of ``members``."""
    ids = {items[index].id for index in members}
    return ScopeInput(
        scope=scope,
        items=[items[index] for index in members],
        vectors=scope_vectors,
        copies=Copies(
            campaigns=[c for c in copies.campaigns if not ids.isdisjoint(c.members)],
            reposts=[c for c in copies.reposts if not ids.isdisjoint(c.members)],
        ),
    )


def synthesise_input(data: ScopeInput, params: SynthesisParams, stages: Stages) -> ScopeResult:
    """Group one article from its own data (run inside a pool process)."""
    return synthesise_article(
        data.scope,
        range(len(data.items)),
        data.items,
        data.vectors,
        data.copies,
        params,
        stages,
    )


def mapped(result: ScopeResult, members: Sequence[int]) -> ScopeResult:
    """``result``, computed on a scope's own items, with indexes into the run's items."""
    for group in result.clusters:
        group.members = sorted(members[index] for index in group.members)
        group.quotes = [members[index] for index in group.quotes]
        group.amendments = [members[index] for index in group.amendments]
        if group.discussion is not None:
            group.discussion = members[group.discussion]
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
    synthesise_article(
        "art-1", range(120), items, vectors, Copies([], []), SynthesisParams(), default_stages()
    )


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
        """Start every process now (each compiles the clustering code as it starts)."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, _warm_up) for _ in range(self.processes)),
        )

    async def run(self, data: ScopeInput, params: SynthesisParams, stages: Stages) -> ScopeResult:
        """Group one article in a pool process.

        Cancelling the caller drops the scope if no process has started it. If a process
        dies (out of memory, killed), the run fails and the pool is replaced for the next.
        """
        executor = self._executor
        try:
            future = executor.submit(synthesise_input, data, params, stages)
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


async def synthesise_articles(
    scopes: dict[str, list[int]],
    items: Sequence[Item],
    vectors: NDArray[np.float32] | RowReader,
    copies: Copies,
    params: SynthesisParams,
    stages: Stages,
    pool: ScopePool | None,
    scope_done: ScopeDone,
) -> list[ScopeResult]:
    """Every article's result, in the order of ``scopes``; ``scope_done`` after each.

    ``vectors`` is the run's matrix, or a reader of its rows (a run's :class:`VectorFile`): an
    article's vectors are read when it is grouped and let go once it is, the results keeping
    what the themes need of them (each group's centroid). Without a pool the articles are
    grouped one after another in a thread of this process; with one, in its processes, the
    largest first.
    """
    finished = 0

    async def count_one() -> None:
        nonlocal finished
        finished += 1
        await scope_done(finished)

    read = row_reader(vectors)

    async def input_of(scope: str) -> ScopeInput:
        members = scopes[scope]
        rows = np.asarray(members, dtype=np.intp)
        scope_vectors = np.ascontiguousarray(await anyio.to_thread.run_sync(read, rows))
        return scope_input(scope, members, items, scope_vectors, copies)

    async def here(scope: str) -> ScopeResult:
        data = await input_of(scope)
        result = await anyio.to_thread.run_sync(synthesise_input, data, params, stages)
        del data
        await count_one()
        return mapped(result, scopes[scope])

    if pool is None:
        return [await here(scope) for scope in scopes]

    # A scope's input is a copy of its items and vectors: made only when a process is free to
    # take it, or every scope's copy would exist at once, a copy of the whole run (2 GB of
    # vectors at a million contributions). Making one takes a fraction of a second, grouping
    # it seconds: the processes hardly wait.
    in_flight = asyncio.Semaphore(pool.processes)

    async def in_pool(scope: str) -> ScopeResult:
        async with in_flight:
            data = await input_of(scope)
            result = await pool.run(data, params, stages)
            del data
        await count_one()
        return mapped(result, scopes[scope])

    largest_first = sorted(scopes, key=lambda scope: -len(scopes[scope]))
    tasks = {scope: asyncio.ensure_future(in_pool(scope)) for scope in largest_first}
    try:
        await asyncio.gather(*tasks.values())
    finally:
        # Interrupted or failed: the articles no process has started yet are dropped.
        for task in tasks.values():
            task.cancel()
    return [tasks[scope].result() for scope in scopes]
