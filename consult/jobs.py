"""Background jobs and the queue that runs them.

The job functions here are the ones the arq worker registers (`worker/`).
Without `CONSULT_REDIS_URL`, the web process runs the very same functions
in-process, so the embedded setup exercises the same code as production.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from consult.accounts.services import SessionPolicy, purge_expired_sessions
from consult.observability import REQUEST_ID, Stopwatch, current_request_id, metrics
from consult.outages import unreachable_service
from consult.settings import Settings

if TYPE_CHECKING:
    from consult.nlp.embed import Embedder
    from consult.synthesis.parallel import ScopePool
    from consult.synthesis.pipeline import SynthesisPipeline

logger = logging.getLogger("consult.jobs")

JobContext = dict[str, Any]
JobFunction = Callable[..., Awaitable[Any]]


def job_context(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> JobContext:
    """What every job receives (arq passes the same keys through its `ctx`)."""
    return {"settings": settings, "session_factory": session_factory}


async def purge_sessions(ctx: JobContext) -> int:
    """Delete expired login sessions, spent form tokens past their expiry, wrong passwords
    too old to count, expired email links and registrations never confirmed, so that these
    tables do not grow forever."""
    from consult.accounts.links import purge_old_links
    from consult.accounts.retention import close_inactive_accounts
    from consult.db import utcnow
    from consult.protection.form_tokens import purge_spent_form_tokens
    from consult.protection.logins import purge_login_failures

    settings: Settings = ctx["settings"]
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(days=settings.session_absolute_days),
    )
    now = ctx.get("clock", utcnow)()
    async with ctx["session_factory"]() as db:
        purged = await purge_expired_sessions(db, policy, now)
        tokens = await purge_spent_form_tokens(db, now)
        failures = await purge_login_failures(db, now)
        links = await purge_old_links(db, now)
        warned, closed = await close_inactive_accounts(
            db, settings.inactive_account_days, now, settings.sends_email
        )
        await db.commit()
    logger.info(
        "purged %d sessions, %d form tokens, %d login failures, %d links;"
        " %d inactive accounts warned, %d closed",
        *(purged, tokens, failures, links, warned, closed),
    )
    return purged


def embedder_for(ctx: JobContext) -> Embedder:
    """The configured embedder, loaded once per process on first use (loading takes seconds)."""
    if "embedder" not in ctx:
        from consult.nlp.embed import embedder_from_setting

        ctx["embedder"] = embedder_from_setting(ctx["settings"].embedding_model)
    embedder: Embedder = ctx["embedder"]
    return embedder


def pipeline_for(ctx: JobContext) -> SynthesisPipeline:
    """The synthesis this process runs, assembled once: the configured embedder and the
    stages every run uses."""
    if "pipeline" not in ctx:
        from consult.synthesis.pipeline import SynthesisPipeline, default_stages

        ctx["pipeline"] = SynthesisPipeline(embedder_for(ctx), default_stages())
    pipeline: SynthesisPipeline = ctx["pipeline"]
    return pipeline


def scope_pool_for(ctx: JobContext) -> ScopePool | None:
    """The processes that cluster a run's articles, started once per process on first use
    (None when ``synthesis_processes`` is 0: the job clusters in its own process)."""
    if "scope_pool" not in ctx:
        from consult.synthesis.parallel import ScopePool

        processes = ctx["settings"].synthesis_processes
        ctx["scope_pool"] = ScopePool(processes) if processes > 0 else None
    pool: ScopePool | None = ctx["scope_pool"]
    return pool


async def close_scope_pool(ctx: JobContext) -> None:
    """Stop the clustering processes, if any were started."""
    pool = ctx.pop("scope_pool", None)
    if pool is not None:
        await anyio.to_thread.run_sync(pool.close)


async def embed_contribution(ctx: JobContext, contribution_id: int) -> int:
    """Embed one new contribution (a no-op when its text is already embedded)."""
    from consult.synthesis.embeddings import embed_contributions

    async with ctx["session_factory"]() as db:
        report = await embed_contributions(
            db, embedder_for(ctx), contribution_ids=[contribution_id]
        )
        await db.commit()
    return report.embedded


async def embed_missing(ctx: JobContext) -> int:
    """Sweep: embed every contribution still missing a vector (lost jobs, imports).

    A batch of contributions at a time, each committed: a million imported contributions are
    embedded in bounded memory, and an interrupted sweep keeps what it has done.
    """
    from consult.synthesis.embeddings import embed_contribution_batch

    embedded, after = 0, 0
    while True:
        async with ctx["session_factory"]() as db:
            report, after = await embed_contribution_batch(db, embedder_for(ctx), after)
            await db.commit()
        embedded += report.embedded
        if not report.considered:
            break
    logger.info("sweep embedded %d texts", embedded)
    return embedded


async def synthesize(ctx: JobContext, run_id: int) -> str:
    """Execute a synthesis run (idempotent: a run already done is left as it is)."""
    from consult.db import utcnow
    from consult.synthesis.runs import execute_run

    status = await execute_run(
        ctx["session_factory"],
        pipeline_for(ctx),
        run_id,
        clock=ctx.get("clock", utcnow),
        pool=scope_pool_for(ctx),
    )
    return status.value


async def send_notifications(ctx: JobContext) -> int:
    """Send the pending emails about published answers and about accounts (failures stay
    pending, retried)."""
    from consult.db import utcnow
    from consult.notifications.account_notices import send_pending_notices
    from consult.notifications.services import deliver_by_smtp, send_pending

    settings: Settings = ctx["settings"]
    if not settings.sends_email:
        return 0
    deliver, clock = ctx.get("deliver", deliver_by_smtp), ctx.get("clock", utcnow)
    sent = failed = 0
    for send in (send_pending, send_pending_notices):
        async with ctx["session_factory"]() as db:
            done, missed = await send(db, settings, deliver, clock, anyio.to_thread.run_sync)
        sent, failed = sent + done, failed + missed
    if sent or failed:
        logger.info("sent %d notifications, %d attempts failed", sent, failed)
    return sent


def stalled_after(ctx: JobContext) -> timedelta:
    """How long a run under way may give no sign of life before it is resumed elsewhere."""
    settings: Settings | None = ctx.get("settings")
    seconds = settings.synthesis_stalled_seconds if settings is not None else 90
    return timedelta(seconds=seconds)


async def resume_synthesis_runs(ctx: JobContext) -> int:
    """Sweep: queue again the stalled runs (worker killed, job lost with Redis), for any
    worker to resume."""
    from consult.db import utcnow
    from consult.synthesis.runs import runs_to_resume

    now = ctx.get("clock", utcnow)()
    async with ctx["session_factory"]() as db:
        lost = await runs_to_resume(db, now, stalled_after(ctx))
        await db.commit()
    queue: JobQueue = ctx["queue"]
    for run_id, job_id in lost:
        await queue.enqueue(synthesize, run_id, job_id=job_id)
    if lost:
        logger.info("resumed %d synthesis runs", len(lost))
    return len(lost)


@dataclass(frozen=True)
class Schedule:
    """When a periodic job runs: arq cron minutes on a worker, a timer in-process."""

    every: timedelta
    # arq cron minutes, spread away from the top of the hour (None: every minute)
    minutes: frozenset[int] | None = frozenset({17})
    # Also run when a worker (or the web process, in-process) starts.
    at_startup: bool = False
    # arq cron seconds within those minutes
    seconds: frozenset[int] = frozenset({0})


@dataclass(frozen=True)
class Job:
    """A job, declared once: its function (whose name is the job's name), its time limit and
    its schedule if it is periodic. The same limits hold on an arq worker and in-process."""

    function: JobFunction
    timeout: int
    schedule: Schedule | None = None

    @property
    def name(self) -> str:
        """The name arq and the in-process queue know the job by."""
        return self.function.__name__


JOBS: tuple[Job, ...] = (
    Job(purge_sessions, 300, Schedule(timedelta(hours=1))),
    Job(embed_contribution, 120),
    # A synthesis of 100,000 contributions embeds for about six minutes on two cores the
    # first time. Sweeps also run at start-up: imported or seeded contributions (the demo's)
    # get their vectors at once, so similar contributions are found from the first minute;
    # and runs left unfinished by a stopped process resume as soon as one starts again.
    Job(embed_missing, 3600, Schedule(timedelta(minutes=10), frozenset(range(7, 60, 10)), True)),
    Job(synthesize, 3600),
    # Every 30 seconds, so that a run stalled for `synthesis_stalled_seconds` (90 by default)
    # is resumed within two minutes of its worker's death.
    Job(
        resume_synthesis_runs,
        60,
        Schedule(timedelta(seconds=30), None, at_startup=True, seconds=frozenset({5, 35})),
    ),
    # Emails left pending by a lost job or a mail server that was down are tried again.
    Job(send_notifications, 600, Schedule(timedelta(minutes=5), frozenset(range(1, 60, 5)), True)),
)
_BY_NAME = {job.name: job for job in JOBS}


def traced(job: Job) -> JobFunction:
    """`job`'s function, timed into the job-duration metric and logged when it ends, with the
    id of the request that queued it (passed as `request_id` to an arq worker; inherited by an
    in-process job) on every line it logs."""
    function = job.function

    @functools.wraps(function)
    async def run(ctx: JobContext, *args: Any, request_id: str | None = None) -> Any:
        token = REQUEST_ID.set(request_id or REQUEST_ID.get())
        watch, outcome = Stopwatch(), "failed"
        try:
            result = await function(ctx, *args)
            outcome = "ok"
            return result
        finally:
            seconds = watch.seconds
            metrics().job_seconds.labels(job.name, outcome).observe(seconds)
            logger.info(
                "job %s %s in %.3f s",
                job.name,
                "done" if outcome == "ok" else "failed",
                seconds,
                extra={"job": job.name, "outcome": outcome, "duration_ms": seconds * 1000},
            )
            REQUEST_ID.reset(token)

    return run


def job_of(function: JobFunction) -> Job:
    """The declared job that runs `function` (a function that is no job is a programming
    error, caught by the first test that queues it)."""
    job = _BY_NAME.get(function.__name__)
    if job is None or job.function is not function:
        raise LookupError(f"{function.__name__} is not a declared job")
    return job


class JobQueue(Protocol):
    """Where writes hand work over to the background."""

    async def enqueue(self, job: JobFunction, *args: Any, job_id: str | None = None) -> None:
        """Schedule `job(*args)`; a job id already queued or running is not queued again."""

    async def close(self) -> None:
        """Stop accepting jobs and release resources."""

    async def depth(self) -> int:
        """Jobs queued and not started yet."""


@dataclass
class InProcessQueue:
    """Runs jobs as tasks of the web process, with periodic jobs on timers."""

    context: JobContext
    tasks: dict[str, asyncio.Task[Any]] = field(default_factory=dict)
    timers: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Jobs that queue other jobs (the sweeps) find the queue in their context.
        self.context["queue"] = self

    def start_periodic(self) -> None:
        """Start the timers of the periodic jobs."""
        for job in JOBS:
            if job.schedule is not None:
                self.timers.append(asyncio.create_task(self._every(job, job.schedule)))

    async def _every(self, job: Job, schedule: Schedule) -> None:
        if schedule.at_startup:
            await self.enqueue(job.function, job_id=f"periodic:{job.name}")
        while True:
            await asyncio.sleep(schedule.every.total_seconds())
            await self.enqueue(job.function, job_id=f"periodic:{job.name}")

    async def enqueue(self, job: JobFunction, *args: Any, job_id: str | None = None) -> None:
        """Start the job now in a task, unless the same job id is still running."""
        declared = job_of(job)
        key = job_id or f"{declared.name}:{id(args)}"
        running = self.tasks.get(key)
        if running is not None and not running.done():
            return
        task = asyncio.create_task(self._run(declared, args))
        self.tasks[key] = task

        def forget(_finished: asyncio.Task[Any]) -> None:
            self.tasks.pop(key, None)

        task.add_done_callback(forget)

    async def _run(self, job: Job, args: tuple[Any, ...]) -> Any:
        try:
            return await asyncio.wait_for(traced(job)(self.context, *args), job.timeout)
        except Exception as error:
            service = unreachable_service(error)
            if service is None:
                logger.exception("job %s failed", job.name)
            else:  # an outage, not a bug: the periodic sweeps do the work once it is over
                logger.warning("job %s could not reach the %s: %s", job.name, service, error)
            return None

    async def depth(self) -> int:
        """In-process jobs start at once: the ones still running."""
        return sum(not task.done() for task in self.tasks.values())

    async def drain(self) -> None:
        """Wait for every queued job to finish (tests, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks.values()), return_exceptions=True)

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Cancel timers, give running jobs a moment to finish, then cancel the rest.

        A cancelled job records itself as interrupted and the periodic sweep of the next
        start resumes it, so a long synthesis does not hold a shutdown for minutes.
        """
        for timer in self.timers:
            timer.cancel()
        await asyncio.gather(*self.timers, return_exceptions=True)
        running = list(self.tasks.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await close_scope_pool(self.context)


class ArqQueue:
    """Hands jobs to arq workers through Redis."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, redis_url: str) -> ArqQueue:
        """Open the Redis pool arq uses."""
        from arq import create_pool
        from arq.connections import RedisSettings

        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def enqueue(self, job: JobFunction, *args: Any, job_id: str | None = None) -> None:
        """Queue the job; arq ignores a job id that is already queued or running. The id of
        the request being answered goes with it, for the worker's log lines."""
        request_id = current_request_id()
        traced_by = {"request_id": request_id} if request_id else {}
        await self.pool.enqueue_job(job_of(job).name, *args, _job_id=job_id, **traced_by)

    async def depth(self) -> int:
        """Jobs waiting in arq's queue."""
        from arq.constants import default_queue_name

        return int(await self.pool.zcard(default_queue_name))

    async def close(self) -> None:
        """Close the Redis connection."""
        await self.pool.aclose()
