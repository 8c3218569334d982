"""The synthesis pipeline on in-memory data: every run keeps its invariants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.nlp.campaigns import Copies
from consult.nlp.cluster import PCAReducer
from consult.nlp.label import ClusterLabel
from consult.synthesis import pipeline
from consult.synthesis.pipeline import (
    OTHER,
    Item,
    ScopeResult,
    Stages,
    SynthesisParams,
    article_scopes,
    default_stages,
    find_copies,
    gather_themes,
    input_hash,
    map_projection,
    synthesise_article,
)
from tests.support.corpus import START, TOPICS, corpus

NONE = Copies(campaigns=[], reposts=[])
# The instant reducer: what is tested here is the pipeline's bookkeeping, not UMAP.
STAGES = replace(
    default_stages(), clusterer=replace(default_stages().clusterer, reducer=PCAReducer())
)


def run_all(
    items: list[Item], vectors: np.ndarray, params: SynthesisParams, stages: Stages = STAGES
) -> tuple[Copies, dict[str, ScopeResult], ScopeResult]:
    copies = find_copies(items, stages.copies, params.seed)
    articles = {
        scope: synthesise_article(scope, members, items, vectors, copies, params, stages)
        for scope, members in article_scopes(items).items()
    }
    themes = gather_themes(list(articles.values()), items, vectors, params, stages)
    return copies, articles, themes


def with_discussion(
    items: list[Item], vectors: np.ndarray, replies: int
) -> tuple[list[Item], np.ndarray]:
    """An amendment on art-1 and `replies` arguments about it, the arguments' texts on another
    subject than the amendment's (they argue about it; they need not repeat it)."""
    rng = np.random.default_rng(9)
    amendment = Item(
        len(items) + 1,
        "art-1",
        "amendment",
        None,
        "Supprimer l'alinéa 2 qui crée une taxe nouvelle sur les associations.",
        "account:author",
        START,
        votes_for=7,
    )
    added = [amendment]
    for n in range(replies):
        added.append(
            Item(
                len(items) + 2 + n,
                "art-1",
                "argument",
                "pour" if n % 3 else "contre",
                f"Je suis d'accord, argument numéro {n} {rng.integers(10**6)}.",
                f"account:arguer-{n}",
                START + timedelta(minutes=n),
                parent_id=amendment.id,
            )
        )
    extra = rng.normal(size=(len(added), vectors.shape[1]))
    return [*items, *added], np.vstack([vectors, extra.astype(np.float32)])


def test_every_contribution_is_in_exactly_one_group_per_level() -> None:
    items, vectors = corpus()
    _, articles, themes = run_all(items, vectors, SynthesisParams())
    scopes = article_scopes(items)
    assert set(articles) == {"art-1", "art-2"}
    for scope, result in articles.items():
        placed = [member for c in result.clusters for member in c.members]
        assert sorted(placed) == sorted(scopes[scope])
        for c in result.clusters:
            # an article group holds one article; quotes are members; amendments are amendments
            assert {items[i].article_key for i in c.members} == {scope}
            assert set(c.quotes) <= set(c.members)
            assert all(items[i].kind == "amendment" for i in c.amendments)
        positions = [c.position for c in result.clusters if c.position != OTHER]
        assert positions == list(range(len(positions)))
    assert sorted(m for c in themes.clusters for m in c.members) == list(range(len(items)))
    for theme in themes.clusters:
        if theme.position == OTHER:
            continue
        gathered = [
            g
            for scope, position in theme.articles
            for g in articles[scope].clusters
            if g.position == position
        ]
        assert sorted(m for g in gathered for m in g.members) == theme.members
        assert all(g.theme == theme.position for g in gathered)


@dataclass
class CallingLabeller:
    """Names every group after the call that labels it (each scope is one call)."""

    calls: int = 0

    def label(
        self,
        texts: Sequence[str],
        labels: np.ndarray,
        central: Mapping[int, int],
        weights: Sequence[float],
        headlines: Sequence[str],
    ) -> dict[int, ClusterLabel]:
        self.calls += 1
        return {
            int(c): ClusterLabel((f"mot{self.calls}",), f"appel {self.calls}")
            for c in sorted(set(labels.tolist()))
            if c >= 0
        }

    def describe(self) -> dict[str, object]:
        return {"name": "calls"}


def test_a_theme_of_one_group_has_that_group_s_name() -> None:
    items, vectors = corpus()
    stages = replace(STAGES, labeller=CallingLabeller())
    _, articles, themes = run_all(items, vectors, SynthesisParams(), stages)
    alone = [t for t in themes.clusters if len(t.articles) == 1]
    assert alone, "the letter of art-2 has no twin on art-1"
    for theme in alone:
        ((scope, position),) = theme.articles
        (group,) = [g for g in articles[scope].clusters if g.position == position]
        assert (theme.title, theme.keywords, theme.generic) == (
            group.title,
            group.keywords,
            group.generic,
        )
        assert theme.title.startswith("appel")
    # themes of several groups are named from all their texts, in the themes' own call
    assert {t.title for t in themes.clusters if len(t.articles) > 1} == {"appel 3"}


def test_stances_are_counted_per_target_and_never_added_across_targets() -> None:
    items, vectors = corpus(per_topic=12, letters=0)
    items, vectors = with_discussion(items, vectors, replies=6)
    _, articles, _themes = run_all(items, vectors, SynthesisParams())
    for result in articles.values():
        for c in result.clusters:
            expected: dict[int | None, dict[str, int]] = {}
            for i in c.members:
                if items[i].kind == "argument" and items[i].stance:
                    stances = expected.setdefault(items[i].parent_id, {})
                    stances[items[i].stance or ""] = stances.get(items[i].stance or "", 0) + 1
            assert {t.target: t.stances for t in c.targets} == expected


def test_a_discussed_contribution_is_a_group_with_its_whole_discussion() -> None:
    items, vectors = corpus(per_topic=12, letters=0)
    items, vectors = with_discussion(items, vectors, replies=6)
    amendment = next(i for i, item in enumerate(items) if item.kind == "amendment")
    _, articles, _themes = run_all(items, vectors, SynthesisParams())
    (group,) = [c for c in articles["art-1"].clusters if c.discussion == amendment]
    thread = [
        i for i, item in enumerate(items) if i == amendment or item.parent_id == items[amendment].id
    ]
    assert group.members == thread and group.quotes[0] == amendment
    assert {t.target for t in group.targets} == {items[amendment].id}
    # Below the size of a discussion, the arguments still follow their target.
    items, vectors = corpus(per_topic=12, letters=0)
    items, vectors = with_discussion(items, vectors, replies=2)
    _, articles, _themes = run_all(items, vectors, SynthesisParams())
    thread_ids = {item.id for item in items if item.kind == "amendment" or item.parent_id}
    holders = [
        c for c in articles["art-1"].clusters if thread_ids & {items[i].id for i in c.members}
    ]
    assert len(holders) == 1 and thread_ids <= {items[i].id for i in holders[0].members}


def test_topics_become_groups_and_a_signed_letter_is_a_group_of_its_own() -> None:
    items, vectors = corpus()
    copies, articles, _themes = run_all(items, vectors, SynthesisParams())
    campaigns = copies.campaigns
    assert len(campaigns) == 1 and campaigns[0].copies == 12 and copies.reposts == []
    topics_found = {
        frozenset(items[i].text.rsplit(" ", 1)[-1] for i in c.members if items[i].id <= 90)
        for result in articles.values()
        for c in result.clusters
        if c.position != OTHER
    }
    assert {frozenset({f"{t}."}) for t in TOPICS} <= topics_found
    # the twelve signatures sit together, as one text of the grouping
    letter_ids = set(campaigns[0].members)
    holding = [
        c for c in articles["art-2"].clusters if letter_ids & {items[i].id for i in c.members}
    ]
    assert len(holding) == 1 and holding[0].position != OTHER
    assert {items[i].id for i in holding[0].members} == letter_ids and holding[0].units == 1


REPOSTED = (
    "Je demande que les pistes cyclables protégées relient chaque commune voisine, avec un "
    "financement de l'État pour les petites communes rurales qui n'en ont pas les moyens."
)


def with_reposts(
    items: list[Item], vectors: np.ndarray, copies: int
) -> tuple[list[Item], np.ndarray]:
    """One author posting the same text ``copies`` times on art-1 (one vector for one text,
    near the cycling topic's)."""
    velo = next(i for i, item in enumerate(items) if item.text.endswith("velo."))
    added = [
        Item(
            len(items) + 1 + n,
            "art-1",
            "annotation",
            None,
            REPOSTED,
            "account:reposter",
            START + timedelta(hours=9, minutes=n),
        )
        for n in range(copies)
    ]
    extra = np.repeat(vectors[velo : velo + 1], copies, axis=0)
    return [*items, *added], np.vstack([vectors, extra])


def test_a_text_reposted_by_its_author_counts_once_and_is_no_group_of_its_own() -> None:
    items, vectors = corpus()
    once, once_vectors = with_reposts(items, vectors, 1)
    many, many_vectors = with_reposts(items, vectors, 7)  # more than a discussion's size
    copies, articles, themes = run_all(many, many_vectors, SynthesisParams())
    assert copies.campaigns[0].copies == 12
    (repost,) = copies.reposts
    assert repost.copies == 7 and repost.distinct_authors == 1
    ids = set(repost.members)
    (holder,) = [c for c in articles["art-1"].clusters if ids & {many[i].id for i in c.members}]
    assert ids <= {many[i].id for i in holder.members}
    # not a group of its own: it is one voice, clustered as one text with the others
    assert {many[i].id for i in holder.members} != ids
    _, alone, _ = run_all(once, once_vectors, SynthesisParams())
    (same,) = [c for c in alone["art-1"].clusters if once[-1].id in {once[i].id for i in c.members}]
    # the seven copies are one unit, as the single copy was
    assert holder.position == same.position and holder.units == same.units
    assert len(holder.members) == len(same.members) + 6
    themed = [t for t in themes.clusters if ids & {many[i].id for i in t.members}]
    assert len(themed) == 1 and themed[0].units == sum(
        g.units
        for result in articles.values()
        for g in result.clusters
        if g.theme == themed[0].position and g.position != OTHER
    )


def test_same_input_and_seed_give_the_same_result() -> None:
    items, vectors = corpus()

    def shape(result: ScopeResult) -> list[object]:
        return [(c.position, c.members, c.quotes, c.title, c.keywords) for c in result.clusters]

    _, first, first_themes = run_all(items, vectors, SynthesisParams())
    _, second, second_themes = run_all(list(items), vectors.copy(), SynthesisParams())
    for scope in first:
        assert shape(first[scope]) == shape(second[scope])
        assert first[scope].coordinates == second[scope].coordinates
    assert shape(first_themes) == shape(second_themes)


def test_the_seed_reaches_the_clustering() -> None:
    """UMAP's layout is drawn from the run's seed (the reducer receives it)."""
    seen: list[int] = []

    class Recording(PCAReducer):
        def fit_transform(self, vectors: np.ndarray, seed: int) -> np.ndarray:
            seen.append(seed)
            return super().fit_transform(vectors, seed)

    stages = replace(STAGES, clusterer=replace(STAGES.clusterer, reducer=Recording()))
    items, vectors = corpus(per_topic=40, letters=0)
    run_all(items, vectors, SynthesisParams(seed=7), stages)
    assert seen and set(seen) == {7}


def test_input_hash_changes_with_text_votes_target_model_and_settings_not_order() -> None:
    items, _ = corpus(per_topic=3, letters=0)
    settings_a = {"params": SynthesisParams().as_json(), "stages": STAGES.describe()}
    base = input_hash("model-a", settings_a, items)
    assert base == input_hash("model-a", settings_a, list(reversed(items)))
    assert input_hash("model-a", settings_a, [replace(items[0], votes_for=99), *items[1:]]) != base
    assert input_hash("model-a", settings_a, [replace(items[0], parent_id=5), *items[1:]]) != base
    assert input_hash("model-b", settings_a, items) != base
    seeded = {**settings_a, "params": SynthesisParams(seed=1).as_json()}
    assert input_hash("model-a", seeded, items) != base


def test_params_survive_their_json_form() -> None:
    params = SynthesisParams(seed=3, discussion_size=4)
    assert SynthesisParams.from_json(params.as_json()) == params
    # Runs recorded before these settings existed still read (their unknown keys ignored).
    assert SynthesisParams.from_json(
        {"seed": 2, "cluster": {"reducer": "umap"}}
    ) == SynthesisParams(seed=2)
    with pytest.raises(ValueError):
        SynthesisParams(discussion_size=1)


def test_a_tiny_article_lists_its_contributions_as_they_are() -> None:
    items, vectors = corpus(per_topic=1, letters=0)
    result = synthesise_article(
        "art-2", article_scopes(items)["art-2"], items, vectors, NONE, SynthesisParams(), STAGES
    )
    assert result.too_small
    assert [c.position for c in result.clusters] == [OTHER]


def test_a_few_texts_saying_the_same_thing_form_a_group() -> None:
    items, vectors = corpus(per_topic=6, letters=0)
    result = synthesise_article(
        "art-1", article_scopes(items)["art-1"], items, vectors, NONE, SynthesisParams(), STAGES
    )
    groups = [c for c in result.clusters if c.position != OTHER]
    assert len(groups) == len(TOPICS) and not result.too_small
    for c in groups:
        assert len({items[i].text.rsplit(" ", 1)[-1] for i in c.members}) == 1


def test_an_empty_article_gives_no_groups() -> None:
    result = synthesise_article(
        "art-1", [], [], np.zeros((0, 8), np.float32), NONE, SynthesisParams(), STAGES
    )
    assert result.clusters == [] and result.size == 0


def test_empty_texts_and_zero_vectors_stay_other() -> None:
    items, vectors = corpus()
    blank = Item(len(items) + 1, "art-1", "annotation", None, "", "account:x", START)
    items.append(blank)
    vectors = np.vstack([vectors, np.zeros((1, vectors.shape[1]), np.float32)])
    _, articles, _themes = run_all(items, vectors, SynthesisParams())
    other = [c for c in articles["art-1"].clusters if c.position == OTHER]
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
    copies, articles, themes = run_all(items, vectors, SynthesisParams(seed=seed))
    for scope, members in article_scopes(items).items():
        placed = sorted(m for c in articles[scope].clusters for m in c.members)
        assert placed == sorted(members)
    assert sorted(m for c in themes.clusters for m in c.members) == list(range(len(items)))
    for campaign in [*copies.campaigns, *copies.reposts]:
        ids = set(campaign.members)
        for result in [*articles.values(), themes]:
            holders = [c for c in result.clusters if ids & {items[i].id for i in c.members}]
            assert len(holders) <= len(
                {items[i].article_key for i in range(len(items)) if items[i].id in ids}
            )


@pytest.mark.parametrize("text", ["🙂🙂🙂", "x" * 20_000, "Ünïcödé ç’est ça"])
def test_odd_texts_are_handled(text: str) -> None:
    items, vectors = corpus()
    items.append(Item(len(items) + 1, "art-1", "annotation", None, text, "account:odd", START))
    vectors = np.vstack([vectors, np.ones((1, vectors.shape[1]), np.float32)])
    _, _articles, themes = run_all(items, vectors, SynthesisParams())
    assert sum(len(c.members) for c in themes.clusters) == len(items)


def test_a_large_map_fitted_on_a_sample_places_every_row_as_a_map_of_every_row_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Beyond PROJECTION_FIT_ROWS the map's axes come from a seeded sample and the rows are
    # placed a chunk at a time (a float64 copy of a million rows is 4 GB).
    rng = np.random.default_rng(3)
    rows = pipeline.PROJECTION_FIT_ROWS + 7_001
    # Two blobs apart along one direction, a wide spread along a second: two clear axes.
    side = rng.integers(0, 2, size=rows)
    spread = np.array([1.0, 3.0] + [0.5] * 14)
    vectors = (rng.normal(size=(rows, 16)) * spread).astype(np.float32)
    vectors[:, 0] += 8.0 * side
    members = range(3, rows, 1)  # a scope: not every row of the run

    sampled = map_projection(vectors, members, seed=0)
    assert sampled.shape == (len(members), 2)
    assert np.allclose(sampled.min(axis=0), 0.0) and np.allclose(sampled.max(axis=0), 1.0)
    assert np.array_equal(sampled, map_projection(vectors, members, seed=0))
    # The two blobs lie apart on the map, along its first axis.
    first, second = sampled[side[3:] == 0, 0], sampled[side[3:] == 1, 0]
    assert abs(float(np.median(first)) - float(np.median(second))) > 0.5

    monkeypatch.setattr(pipeline, "PROJECTION_FIT_ROWS", rows)
    whole = map_projection(vectors, members, seed=0)
    for axis in range(2):
        assert np.corrcoef(sampled[:, axis], whole[:, axis])[0, 1] > 0.99
