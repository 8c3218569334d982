"""arq worker settings: `consult worker` (or `arq worker.settings.WorkerSettings`)."""

from __future__ import annotations

from typing import Any, ClassVar, cast

import anyio.to_thread
from arq import cron, func
from arq.connections import RedisSettings

from consult.accounts.passwords import use_profile as use_password_profile
from consult.db import create_engine, create_session_factory
from consult.jobs import (
    JOBS,
    ArqQueue,
    close_scope_pool,
    embedder_for,
    job_context,
    scope_pool_for,
    traced,
)
from consult.observability import configure_metrics
from consult.settings import Settings


async def startup(ctx: dict[str, Any]) -> None:
    """Open the database engine once per worker process."""
    settings = Settings.from_env()
    configure_metrics(settings.metrics_directory)
    use_password_profile(settings.password_hashing)
    engine = create_engine(settings.database_url)
    ctx["engine"] = engine
    ctx.update(job_context(settings, create_session_factory(engine)))
    # Sweeps queue jobs through the worker's own Redis connection (arq owns and closes it).
    ctx["queue"] = ArqQueue(ctx["redis"])
    # Load the embedding model once per worker, before the first job needs it.
    load = getattr(embedder_for(ctx), "load", None)
    if load is not None:
        await anyio.to_thread.run_sync(load)
    # Start the clustering processes now: each compiles the clustering code as it starts.
    pool = scope_pool_for(ctx)
    if pool is not None:
        await pool.warm_up()


async def shutdown(ctx: dict[str, Any]) -> None:
    """Stop the clustering processes and close the database engine."""
    await close_scope_pool(ctx)
    await ctx["engine"].dispose()


def _redis_settings() -> RedisSettings:
    url = Settings.from_env().redis_url
    return RedisSettings.from_dsn(url) if url else RedisSettings()


class WorkerSettings:
    """What `arq` reads: the job functions, the schedule and the hooks."""

    functions: ClassVar[list[Any]] = [
        func(cast(Any, traced(job)), name=job.name, timeout=job.timeout) for job in JOBS
    ]
    cron_jobs: ClassVar[list[Any]] = [
        cron(
            cast(Any, traced(job)),
            minute=None if job.schedule.minutes is None else set(job.schedule.minutes),
            second=set(job.schedule.seconds),
            run_at_startup=job.schedule.at_startup,
            timeout=job.timeout,
            unique=True,
        )
        for job in JOBS
        if job.schedule is not None
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = _redis_settings()
    job_timeout = 300
    max_tries = 5
