"""Clustering a run's scopes in a pool of processes gives the report of one process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import asdict

import pytest

from consult.synthesis.parallel import ScopePool, scope_input, synthesise_scopes
from consult.synthesis.pipeline import (
    CONSULTATION_SCOPE,
    ScopeResult,
    SynthesisParams,
    find_campaigns,
    scopes_of,
)
from tests.synthesis.test_pipeline import corpus


def _run(pool: ScopePool | None) -> tuple[list[ScopeResult], list[int]]:
    items, vectors = corpus(per_topic=60, letters=12)
    params = SynthesisParams()
    campaigns = find_campaigns(items, params.campaigns)
    finished: list[int] = []

    async def scope_done(count: int) -> None:
        finished.append(count)

    results = asyncio.run(
        synthesise_scopes(scopes_of(items), items, vectors, campaigns, params, pool, scope_done)
    )
    return results, finished


@pytest.fixture(scope="module")
def pool() -> Iterator[ScopePool]:
    scope_pool = ScopePool(2)
    yield scope_pool
    scope_pool.close()


def test_a_pool_gives_the_same_clusters_quotes_and_map_as_one_process(pool: ScopePool) -> None:
    alone, _ = _run(None)
    pooled, finished = _run(pool)
    assert [result.scope for result in pooled] == [result.scope for result in alone]
    assert [asdict(result) for result in pooled] == [asdict(result) for result in alone]
    # Every scope reported as it finished, the consultation's and each article's.
    assert finished == list(range(1, len(alone) + 1))
    assert any(len(result.clusters) > 1 for result in pooled if result.scope != CONSULTATION_SCOPE)


def test_a_scope_travels_with_only_its_own_items_and_campaigns() -> None:
    items, vectors = corpus(per_topic=30, letters=12)
    campaigns = find_campaigns(items, SynthesisParams().campaigns)
    members = scopes_of(items)["art-1"]
    data = scope_input("art-1", members, items, vectors, campaigns)
    assert [item.id for item in data.items] == [items[index].id for index in members]
    assert (data.vectors == vectors[members]).all()
    ids = {item.id for item in data.items}
    assert all(not ids.isdisjoint(campaign.members) for campaign in data.campaigns)
    assert len(data.campaigns) <= len(campaigns)
