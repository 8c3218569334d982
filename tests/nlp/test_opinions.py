"""Opinion groups and bridging targets from a vote matrix, as Polis finds them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from consult.nlp.opinions import Matrix, Opinions, opinion_groups

N = np.nan


def _planted(seed: int, participants: int = 300, targets: int = 60) -> tuple[Matrix, list[int]]:
    """3 planted groups, each with its own leaning on every target; half the votes cast."""
    rng = np.random.default_rng(seed)
    leaning = rng.choice([-1.0, 0.0, 1.0], size=(3, targets))
    truth = rng.integers(0, 3, size=participants)
    votes = leaning[truth].copy()
    flip = rng.random(votes.shape) < 0.15
    votes[flip] = rng.choice([-1.0, 0.0, 1.0], size=int(flip.sum()))
    votes[rng.random(votes.shape) < 0.5] = np.nan
    return votes, truth.tolist()


def test_planted_groups_are_found_and_the_same_seed_finds_the_same_groups() -> None:
    matrix, truth = _planted(7)
    found = opinion_groups(matrix, seed=3)
    assert found is not None
    assert len(found.groups) == 3
    assert found.participants == 300
    assert adjusted_rand_score(truth, found.labels) > 0.95
    again = opinion_groups(matrix, seed=3)
    assert again is not None
    assert again.labels.tolist() == found.labels.tolist()
    assert [g.size for g in again.groups] == [g.size for g in found.groups]
    # Largest group first.
    sizes = [g.size for g in found.groups]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == 300


# Two groups of four: A agrees with t0-t3 and rejects t4-t6, B the opposite; t7 bridges them.
# Row 3 says mitigé on t7, row 6 did not vote on it.
HAND = np.array(
    [
        [1, 1, 1, 1, -1, -1, -1, 1],
        [1, 1, 1, 1, -1, -1, -1, 1],
        [1, 1, 1, 1, -1, -1, -1, 1],
        [1, 1, 1, 1, -1, -1, -1, 0],
        [-1, -1, -1, -1, 1, 1, 1, 1],
        [-1, -1, -1, -1, 1, 1, 1, 1],
        [-1, -1, -1, -1, 1, 1, 1, N],
        [-1, -1, -1, -1, 1, 1, 1, -1],
    ]
)


def _hand() -> tuple[Opinions, int, int]:
    found = opinion_groups(HAND, seed=0)
    assert found is not None
    a, b = int(found.labels[0]), int(found.labels[4])
    assert found.labels.tolist() == [a] * 4 + [b] * 4 and a != b
    return found, a, b


def test_the_bridging_rank_on_a_hand_checked_example() -> None:
    found, a, b = _hand()
    # t7: A saw 4 votes, 3 pour -> (3 + 1) / (4 + 2) = 2/3; B saw 3 (the missing vote is not
    # seen), 2 pour -> 3/5. Consensus 2/3 × 3/5 = 0.4. Rejection: A 1/6, B (1 + 1) / 5 = 2/5.
    assert found.seen[a, 7] == 4 and found.seen[b, 7] == 3
    assert found.agrees[a, 7] == 3 and found.agrees[b, 7] == 2
    assert found.consensus[7] == pytest.approx(0.4)
    assert found.rejection[7] == pytest.approx(1 / 6 * 2 / 5)
    # t0: A all pour -> 5/6, B all contre -> 1/6: 5/36. The same for every other target.
    for t in range(7):
        assert found.consensus[t] == pytest.approx(5 / 36)
        assert found.division[t] == pytest.approx(1 / 9)  # variance of 5/6 and 1/6
    assert found.division[7] == pytest.approx(1 / 900)  # variance of 2/3 and 3/5
    assert found.bridging() == [7, 0, 1, 2, 3, 4, 5, 6]
    assert found.dividing(2) == [0, 1]
    # What each group supports and rejects most distinctly.
    group_a = found.groups[a]
    assert [d.target for d in group_a.supports] == [0, 1, 2, 3, 7]
    assert group_a.supports[0].rate == pytest.approx(5 / 6)
    assert group_a.supports[0].rest_rate == pytest.approx(1 / 6)
    assert group_a.supports[0].ratio == pytest.approx(5)
    assert [d.target for d in group_a.rejects] == [4, 5, 6]
    # B agrees with t7 (3/5) less than A does (2/3): not distinctly B's.
    assert [d.target for d in found.groups[b].supports] == [4, 5, 6]


def test_a_missing_vote_is_not_a_mitige() -> None:
    found, _a, b = _hand()
    as_mitige = opinion_groups(np.nan_to_num(HAND, nan=0.0), seed=0)
    assert as_mitige is not None
    assert as_mitige.seen[int(as_mitige.labels[4]), 7] == 4
    assert found.seen[b, 7] == 3
    assert found.consensus[7] != pytest.approx(as_mitige.consensus[7])


def test_minimums_leave_out_participants_and_targets_with_too_few_votes() -> None:
    matrix = np.vstack([HAND, [1, 1, N, N, N, N, -1, 1]])  # 4 votes only
    matrix = np.hstack([matrix, np.array([[1], [N], [N], [N], [N], [N], [N], [N], [1]])])
    found = opinion_groups(matrix, seed=0, min_participant_votes=7, min_target_votes=3)
    assert found is not None
    assert found.labels[8] == -1
    assert found.participants == 8
    assert found.targets.tolist() == [True] * 8 + [False]  # t8: 2 votes
    assert found.consensus[8] == 0 and 8 not in found.bridging()
    assert found.seen[:, 8].sum() == 0
    # Too few participants to form two groups: nothing.
    assert opinion_groups(HAND[:2], seed=0) is None
    assert opinion_groups(HAND, seed=0, min_participant_votes=9) is None


def test_no_group_smaller_than_asked() -> None:
    found = opinion_groups(HAND, seed=0, min_group_size=4)
    assert found is not None and [g.size for g in found.groups] == [4, 4]
    # Two groups of four are the best split; nothing splits eight people into groups of five.
    assert opinion_groups(HAND, seed=0, min_group_size=5) is None
