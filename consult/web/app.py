"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware

from consult.accounts.passwords import use_profile as use_password_profile
from consult.db import create_engine, create_session_factory, utcnow
from consult.jobs import ArqQueue, InProcessQueue, JobContext, JobQueue, embedder_for, job_context
from consult.settings import Settings
from consult.synthesis.similar import SimilarContributionFinder
from consult.web.errors import EXCEPTION_HANDLERS
from consult.web.middleware import (
    CrossOriginProtectionMiddleware,
    LanguageMiddleware,
    RateLimitMiddleware,
    SecurityHeadersMiddleware,
)
from consult.web.observability import ObservabilityMiddleware, ScrapeState
from consult.web.pagecache import PageCache
from consult.web.pdf import PdfRenderer
from consult.web.ratelimit import RateLimiter
from consult.web.routes import all_routes
from consult.web.routing import PublicStatic
from consult.web.services import Running, Services
from consult.web.templating import create_environment, path_builder

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = utcnow
) -> Starlette:
    """Build the web application; nothing touches the network until its lifespan starts."""
    settings = settings or Settings.from_env()
    use_password_profile(settings.password_hashing)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        session_factory = create_session_factory(engine)
        queue: JobQueue
        if settings.redis_url:
            queue = await ArqQueue.connect(settings.redis_url)
            # arq workers hold their own embedder; the web process loads one for searches.
            shared: JobContext = {"settings": settings}
        else:
            # In-process jobs read the application's clock, as its requests do.
            in_process = InProcessQueue(job_context(settings, session_factory) | {"clock": clock})
            in_process.start_periodic()
            queue = in_process
            # In-process jobs already hold the configured embedder: share its model rather
            # than load a second copy.
            shared = in_process.context
        similar = SimilarContributionFinder(session_factory, lambda: embedder_for(shared))
        services.running = Running(engine, session_factory, queue, similar)
        try:
            yield
        finally:
            await queue.close()
            await services.rate_limiter.close()
            await engine.dispose()

    app = Starlette(
        debug=False,
        routes=[*all_routes(), PublicStatic("/static", str(STATIC_DIR), name="static")],
        middleware=[
            # Outermost: every answer, refusals and crashes included, has its id and timing.
            Middleware(ObservabilityMiddleware, settings=settings),
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(LanguageMiddleware, settings=settings),
            Middleware(RateLimitMiddleware, settings=settings),
            Middleware(CrossOriginProtectionMiddleware, settings=settings),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    services = Services(
        settings=settings,
        clock=clock,
        templates=create_environment(),
        url_for=path_builder(app),
        page_cache=PageCache(settings.page_cache_seconds),
        pdfs=PdfRenderer(),
        # Created here (not only in the lifespan) so middleware can use it in every test setup.
        rate_limiter=RateLimiter(settings.redis_url),
    )
    app.state.services = services
    app.state.scrape = ScrapeState()
    return app
