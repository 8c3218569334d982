"""Synthesis runs: start one, execute it stage by stage with stored progress, find the reports.

A run is created by an official (web or command line) and executed by the ``synthesize`` job,
on an arq worker or in-process. Execution is idempotent: it can be interrupted at any point
(worker killed, Redis flushed, timeout) and run again from the start; embeddings already
stored are never recomputed and the run's earlier partial results are replaced. A run that
succeeds is a draft that only officials see; once they have reviewed it they publish it, and it
stays the public report until they publish a newer one (:mod:`consult.synthesis.review`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.contributions.models import Contribution, ContributionKind, Visibility
from consult.db import utcnow
from consult.memory import give_back_freed_memory
from consult.nlp.campaigns import Campaign, Copies
from consult.synthesis.embeddings import VectorFile, embed_texts, spill_vectors, text_of_parts
from consult.synthesis.models import (
    ACTIVE_STATUSES,
    CopyKind,
    RunStage,
    RunStatus,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisCluster,
    SynthesisMembership,
    SynthesisRun,
)
from consult.synthesis.opinions import has_run_opinions, store_run_opinions
from consult.synthesis.parallel import ScopePool, synthesise_articles
from consult.synthesis.pipeline import (
    Item,
    ScopeResult,
    Stages,
    SynthesisParams,
    SynthesisPipeline,
    article_scopes,
    find_copies,
    gather_themes,
    input_hash,
)

logger = logging.getLogger("consult.synthesis")

# What the synthesis reads: contributions with text of their own. Replies are conversation
# inside a thread and sources are links; both stay on the pages but are not clustered.
SYNTHESISED_KINDS = (
    ContributionKind.ANNOTATION,
    ContributionKind.AMENDMENT,
    ContributionKind.ARGUMENT,
    ContributionKind.RESPONSE,
)
# A run whose heartbeat is older than this is stalled: its worker was killed (or its job lost
# with Redis, for a queued run) and the sweep queues it again. The setting
# `synthesis_stalled_seconds` overrides it; the heartbeat beats several times within it.
STALLED_AFTER = timedelta(seconds=90)
# A running run writes its heartbeat this often, whatever stage it is in.
HEARTBEAT_SECONDS = 10.0
# Interrupted runs are resumed until they have started this many times, then marked failed.
MAX_ATTEMPTS = 3
# Texts embedded between two commits, so an interrupted run keeps what it has embedded.
EMBED_CHUNK = 1024
# Membership rows per INSERT statement.
INSERT_CHUNK = 5000
# Progress is written at most this often (seconds), except at stage changes.
PROGRESS_INTERVAL = 1.0

ProgressCallback = Callable[[RunStage, int, int], None]


def run_job_id(run_id: int, attempts: int = 0) -> str:
    """The job id of a run's next execution.

    The same attempt is never queued twice; a resumed run gets a new id, so that the job of a
    killed worker, which the queue keeps locked until its time limit, does not block it.
    """
    return f"synthesis:{run_id}:{attempts}"


async def start_run(
    db: AsyncSession,
    consultation_id: int,
    *,
    model_id: str,
    params: SynthesisParams,
    requested_by_id: int | None,
    now: datetime,
) -> tuple[SynthesisRun, bool]:
    """Create a queued run, or return the one already queued or running (and False)."""
    active = await active_run(db, consultation_id)
    if active is not None:
        return active, False
    run = SynthesisRun(
        consultation_id=consultation_id,
        requested_by_id=requested_by_id,
        status=RunStatus.QUEUED,
        stage=RunStage.QUEUED,
        model_id=model_id,
        params=params.as_json(),
        seed=params.seed,
        created_at=now,
    )
    db.add(run)
    await db.flush()
    return run, True


async def active_run(db: AsyncSession, consultation_id: int) -> SynthesisRun | None:
    """The consultation's queued or running run, if any."""
    return await db.scalar(
        select(SynthesisRun)
        .where(
            SynthesisRun.consultation_id == consultation_id,
            SynthesisRun.status.in_(ACTIVE_STATUSES),
        )
        .order_by(SynthesisRun.id.desc())
        .limit(1)
    )


async def latest_report_run(db: AsyncSession, consultation_id: int) -> SynthesisRun | None:
    """The consultation's public report: the last run officials published."""
    return await db.scalar(
        select(SynthesisRun)
        .where(
            SynthesisRun.consultation_id == consultation_id,
            SynthesisRun.status == RunStatus.SUCCEEDED,
            SynthesisRun.published_at.is_not(None),
        )
        .order_by(SynthesisRun.published_at.desc(), SynthesisRun.id.desc())
        .limit(1)
    )


async def latest_draft_run(db: AsyncSession, consultation_id: int) -> SynthesisRun | None:
    """What officials review: the last run that succeeded, published or not."""
    return await db.scalar(
        select(SynthesisRun)
        .where(
            SynthesisRun.consultation_id == consultation_id,
            SynthesisRun.status == RunStatus.SUCCEEDED,
        )
        .order_by(SynthesisRun.finished_at.desc(), SynthesisRun.id.desc())
        .limit(1)
    )


async def get_run(db: AsyncSession, consultation_id: int, run_id: int) -> SynthesisRun | None:
    """A run of this consultation (None for another consultation's run)."""
    run = await db.get(SynthesisRun, run_id)
    if run is None or run.consultation_id != consultation_id:
        return None
    return run


async def recent_runs(
    db: AsyncSession, consultation_id: int, limit: int = 10
) -> Sequence[SynthesisRun]:
    """The consultation's latest runs, newest first."""
    result = await db.scalars(
        select(SynthesisRun)
        .where(SynthesisRun.consultation_id == consultation_id)
        .order_by(SynthesisRun.id.desc())
        .limit(limit)
    )
    return result.all()


def _last_sign_of_life() -> Any:
    return func.coalesce(SynthesisRun.heartbeat_at, SynthesisRun.created_at)


def _stale(now: datetime, stalled_after: timedelta) -> Any:
    return (SynthesisRun.status == RunStatus.RUNNING) & (
        SynthesisRun.heartbeat_at <= now - stalled_after
    )


def is_stalled(run: SynthesisRun, now: datetime, stalled_after: timedelta = STALLED_AFTER) -> bool:
    """Whether a run under way has given no sign of life for `stalled_after`: running without
    a heartbeat (its worker killed), or queued and never picked up (its job lost)."""
    last = run.heartbeat_at or run.created_at
    return run.active and last <= now - stalled_after


async def runs_to_resume(
    db: AsyncSession,
    now: datetime,
    stalled_after: timedelta = STALLED_AFTER,
    run_id: int | None = None,
) -> list[tuple[int, str]]:
    """Stalled runs (all, or only `run_id`), with the job id to queue each under.

    Running runs without a heartbeat (their worker was killed) are put back to queued first,
    under a new job id (their attempt count grows when a worker claims them). Queued runs not
    started for as long (their job may have been lost with Redis) are queued again under the
    same id, which the queue ignores if the job is in fact still waiting.
    """
    chosen = SynthesisRun.id == run_id if run_id is not None else SynthesisRun.id.is_not(None)
    # Read first: the sweep runs every 30 seconds on every worker and almost always finds
    # nothing, which then costs one indexed read and no write.
    stalled = list(
        await db.scalars(select(SynthesisRun.id).where(chosen, _stale(now, stalled_after)))
    )
    if stalled:
        # Conditions repeated: a run that beat again since the read is left alone.
        still = (SynthesisRun.id.in_(stalled), _stale(now, stalled_after))
        # A run that kills its worker every time (out of memory, say) must not loop forever.
        await db.execute(
            update(SynthesisRun)
            .where(*still, SynthesisRun.attempts >= MAX_ATTEMPTS)
            .values(
                status=RunStatus.FAILED,
                error=f"the worker running it stopped responding, {MAX_ATTEMPTS} times",
                finished_at=now,
            )
        )
        await db.execute(
            update(SynthesisRun)
            .where(*still)
            .values(status=RunStatus.QUEUED, error="the worker running it stopped responding")
        )
    result = await db.execute(
        select(SynthesisRun.id, SynthesisRun.attempts)
        .where(
            chosen,
            SynthesisRun.status == RunStatus.QUEUED,
            _last_sign_of_life() <= now - stalled_after,
        )
        .order_by(SynthesisRun.id)
    )
    return [(found, run_job_id(found, attempts)) for found, attempts in result.all()]


# --------------------------------------------------------------------------- execution


class RunSuperseded(Exception):
    """This execution no longer holds its run: the sweep or an official gave it to another
    attempt (this worker was taken for dead), or it ended. It stops without writing."""


@dataclass
class _Tracker:
    """Writes a run's stage, counts and heartbeat, committed in their own short transactions.

    Every write is fenced by the attempt: it changes the run only while the run is running
    under this execution's attempt, so an execution taken for dead and replaced cannot write
    over its successor.
    """

    session_factory: async_sessionmaker[AsyncSession]
    run_id: int
    clock: Callable[[], datetime]
    listener: ProgressCallback | None = None
    stage: RunStage = RunStage.QUEUED
    last_write: float = 0.0
    attempt: int = 0
    lost: bool = False

    def held(self) -> Any:
        """The condition of every write: the run is still this execution's."""
        return (
            (SynthesisRun.id == self.run_id)
            & (SynthesisRun.status == RunStatus.RUNNING)
            & (SynthesisRun.attempts == self.attempt)
        )

    async def __call__(
        self, stage: RunStage, done: int, total: int, *, force: bool = False
    ) -> None:
        if self.lost:
            raise RunSuperseded(self.run_id)
        if self.listener is not None:
            self.listener(stage, done, total)
        moment = asyncio.get_running_loop().time()
        if not force and stage == self.stage and moment - self.last_write < PROGRESS_INTERVAL:
            return
        self.stage, self.last_write = stage, moment
        await self.write(stage=stage, done=done, total=total, heartbeat_at=self.clock())

    async def write(self, **values: Any) -> bool:
        """Change the run if it is still this execution's; whether it was."""
        async with self.session_factory() as db:
            result = await db.execute(update(SynthesisRun).where(self.held()).values(**values))
            await db.commit()
        held = bool(result.rowcount)  # type: ignore[attr-defined]
        self.lost = self.lost or not held
        return held

    async def beat_forever(self) -> None:
        """Write the heartbeat every few seconds until cancelled, whatever the stage: the long
        steps run in threads and processes, so the event loop is free to beat meanwhile. A beat
        that cannot reach the database is skipped (the next one tries again)."""
        while not self.lost:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.write(heartbeat_at=self.clock())
            except Exception as error:
                logger.warning("synthesis run %d: heartbeat not written: %s", self.run_id, error)


def _author_key(author_id: int | None, pseudonym: str | None) -> str:
    if author_id is not None:
        return f"account:{author_id}"
    return f"name:{pseudonym}"


def id_ranges(ids: Sequence[int]) -> list[list[int]]:
    """Sorted ids as ``[first, last]`` ranges of consecutive ids (compact for imports and
    consultations that receive contributions in bursts)."""
    ranges: list[list[int]] = []
    for found in sorted(ids):
        if ranges and found == ranges[-1][1] + 1:
            ranges[-1][1] = found
        else:
            ranges.append([found, found])
    return ranges


def ids_of_ranges(ranges: Sequence[Sequence[int]]) -> set[int]:
    """The ids that :func:`id_ranges` compacted."""
    return {found for first, last in ranges for found in range(first, last + 1)}


# Contributions read from the database at a time while a run loads its input.
LOAD_CHUNK = 5_000


async def _load_items(
    db: AsyncSession, consultation_id: int, fixed: Sequence[Sequence[int]] | None
) -> list[Item]:
    """The run's input: the visible contributions of the synthesised kinds, or, once the run
    has fixed its input, exactly those (still stored) whose ids it recorded.

    Only the columns an item needs are read, a chunk at a time: loading whole contributions
    held every one of them, with its ORM state, beside the items (gigabytes at a million).
    """
    query = select(
        Contribution.id,
        Contribution.article_key,
        Contribution.kind,
        Contribution.stance,
        Contribution.body,
        Contribution.new_text,
        Contribution.author_id,
        Contribution.author_pseudonym,
        Contribution.created_at,
        Contribution.votes_for,
        Contribution.votes_mixed,
        Contribution.votes_against,
        Contribution.parent_id,
    ).where(
        Contribution.consultation_id == consultation_id,
        Contribution.kind.in_(SYNTHESISED_KINDS),
    )
    wanted: set[int] | None = None
    if fixed is None:
        query = query.where(Contribution.visibility == Visibility.VISIBLE)
    elif not fixed:
        return []
    else:
        query = query.where(Contribution.id.between(fixed[0][0], fixed[-1][1]))
        wanted = ids_of_ranges(fixed)
    rows = await db.stream(query.order_by(Contribution.id).execution_options(yield_per=LOAD_CHUNK))
    items: list[Item] = []
    async for chunk in rows.partitions():
        items.extend(
            Item(
                id=row.id,
                article_key=row.article_key,
                kind=row.kind.value,
                stance=row.stance.value if row.stance else None,
                text=text_of_parts(row.body, row.new_text),
                author=_author_key(row.author_id, row.author_pseudonym),
                created_at=row.created_at,
                votes_for=row.votes_for,
                votes_mixed=row.votes_mixed,
                votes_against=row.votes_against,
                parent_id=row.parent_id,
                headline=_headline(row.kind, row.body),
            )
            for row in chunk
            if wanted is None or row.id in wanted
        )
    return items


# A title line is short: a longer first line is a paragraph of the exposé.
_HEADLINE_MAX = 120


def _headline(kind: ContributionKind, body: str) -> str:
    """The title an amendment's author gave it: the first line of its exposé, when short (a
    proposal imported from another platform carries its title there)."""
    if kind is not ContributionKind.AMENDMENT:
        return ""
    first = body.strip().split("\n", 1)[0].strip()
    return first if len(first) <= _HEADLINE_MAX else ""


async def execute_run(
    session_factory: async_sessionmaker[AsyncSession],
    pipeline: SynthesisPipeline,
    run_id: int,
    *,
    clock: Callable[[], datetime] = utcnow,
    listener: ProgressCallback | None = None,
    pool: ScopePool | None = None,
) -> RunStatus:
    """Run every stage of a synthesis run and store its results; returns its final status.

    With a ``pool``, the articles are clustered in its processes (same report, sooner).

    A run that already succeeded is left as it is. A failure is recorded on the run (stage
    and error) and returned as FAILED; a cancellation (timeout, worker stopping) is recorded
    too and then propagated, so the job system sees it. While it works, the run's heartbeat
    is written every few seconds; an execution whose run was given to another attempt (it was
    taken for dead) stops without writing anything.
    """
    tracker = _Tracker(session_factory, run_id, clock, listener)
    async with session_factory() as db:
        claimed = await db.execute(
            update(SynthesisRun)
            # Only a queued run is claimed: a run already succeeded, failed for good or being
            # run by another worker (a late retry of a resumed job) is left alone.
            .where(SynthesisRun.id == run_id, SynthesisRun.status == RunStatus.QUEUED)
            .values(
                status=RunStatus.RUNNING,
                stage=RunStage.LOADING,
                done=0,
                total=0,
                error="",
                attempts=SynthesisRun.attempts + 1,
                started_at=clock(),
                heartbeat_at=clock(),
                finished_at=None,
            )
        )
        await db.commit()
        if claimed.rowcount == 0:  # type: ignore[attr-defined]
            run = await db.get(SynthesisRun, run_id)
            return run.status if run is not None else RunStatus.FAILED
        run = await db.get(SynthesisRun, run_id)
        assert run is not None
        tracker.attempt = run.attempts
        consultation_id, params = run.consultation_id, SynthesisParams.from_json(run.params)
    beating = asyncio.create_task(tracker.beat_forever())
    try:
        await _execute(
            session_factory, pipeline, run_id, consultation_id, params, tracker, clock, pool
        )
    except RunSuperseded:
        logger.warning("synthesis run %d was resumed elsewhere: this attempt stops", run_id)
        return await _status_of(session_factory, run_id)
    except asyncio.CancelledError:
        # Interrupted (time limit, worker or web process stopping): say so on the run, and
        # leave it queued so the sweep resumes it, unless it has been interrupted too often.
        resumable = tracker.attempt < MAX_ATTEMPTS
        await tracker.write(
            status=RunStatus.QUEUED if resumable else RunStatus.FAILED,
            error=f"interrupted during the {tracker.stage.value} stage (attempt {tracker.attempt})",
            finished_at=None if resumable else clock(),
        )
        raise
    except Exception as error:
        if tracker.lost:  # raised through a task group: the same as RunSuperseded above
            logger.warning("synthesis run %d was resumed elsewhere: this attempt stops", run_id)
            return await _status_of(session_factory, run_id)
        logger.exception("synthesis run %d failed", run_id)
        await tracker.write(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=clock(),
        )
        return RunStatus.FAILED
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)
    return RunStatus.SUCCEEDED


async def _status_of(session_factory: async_sessionmaker[AsyncSession], run_id: int) -> RunStatus:
    async with session_factory() as db:
        run = await db.get(SynthesisRun, run_id)
        return run.status if run is not None else RunStatus.FAILED


async def _execute(
    session_factory: async_sessionmaker[AsyncSession],
    pipeline: SynthesisPipeline,
    run_id: int,
    consultation_id: int,
    params: SynthesisParams,
    progress: _Tracker,
    clock: Callable[[], datetime],
    pool: ScopePool | None,
) -> None:
    embedder, stages = pipeline.embedder, pipeline.stages
    async with session_factory() as db:
        fixed = await db.scalar(select(SynthesisRun.input_ids).where(SynthesisRun.id == run_id))
        items = await _load_items(db, consultation_id, fixed)
        await db.rollback()
        if fixed is None:
            # The first start fixes the input: a resumed run reads these very contributions,
            # and those posted from now on wait for the next run.
            ranges = id_ranges([item.id for item in items])
            if not await progress.write(input_ids=ranges, input_fixed_at=clock()):
                raise RunSuperseded(run_id)
        await _opinions_stage(db, run_id, consultation_id, progress, clock)

        texts = sorted({item.text for item in items if item.text})
        await progress(RunStage.EMBEDDING, 0, len(texts), force=True)
        for start in range(0, len(texts), EMBED_CHUNK):
            await embed_texts(db, embedder, texts[start : start + EMBED_CHUNK])
            await db.commit()  # keep what is embedded if the run is interrupted
            await progress(RunStage.EMBEDDING, min(start + EMBED_CHUNK, len(texts)), len(texts))
        del texts
        # The vectors wait in a file, read an article at a time (decision 0041).
        vectors = await spill_vectors(db, embedder.model_id, [item.text for item in items])
        try:
            await _group_and_save(
                db, run_id, items, vectors, params, stages, pool, progress, clock, embedder.model_id
            )
        finally:
            vectors.close()
    if progress.listener is not None:
        progress.listener(RunStage.DONE, len(items), len(items))


async def _group_and_save(
    db: AsyncSession,
    run_id: int,
    items: list[Item],
    vectors: VectorFile,
    params: SynthesisParams,
    stages: Stages,
    pool: ScopePool | None,
    progress: _Tracker,
    clock: Callable[[], datetime],
    model_id: str,
) -> None:
    """The stages after embedding: copies, articles, themes, then the results saved."""
    await progress(RunStage.CAMPAIGNS, 0, len(items), force=True)
    copies = await anyio.to_thread.run_sync(find_copies, items, stages.copies, params.seed)
    give_back_freed_memory()  # copy detection's index, before the clustering processes grow

    scopes = article_scopes(items)
    # One step per article, then one for the themes that gather them.
    steps = len(scopes) + 1
    await progress(RunStage.CLUSTERING, 0, steps, force=True)

    async def scope_done(finished: int) -> None:
        await progress(RunStage.CLUSTERING, finished, steps, force=True)

    articles = await synthesise_articles(
        scopes, items, vectors.rows, copies, params, stages, pool, scope_done
    )
    themes = await anyio.to_thread.run_sync(
        gather_themes, articles, items, vectors.rows, params, stages
    )
    await progress(RunStage.CLUSTERING, steps, steps, force=True)

    await progress(RunStage.SAVING, 0, len(items), force=True)
    await db.commit()  # end the reads: the saving transaction starts below
    # The run's row first: PostgreSQL locks it and SQLite takes its write lock, so a sweep
    # that would take the run for dead waits for this transaction, then finds it done.
    held = await db.execute(
        update(SynthesisRun).where(progress.held()).values(heartbeat_at=clock())
    )
    if not held.rowcount:  # type: ignore[attr-defined]
        await db.rollback()
        raise RunSuperseded(run_id)
    await _save(db, run_id, items, copies, themes, articles)
    described = stages.describe()
    await db.execute(
        update(SynthesisRun)
        .where(SynthesisRun.id == run_id)
        .values(
            status=RunStatus.SUCCEEDED,
            stage=RunStage.DONE,
            done=len(items),
            total=len(items),
            model_id=model_id,
            stages=described,
            input_hash=input_hash(
                model_id, {"params": params.as_json(), "stages": described}, items
            ),
            contribution_count=len(items),
            finished_at=clock(),
            heartbeat_at=clock(),
            error="",
        )
    )
    await db.commit()


async def _opinions_stage(
    db: AsyncSession,
    run_id: int,
    consultation_id: int,
    progress: _Tracker,
    clock: Callable[[], datetime],
) -> None:
    """The opinion groups of the votes as they are when the run fixes its input, stored with
    the run in their own transaction: a resumed run keeps them (decision 0031)."""
    if await has_run_opinions(db, run_id):
        await db.rollback()
        return
    await progress(RunStage.OPINIONS, 0, 1, force=True)
    if not await store_run_opinions(db, run_id, consultation_id, clock=clock, held=progress.held()):
        raise RunSuperseded(run_id)
    await progress(RunStage.OPINIONS, 1, 1, force=True)


async def _save(
    db: AsyncSession,
    run_id: int,
    items: Sequence[Item],
    copies: Copies,
    themes: ScopeResult,
    articles: Sequence[ScopeResult],
) -> None:
    """Replace the run's stored results (a resumed run may have saved some) with these."""
    await db.execute(delete(SynthesisMembership).where(SynthesisMembership.run_id == run_id))
    # Article groups point at their theme: clear those links before the rows go.
    await db.execute(
        update(SynthesisCluster).where(SynthesisCluster.run_id == run_id).values(theme_id=None)
    )
    await db.execute(delete(SynthesisCluster).where(SynthesisCluster.run_id == run_id))
    await db.execute(delete(SynthesisCampaign).where(SynthesisCampaign.run_id == run_id))

    index_of = {item.id: index for index, item in enumerate(items)}
    # Campaigns first, then repost groups, numbered on from the campaigns (one numbering per
    # run keeps the (run, position) key); the report numbers each kind from 1.
    groups: list[tuple[CopyKind, Campaign]] = [
        *((CopyKind.CAMPAIGN, group) for group in copies.campaigns),
        *((CopyKind.REPOST, group) for group in copies.reposts),
    ]
    campaign_rows = [
        SynthesisCampaign(
            run_id=run_id,
            position=position,
            kind=kind,
            representative_id=campaign.representative,
            copies=campaign.copies,
            exact_copies=campaign.exact_copies,
            distinct_authors=campaign.distinct_authors,
            first_at=campaign.first_at,
            last_at=campaign.last_at,
            article_keys=sorted({items[index_of[m]].article_key for m in campaign.members}),
        )
        for position, (kind, campaign) in enumerate(groups)
    ]
    db.add_all(campaign_rows)
    await db.flush()
    await _insert_rows(
        db,
        SynthesisCampaignMember,
        [
            {"campaign_id": row.id, "contribution_id": member}
            for row, (_kind, campaign) in zip(campaign_rows, groups, strict=True)
            for member in campaign.members
        ],
    )
    theme_rows = await _save_scope(db, run_id, items, themes, {})
    theme_ids = {position: row.id for position, row in theme_rows.items()}
    for result in articles:
        await _save_scope(db, run_id, items, result, theme_ids)


async def _save_scope(
    db: AsyncSession,
    run_id: int,
    items: Sequence[Item],
    result: ScopeResult,
    theme_ids: dict[int, int],
) -> dict[int, SynthesisCluster]:
    """Store one scope's groups and memberships; its rows by position."""
    rows = {
        group.position: SynthesisCluster(
            run_id=run_id,
            scope=result.scope,
            position=group.position,
            title=group.title[:300],
            keywords=list(group.keywords),
            items=group.units,
            contributions=len(group.members),
            targets=[{"target": t.target, "stances": t.stances} for t in group.targets],
            discussion_id=None if group.discussion is None else items[group.discussion].id,
            generic=group.generic,
            theme_id=theme_ids.get(group.theme) if group.theme is not None else None,
            kinds=group.kinds,
            quotes=[items[i].id for i in group.quotes],
            amendments=[items[i].id for i in group.amendments],
            x=group.x,
            y=group.y,
        )
        for group in result.clusters
    }
    db.add_all(rows.values())
    await db.flush()
    await _insert_rows(
        db,
        SynthesisMembership,
        [
            {
                "cluster_id": rows[group.position].id,
                "contribution_id": items[member].id,
                "run_id": run_id,
                "scope": result.scope,
                "x": result.coordinates.get(member, (0.5, 0.5))[0],
                "y": result.coordinates.get(member, (0.5, 0.5))[1],
            }
            for group in result.clusters
            for member in group.members
        ],
    )
    return rows


async def _insert_rows(db: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await db.execute(insert(model), rows[start : start + INSERT_CHUNK])
