"""Answering contributions: one at a time, or a whole cluster or campaign at once.

An answer is written as a draft and then published. A cluster or campaign answer reaches every
member it had when it was written; a contribution's own answer overrides it. The answer that
stands for each contribution (its outcome) is kept in ``contribution_outcomes`` and refreshed
whenever an answer is published. Every decision is written to the append-only audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.answers.models import (
    SCOPE_PRECEDENCE,
    Answer,
    AnswerCoverage,
    AnswerScope,
    AnswerState,
    ContributionOutcome,
)
from consult.audit.services import record_event
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.synthesis.models import (
    CopyKind,
    RunStatus,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.text import excerpt

MAX_REASON = 10_000
# Contributions officials answer: what citizens wrote of their own. Replies are conversation
# inside a thread and sources are links; both are answered through what they reply to.
ANSWERABLE_KINDS = (
    ContributionKind.ANNOTATION,
    ContributionKind.AMENDMENT,
    ContributionKind.ARGUMENT,
    ContributionKind.RESPONSE,
)
# States that need no reason yet: the decision is still to come.
REASON_OPTIONAL = frozenset({AnswerState.UNDER_REVIEW})
# Ids per IN (...) list: well under SQLite's limit on bound parameters.
_CHUNK = 900


@dataclass(frozen=True)
class AnswerTarget:
    """What an official answers, and the contributions the answer reaches."""

    scope: AnswerScope
    id: int
    consultation_id: int
    article_key: str
    subject: str
    members: tuple[int, ...]


class OverrideNeeded(FormError):
    """A contribution already covered by a cluster or campaign answer gets one of its own only
    when the official confirms it."""

    def __init__(self, covering: Answer) -> None:
        super().__init__(
            {
                "override": _(
                    "This contribution is already covered by the answer to “%(subject)s”. "
                    "Confirm that it gets an answer of its own, which will replace that one "
                    "for this contribution only."
                )
                % {"subject": covering.subject}
            }
        )
        self.covering = covering


async def _answerable(db: AsyncSession, consultation: Consultation, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` that are visible contributions of an answerable kind."""
    found: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        found.update(
            (
                await db.scalars(
                    select(Contribution.id).where(
                        Contribution.id.in_(ids[start : start + _CHUNK]),
                        Contribution.consultation_id == consultation.id,
                        Contribution.visibility == Visibility.VISIBLE,
                        Contribution.kind.in_(ANSWERABLE_KINDS),
                    )
                )
            ).all()
        )
    return found


async def _answerable_members(
    db: AsyncSession, consultation: Consultation, ids: Any
) -> tuple[int, ...]:
    """The answerable contributions among those ``ids`` selects, in id order."""
    members = sorted((await db.scalars(ids)).all())
    kept = await _answerable(db, consultation, members)
    return tuple(member for member in members if member in kept)


async def _run_of_consultation(
    db: AsyncSession, consultation: Consultation, run_id: int
) -> SynthesisRun:
    """A run of the consultation whose groups can be answered: published (a draft's groups may
    still be merged or split, and its titles are not public yet)."""
    run = await db.get(SynthesisRun, run_id)
    if (
        run is None
        or run.consultation_id != consultation.id
        or run.status != RunStatus.SUCCEEDED
        or run.published_at is None
    ):
        raise NotFound(str(run_id))
    return run


async def find_target(
    db: AsyncSession, consultation: Consultation, scope: str, target_id: int
) -> AnswerTarget:
    """The contribution, cluster or campaign ``target_id`` of this consultation, or NotFound.

    A cluster's "other" group is not answerable as a group: its members have nothing in common.
    """
    if scope == AnswerScope.CONTRIBUTION:
        contribution = await db.get(Contribution, target_id)
        if contribution is None or not await _answerable(db, consultation, [target_id]):
            raise NotFound(str(target_id))
        return AnswerTarget(
            AnswerScope.CONTRIBUTION,
            contribution.id,
            consultation.id,
            contribution.article_key,
            excerpt(contribution.body or contribution.new_text, 120),
            (contribution.id,),
        )
    if scope == AnswerScope.CLUSTER:
        cluster = await db.get(SynthesisCluster, target_id)
        # Themes are for reading: the groups of one article are what officials answer, so an
        # answer never reaches contributions on other articles.
        if (
            cluster is None
            or cluster.is_other
            or cluster.is_theme
            or cluster.merged_into_id is not None
        ):
            raise NotFound(str(target_id))
        await _run_of_consultation(db, consultation, cluster.run_id)
        members = await _answerable_members(
            db,
            consultation,
            select(SynthesisMembership.contribution_id).where(
                SynthesisMembership.cluster_id == cluster.id
            ),
        )
        return AnswerTarget(
            AnswerScope.CLUSTER, cluster.id, consultation.id, cluster.scope, cluster.title, members
        )
    if scope == AnswerScope.CAMPAIGN:
        campaign = await db.get(SynthesisCampaign, target_id)
        # A repost group (one author posting a text again) is no campaign: its copies are
        # answered one by one.
        if campaign is None or campaign.kind is not CopyKind.CAMPAIGN:
            raise NotFound(str(target_id))
        await _run_of_consultation(db, consultation, campaign.run_id)
        members = await _answerable_members(
            db,
            consultation,
            select(SynthesisCampaignMember.contribution_id).where(
                SynthesisCampaignMember.campaign_id == campaign.id
            ),
        )
        representative = await db.get(Contribution, campaign.representative_id)
        text = representative.body if representative is not None else ""
        return AnswerTarget(
            AnswerScope.CAMPAIGN,
            campaign.id,
            consultation.id,
            campaign.article_keys[0] if len(campaign.article_keys) == 1 else "",
            excerpt(text, 120),
            members,
        )
    raise NotFound(scope)


async def answer_of(db: AsyncSession, target: AnswerTarget) -> Answer | None:
    """The answer already given to this target (draft or published), if any."""
    column = {
        AnswerScope.CONTRIBUTION: Answer.contribution_id,
        AnswerScope.CLUSTER: Answer.cluster_id,
        AnswerScope.CAMPAIGN: Answer.campaign_id,
    }[target.scope]
    return await db.scalar(select(Answer).where(column == target.id))


async def covering_answers(db: AsyncSession, contribution_id: int) -> list[Answer]:
    """Every answer reaching a contribution (drafts included), the one that stands first."""
    answers = list(
        (
            await db.scalars(
                select(Answer)
                .join(AnswerCoverage, AnswerCoverage.answer_id == Answer.id)
                .where(AnswerCoverage.contribution_id == contribution_id)
            )
        ).all()
    )
    return sorted(answers, key=_standing_order)


def _standing_order(answer: Answer) -> tuple[int, int, float, int]:
    """Published before drafts; then own, campaign, cluster; then the latest first."""
    published = answer.published_at
    return (
        0 if published is not None else 1,
        answer.precedence,
        -(published.timestamp() if published is not None else 0.0),
        -answer.id,
    )


def _check(state: str, reason: str) -> tuple[AnswerState, str]:
    errors: dict[str, str] = {}
    try:
        chosen = AnswerState(state)
    except ValueError:
        chosen = AnswerState.UNDER_REVIEW
        errors["state"] = _("Choose what becomes of the contribution.")
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        errors["reason"] = _("The reason must have at most %(count)s characters.") % {
            "count": MAX_REASON
        }
    elif not reason and chosen not in REASON_OPTIONAL and "state" not in errors:
        errors["reason"] = _("Give the reason for this decision.")
    if errors:
        raise FormError(errors)
    return chosen, reason


@dataclass(frozen=True)
class SavedAnswer:
    """An answer written, and whether this save published it (its authors are then told)."""

    answer: Answer
    published_now: bool


@dataclass(frozen=True)
class AnswerDecision:
    """What an official decides for a target: the state, its reason, whether to publish it
    now, and whether a contribution already covered by a wider answer gets its own."""

    state: str
    reason: str
    publish: bool = False
    override: bool = False


async def save_answer(
    db: AsyncSession, target: AnswerTarget, decision: AnswerDecision, *, author: User, now: datetime
) -> SavedAnswer:
    """Write (or revise) the answer to ``target``, as a draft or published.

    Raises FormError for a missing state or reason, and :class:`OverrideNeeded` when a
    contribution covered by a cluster or campaign answer is answered without ``override``.
    A published answer stays published when revised. Nothing is committed here.
    """
    chosen, reason = _check(decision.state, decision.reason)
    publish, override = decision.publish, decision.override
    if not target.members:
        raise FormError({"form": _("There is no contribution left to answer here.")})
    answer = await answer_of(db, target)
    if target.scope is AnswerScope.CONTRIBUTION and not override and answer is None:
        # Without an answer of its own, whatever covers the contribution is wider.
        wider = await covering_answers(db, target.id)
        if wider:
            raise OverrideNeeded(wider[0])
    created = answer is None
    if answer is None:
        answer = Answer(
            consultation_id=target.consultation_id,
            scope=target.scope,
            contribution_id=target.id if target.scope is AnswerScope.CONTRIBUTION else None,
            cluster_id=target.id if target.scope is AnswerScope.CLUSTER else None,
            campaign_id=target.id if target.scope is AnswerScope.CAMPAIGN else None,
            article_key=target.article_key,
            subject=target.subject[:300],
            reach=len(target.members),
            author_id=author.id,
            created_at=now,
            state=chosen,
        )
        db.add(answer)
        await db.flush()
        await _insert_coverage(db, answer.id, target.members)
    newly_published = publish and answer.published_at is None
    answer.state = chosen
    answer.reason = reason
    answer.updated_at = now
    if newly_published:
        answer.published_at = now
    await db.flush()
    if answer.published_at is not None:
        await refresh_outcomes(db, await _covered(db, answer.id))
    action = (
        "answer.publish"
        if newly_published
        else ("answer.revise" if answer.published_at is not None else "answer.draft")
    )
    await record_event(
        db,
        author.id,
        action,
        target=f"answer:{answer.id}",
        details={
            "consultation_id": target.consultation_id,
            "scope": target.scope.value,
            "target_id": target.id,
            "state": chosen.value,
            "reach": answer.reach,
            "created": created,
        },
    )
    return SavedAnswer(answer, newly_published)


async def _insert_coverage(db: AsyncSession, answer_id: int, members: Sequence[int]) -> None:
    rows = [{"answer_id": answer_id, "contribution_id": member} for member in members]
    for start in range(0, len(rows), 5000):
        await db.execute(insert(AnswerCoverage), rows[start : start + 5000])


async def _covered(db: AsyncSession, answer_id: int) -> list[int]:
    return list(
        (
            await db.scalars(
                select(AnswerCoverage.contribution_id).where(AnswerCoverage.answer_id == answer_id)
            )
        ).all()
    )


async def refresh_outcomes(db: AsyncSession, contribution_ids: Sequence[int]) -> None:
    """Recompute the standing published answer of these contributions."""
    for start in range(0, len(contribution_ids), _CHUNK):
        chunk = list(contribution_ids[start : start + _CHUNK])
        rows = (
            await db.execute(
                select(
                    AnswerCoverage.contribution_id,
                    Answer.id,
                    Answer.scope,
                    Answer.published_at,
                )
                .join(Answer, Answer.id == AnswerCoverage.answer_id)
                .where(
                    AnswerCoverage.contribution_id.in_(chunk),
                    Answer.published_at.is_not(None),
                )
            )
        ).all()
        best: dict[int, tuple[int, float, int]] = {}
        for contribution_id, answer_id, scope, published_at in rows:
            stamp = published_at.timestamp() if published_at is not None else 0.0
            key = (SCOPE_PRECEDENCE[AnswerScope(scope)], -stamp, -answer_id)
            if contribution_id not in best or key < best[contribution_id]:
                best[contribution_id] = key
        await db.execute(
            delete(ContributionOutcome).where(ContributionOutcome.contribution_id.in_(chunk))
        )
        if best:
            await db.execute(
                insert(ContributionOutcome),
                [
                    {"contribution_id": contribution_id, "answer_id": -key[2]}
                    for contribution_id, key in best.items()
                ],
            )


async def own_answer_count(db: AsyncSession, contribution_ids: Sequence[int]) -> int:
    """How many of these contributions have a published answer of their own that stands."""
    count = 0
    for start in range(0, len(contribution_ids), _CHUNK):
        count += int(
            await db.scalar(
                select(func.count())
                .select_from(ContributionOutcome)
                .join(Answer, Answer.id == ContributionOutcome.answer_id)
                .where(
                    ContributionOutcome.contribution_id.in_(
                        contribution_ids[start : start + _CHUNK]
                    ),
                    Answer.scope == AnswerScope.CONTRIBUTION,
                )
            )
            or 0
        )
    return count


async def outcome_of(db: AsyncSession, contribution_id: int) -> Answer | None:
    """The published answer that stands for a contribution, if any."""
    return await db.scalar(
        select(Answer)
        .join(ContributionOutcome, ContributionOutcome.answer_id == Answer.id)
        .where(ContributionOutcome.contribution_id == contribution_id)
    )


async def outcomes_of(db: AsyncSession, contribution_ids: Sequence[int]) -> dict[int, Answer]:
    """Contribution id -> its standing published answer, for those that have one."""
    found: dict[int, Answer] = {}
    for start in range(0, len(contribution_ids), _CHUNK):
        rows = await db.execute(
            select(ContributionOutcome.contribution_id, Answer)
            .join(Answer, Answer.id == ContributionOutcome.answer_id)
            .where(
                ContributionOutcome.contribution_id.in_(contribution_ids[start : start + _CHUNK])
            )
        )
        found.update({contribution_id: answer for contribution_id, answer in rows})
    return found
