"""What a questionnaire's responses say: counts per option and per point of a scale, and, for
a choice question, what those who chose each option wrote about in each open question (the
groups of a synthesis run).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, func, or_, select
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
    run, each choice question is crossed with the groups of every open question.

    The counts are one grouped query (as many rows as distinct answers per question, not as
    answers); answers are read one by one only to cross them with the groups of a run."""
    consultation_id = questionnaire.consultation.id
    respondents = (
        await db.scalar(
            select(func.count())
            .select_from(QuestionnaireResponse)
            .where(QuestionnaireResponse.consultation_id == consultation_id)
        )
        or 0
    )
    answered: Counter[int] = Counter()
    chosen: dict[int, Counter[int]] = defaultdict(Counter)
    for question_id, choices, value, count in await _grouped(db, consultation_id):
        answered[question_id] += count
        for number in json.loads(choices or "[]"):
            chosen[question_id][int(number)] += count
        if value is not None:
            chosen[question_id][int(value)] += count
    open_keys = [q.key for q in questionnaire.questions if q.kind is QuestionKind.OPEN]
    groups = await _groups_of(db, run, open_keys) if run is not None else {}
    by_question = await _answers(db, consultation_id) if any(groups.values()) else {}
    results: list[QuestionResult] = []
    for q in questionnaire.questions:
        result = QuestionResult(q, answered[q.id])
        counts = chosen[q.id]
        if q.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            result.bars = _bars(list(q.options), counts, 1, result.answered)
            answers = by_question.get(q.id, [])
            result.crossings = [
                crossing
                for other in questionnaire.questions
                if other.kind is QuestionKind.OPEN and answers
                for crossing in [_cross(q, other, answers, by_question.get(other.id, []), groups)]
                if crossing is not None
            ]
        elif q.kind is QuestionKind.SCALE:
            low, high = q.scale_min or 0, q.scale_max or 0
            labels = [str(point) for point in range(low, high + 1)]
            result.bars = _bars(labels, counts, low, result.answered)
            total = sum(counts.values())
            result.mean = sum(v * n for v, n in counts.items()) / total if total else None
        results.append(result)
    return Results(respondents, results, run)


def _visible_answers(consultation_id: int) -> Any:
    """The consultation's answers, those whose text moderation hid left out."""
    return (
        select(QuestionAnswer)
        .join(QuestionnaireResponse, QuestionnaireResponse.id == QuestionAnswer.response_id)
        .outerjoin(Contribution, Contribution.id == QuestionAnswer.contribution_id)
        .where(
            QuestionnaireResponse.consultation_id == consultation_id,
            or_(
                QuestionAnswer.contribution_id.is_(None),
                Contribution.visibility == Visibility.VISIBLE,
            ),
        )
    )


async def _grouped(db: AsyncSession, consultation_id: int) -> list[Any]:
    """(question, choices as JSON text, value, how many) for each distinct answer."""
    choices = cast(QuestionAnswer.choices, Text)
    query = (
        _visible_answers(consultation_id)
        .with_only_columns(QuestionAnswer.question_id, choices, QuestionAnswer.value, func.count())
        .group_by(QuestionAnswer.question_id, choices, QuestionAnswer.value)
    )
    return list((await db.execute(query)).all())


async def _answers(
    db: AsyncSession, consultation_id: int
) -> dict[int, list[tuple[int, list[int], int | None, int | None]]]:
    """Question id -> (response, choices, value, contribution) of each visible answer."""
    query = _visible_answers(consultation_id).with_only_columns(
        QuestionAnswer.response_id,
        QuestionAnswer.question_id,
        QuestionAnswer.choices,
        QuestionAnswer.value,
        QuestionAnswer.contribution_id,
    )
    by_question: dict[int, list[tuple[int, list[int], int | None, int | None]]] = defaultdict(list)
    for response_id, question_id, choices, value, contribution_id in await db.execute(query):
        by_question[question_id].append((response_id, list(choices or []), value, contribution_id))
    return by_question


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


def results_json(results: Results) -> dict[str, Any]:
    """The figures as JSON (schema in docs/synthesis.md): what the report page shows, counts
    and crossings with the run's groups, never who answered what."""
    return {
        "respondents": results.respondents,
        "run": results.run.id if results.run is not None else None,
        "questions": [
            {
                "key": r.question.key,
                "section": r.question.section,
                "kind": r.question.kind.value,
                "prompt": r.question.prompt,
                "answered": r.answered,
                "options": [
                    {"label": bar.label, "count": bar.count, "share": round(bar.share, 4)}
                    for bar in r.bars
                ],
                "mean": round(r.mean, 4) if r.mean is not None else None,
                "crossings": [
                    {
                        "question": crossing.question.key,
                        "options": [
                            {
                                "label": bar.label,
                                "grouped": bar.count,
                                "groups": [
                                    {
                                        "id": g.cluster_id,
                                        "title": g.title,
                                        "count": g.count,
                                        "share": round(g.share, 4),
                                    }
                                    for g in shares
                                ],
                            }
                            for bar, shares in crossing.rows
                        ],
                    }
                    for crossing in r.crossings
                ],
            }
            for r in results.questions
        ],
    }
