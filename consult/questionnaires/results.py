"""What a questionnaire's responses say: counts per option and per point of a scale, and, for
a choice question, what those who chose each option wrote about in each open question (the
groups of a synthesis run).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.consultations.models import Phase
from consult.contributions.models import Contribution, Visibility
from consult.questionnaires.models import (
    Question,
    QuestionAnswer,
    QuestionKind,
    QuestionnaireResponse,
)
from consult.questionnaires.services import Questionnaire
from consult.synthesis.models import SynthesisCluster, SynthesisMembership, SynthesisRun

# Groups named per option in a crossing: the ones most written about by those who chose it.
TOP_GROUPS = 3


@dataclass(frozen=True)
class Bar:
    """One option or one point of a scale, with how many chose it."""

    label: str
    count: int
    share: float
    """Of the respondents who answered the question, in [0, 1]."""

    @property
    def percent(self) -> int:
        """The share as a whole percentage."""
        return round(self.share * 100)


@dataclass(frozen=True)
class GroupShare:
    """A group of an open question, and how many of those who chose an option are in it."""

    cluster_id: int
    title: str
    count: int
    share: float


@dataclass(frozen=True)
class Crossing:
    """For one open question: per option, the groups those who chose it wrote in most."""

    question: Question
    rows: list[tuple[Bar, list[GroupShare]]]


@dataclass
class QuestionResult:
    """A question's figures."""

    question: Question
    answered: int
    bars: list[Bar] = field(default_factory=list)
    mean: float | None = None
    crossings: list[Crossing] = field(default_factory=list)


@dataclass(frozen=True)
class Results:
    """Every question's figures, and the run whose groups the crossings use."""

    respondents: int
    questions: list[QuestionResult]
    run: SynthesisRun | None


def results_are_public(now_phase: Phase) -> bool:
    """The public reads the figures once answers are closed (they would sway those still
    answering); officials read them at any time."""
    return now_phase not in (Phase.DRAFT, Phase.OPEN)


def _bars(labels: list[str], counts: Counter[int], first: int, answered: int) -> list[Bar]:
    return [
        Bar(
            label,
            counts.get(first + i, 0),
            counts.get(first + i, 0) / answered if answered else 0.0,
        )
        for i, label in enumerate(labels)
    ]


async def _groups_of(
    db: AsyncSession, run: SynthesisRun, scopes: list[str]
) -> dict[str, dict[int, SynthesisCluster]]:
    """Open question key -> contribution id -> the group it is in (merges followed)."""
    if not scopes:
        return {}
    clusters = {
        c.id: c
        for c in (
            await db.scalars(
                select(SynthesisCluster).where(
                    SynthesisCluster.run_id == run.id, SynthesisCluster.scope.in_(scopes)
                )
            )
        ).all()
    }

    def final(cluster: SynthesisCluster) -> SynthesisCluster:
        seen = 0
        while cluster.merged_into_id in clusters and seen < 20:
            cluster, seen = clusters[cluster.merged_into_id], seen + 1
        return cluster

    found: dict[str, dict[int, SynthesisCluster]] = defaultdict(dict)
    rows = await db.execute(
        select(SynthesisMembership.contribution_id, SynthesisMembership.cluster_id).where(
            SynthesisMembership.run_id == run.id, SynthesisMembership.scope.in_(scopes)
        )
    )
    for contribution_id, cluster_id in rows:
        cluster = clusters.get(cluster_id)
        if cluster is not None:
            found[cluster.scope][contribution_id] = final(cluster)
    return found


async def questionnaire_results(
    db: AsyncSession, questionnaire: Questionnaire, run: SynthesisRun | None
) -> Results:
    """Counts for every closed question; open questions count their visible answers. With a
    run, each choice question is crossed with the groups of every open question."""
    consultation_id = questionnaire.consultation.id
    respondents = (
        await db.scalar(
            select(func.count())
            .select_from(QuestionnaireResponse)
            .where(QuestionnaireResponse.consultation_id == consultation_id)
        )
        or 0
    )
    rows = (
        await db.execute(
            select(
                QuestionAnswer.response_id,
                QuestionAnswer.question_id,
                QuestionAnswer.choices,
                QuestionAnswer.value,
                QuestionAnswer.contribution_id,
            )
            .join(QuestionnaireResponse, QuestionnaireResponse.id == QuestionAnswer.response_id)
            .where(QuestionnaireResponse.consultation_id == consultation_id)
        )
    ).all()
    hidden = set(
        (
            await db.scalars(
                select(Contribution.id).where(
                    Contribution.consultation_id == consultation_id,
                    Contribution.visibility != Visibility.VISIBLE,
                )
            )
        ).all()
    )
    by_question: dict[int, list[tuple[int, list[int], int | None, int | None]]] = defaultdict(list)
    for response_id, question_id, choices, value, contribution_id in rows:
        if contribution_id is not None and contribution_id in hidden:
            continue
        by_question[question_id].append((response_id, list(choices or []), value, contribution_id))
    open_keys = [q.key for q in questionnaire.questions if q.kind is QuestionKind.OPEN]
    groups = await _groups_of(db, run, open_keys) if run is not None else {}
    results: list[QuestionResult] = []
    for q in questionnaire.questions:
        answers = by_question.get(q.id, [])
        result = QuestionResult(q, len(answers))
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            counts: Counter[int] = Counter(c for _, choices, _, _ in answers for c in choices)
            result.bars = _bars(list(q.options), counts, 1, len(answers))
            result.crossings = [
                crossing
                for other in questionnaire.questions
                if other.kind is QuestionKind.OPEN
                for crossing in [_cross(q, other, answers, by_question.get(other.id, []), groups)]
                if crossing is not None
            ]
        elif q.kind is QuestionKind.SCALE:
            low, high = q.scale_min or 0, q.scale_max or 0
            values = [v for _, _, v, _ in answers if v is not None]
            labels = [str(point) for point in range(low, high + 1)]
            result.bars = _bars(labels, Counter(values), low, len(answers))
            result.mean = sum(values) / len(values) if values else None
        results.append(result)
    return Results(respondents, results, run)


def _cross(
    closed: Question,
    open_question: Question,
    closed_answers: list[tuple[int, list[int], int | None, int | None]],
    open_answers: list[tuple[int, list[int], int | None, int | None]],
    groups: dict[str, dict[int, SynthesisCluster]],
) -> Crossing | None:
    """Per option of `closed`: the groups of `open_question` its choosers wrote in most."""
    grouped = groups.get(open_question.key)
    if not grouped:
        return None
    group_of_response: dict[int, SynthesisCluster] = {}
    for response_id, _, _, contribution_id in open_answers:
        cluster = grouped.get(contribution_id or 0)
        if cluster is not None:
            group_of_response[response_id] = cluster
    rows: list[tuple[Bar, list[GroupShare]]] = []
    for number, label in enumerate(closed.options, start=1):
        chosen_by = [r for r, choices, _, _ in closed_answers if number in choices]
        wrote = [group_of_response[r] for r in chosen_by if r in group_of_response]
        counts = Counter(c.id for c in wrote if not c.is_other)
        named = {c.id: c for c in wrote}
        total = len(wrote)
        shares = [
            GroupShare(cid, named[cid].title, n, n / total)
            for cid, n in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_GROUPS]
        ]
        rows.append((Bar(label, total, 0.0), shares))
    if not any(shares for _, shares in rows):
        return None
    return Crossing(open_question, rows)
