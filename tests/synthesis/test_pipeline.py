"""The synthesis pipeline on in-memory data: every run keeps its invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.nlp.campaigns import Campaign, CampaignParams
from consult.synthesis.pipeline import (
    CONSULTATION_SCOPE,
    OTHER,
    Item,
    ScopeResult,
    SynthesisParams,
    find_campaigns,
    input_hash,
    scopes_of,
    synthesise_scope,
)
from tests.support.corpus import START, TOPICS, corpus


def run_all(
    items: list[Item], vectors: np.ndarray, params: SynthesisParams
) -> tuple[list[Campaign], dict[str, ScopeResult]]:
    campaigns = find_campaigns(items, params.campaigns)
    return campaigns, {
        scope: synthesise_scope(scope, members, items, vectors, campaigns, params)
        for scope, members in scopes_of(items).items()
    }


def test_every_contribution_is_in_exactly_one_cluster_of_each_scope() -> None:
    items, vectors = corpus()
    _, results = run_all(items, vectors, SynthesisParams())
    scopes = scopes_of(items)
    assert set(results) == {CONSULTATION_SCOPE, "art-1", "art-2"}
    for scope, result in results.items():
        placed = [member for c in result.clusters for member in c.members]
        assert sorted(placed) == sorted(scopes[scope])
        assert result.size == len(scopes[scope])
        for c in result.clusters:
            # quotes are real members, amendments are members of the kind
            assert set(c.quotes) <= set(c.members)
            assert all(items[i].kind == "amendment" for i in c.amendments)
            assert c.votes == (
                sum(items[i].votes_for for i in c.members),
                sum(items[i].votes_mixed for i in c.members),
                sum(items[i].votes_against for i in c.members),
            )
            assert sum(c.stances.values()) == sum(1 for i in c.members if items[i].stance)
        assert [c.position for c in result.clusters if c.position != OTHER] == list(
            range(len([c for c in result.clusters if c.position != OTHER]))
        )


def test_topics_become_clusters_and_the_campaign_counts_once() -> None:
    items, vectors = corpus()
    campaigns, results = run_all(items, vectors, SynthesisParams())
    assert len(campaigns) == 1 and campaigns[0].copies == 12
    whole = results[CONSULTATION_SCOPE]
    clusters = [c for c in whole.clusters if c.position != OTHER]
    topics_found = {
        frozenset(items[i].text.rsplit(" ", 1)[-1] for i in c.members if items[i].id <= 90)
        for c in clusters
    }
    assert {frozenset({f"{t}."}) for t in TOPICS} <= topics_found
    # the twelve signatures sit together, and as one text of the clustering
    letter_ids = set(campaigns[0].members)
    holding = [c for c in whole.clusters if letter_ids & {items[i].id for i in c.members}]
    assert len(holding) == 1
    assert holding[0].units == len(holding[0].members) - 11
    assert holding[0].stances["contre"] >= 12


def test_same_input_and_seed_give_the_same_result() -> None:
    items, vectors = corpus()
    first = run_all(items, vectors, SynthesisParams())[1]
    second = run_all(list(reversed(items))[::-1], vectors.copy(), SynthesisParams())[1]
    for scope in first:
        assert [
            (c.position, c.members, c.quotes, c.title, c.keywords) for c in first[scope].clusters
        ] == [
            (c.position, c.members, c.quotes, c.title, c.keywords) for c in second[scope].clusters
        ]
        assert first[scope].coordinates == second[scope].coordinates


def test_input_hash_changes_with_text_votes_model_and_params_not_order() -> None:
    items, _ = corpus(per_topic=3, letters=0)
    base = input_hash("model-a", SynthesisParams(), items)
    assert base == input_hash("model-a", SynthesisParams(), list(reversed(items)))
    changed_vote = [items[0].__class__(**{**items[0].__dict__, "votes_for": 99}), *items[1:]]
    assert input_hash("model-a", SynthesisParams(), changed_vote) != base
    assert input_hash("model-b", SynthesisParams(), items) != base
    assert input_hash("model-a", SynthesisParams(seed=1), items) != base


def test_params_survive_their_json_form() -> None:
    params = SynthesisParams(seed=3, campaigns=CampaignParams(threshold=0.9))
    assert SynthesisParams.from_json(params.as_json()) == params
    # A run recorded before articles had a fit limit of their own laid them out like the whole.
    assert SynthesisParams.from_json({}) == SynthesisParams(article_fit_limit=None)


def test_articles_lay_out_fewer_rows_than_the_whole_consultation() -> None:
    params = SynthesisParams()
    assert params.cluster_params(CONSULTATION_SCOPE).fit_limit == 4000
    assert params.cluster_params("art-3").fit_limit == 2000
    assert SynthesisParams(article_fit_limit=None).cluster_params("art-3").fit_limit == 4000


def test_a_tiny_scope_is_one_other_group() -> None:
    items, vectors = corpus(per_topic=2, letters=0)
    result = synthesise_scope(
        CONSULTATION_SCOPE, list(range(len(items))), items, vectors, [], SynthesisParams()
    )
    assert result.too_small
    assert [c.position for c in result.clusters] == [OTHER]
    assert result.clusters[0].members == list(range(len(items)))


def test_an_empty_scope_gives_no_clusters() -> None:
    result = synthesise_scope(
        CONSULTATION_SCOPE, [], [], np.zeros((0, 8), np.float32), [], SynthesisParams()
    )
    assert result.clusters == [] and result.size == 0


def test_empty_texts_and_zero_vectors_stay_other() -> None:
    items, vectors = corpus()
    blank = Item(len(items) + 1, "art-1", "annotation", None, "", "account:x", START)
    items.append(blank)
    vectors = np.vstack([vectors, np.zeros((1, vectors.shape[1]), np.float32)])
    _, results = run_all(items, vectors, SynthesisParams())
    other = [c for c in results[CONSULTATION_SCOPE].clusters if c.position == OTHER]
    assert other and len(items) - 1 in other[0].members


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    per_topic=st.integers(min_value=0, max_value=25),
    letters=st.integers(min_value=0, max_value=8),
    seed=st.integers(min_value=0, max_value=3),
)
def test_invariants_hold_for_any_corpus(per_topic: int, letters: int, seed: int) -> None:
    items, vectors = corpus(per_topic, letters, seed)
    if not items:
        return
    campaigns, results = run_all(items, vectors, SynthesisParams(seed=seed))
    for scope, members in scopes_of(items).items():
        placed = sorted(m for c in results[scope].clusters for m in c.members)
        assert placed == sorted(members)
    for campaign in campaigns:
        ids = set(campaign.members)
        holders = [
            c
            for c in results[CONSULTATION_SCOPE].clusters
            if ids & {items[i].id for i in c.members}
        ]
        assert len(holders) == 1


@pytest.mark.parametrize("text", ["🙂🙂🙂", "x" * 20_000, "Ünïcödé ç’est ça"])
def test_odd_texts_are_handled(text: str) -> None:
    items, vectors = corpus()
    items.append(Item(len(items) + 1, "art-1", "annotation", None, text, "account:odd", START))
    vectors = np.vstack([vectors, np.ones((1, vectors.shape[1]), np.float32)])
    _, results = run_all(items, vectors, SynthesisParams())
    assert sum(len(c.members) for c in results[CONSULTATION_SCOPE].clusters) == len(items)
