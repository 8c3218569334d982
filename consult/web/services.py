"""The application's long-lived parts: settings, clock, templates, database, job queue.

Built by `create_app`, completed by its lifespan, and reached from any request through
`services_of` — the one place where the application's state is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from consult.jobs import JobQueue
from consult.settings import Settings
from consult.synthesis.similar import SimilarContributionFinder
from consult.web.pagecache import PageCache
from consult.web.pdf import PdfRenderer
from consult.web.ratelimit import RateLimiter

PathBuilder = Callable[..., str]


@dataclass(frozen=True)
class Running:
    """What the lifespan opens: the database, the job queue, the similar-text indexes."""

    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    jobs: JobQueue
    similar: SimilarContributionFinder


@dataclass
class Services:
    """The application's long-lived parts, shared by every request."""

    settings: Settings
    clock: Callable[[], datetime]
    templates: Environment
    url_for: PathBuilder
    page_cache: PageCache
    pdfs: PdfRenderer
    rate_limiter: RateLimiter
    running: Running | None = None

    @property
    def started(self) -> Running:
        """The parts opened by the lifespan (a request cannot arrive before it has run)."""
        if self.running is None:
            raise RuntimeError("the application's lifespan has not started")
        return self.running

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the application's database."""
        return self.started.session_factory

    @property
    def jobs(self) -> JobQueue:
        """Where work is handed to the background."""
        return self.started.jobs


def services_of(connection: HTTPConnection) -> Services:
    """The application's services, from any request or middleware scope."""
    return services_of_app(connection.app)


def services_of_app(app: Starlette) -> Services:
    """The services an application built by `create_app` holds."""
    return cast(Services, app.state.services)
