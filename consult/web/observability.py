"""Request ids, one log line a request, and the metrics of the web layer.

:class:`ObservabilityMiddleware` is the outermost middleware: it gives each request its id
(echoed in `X-Request-ID`), times it into the latency histogram of its route template (never
its raw path, which would make a series per contribution and leak the secrets of emailed
links), counts its response and logs one line for it. :func:`metrics_response` answers
`/metrics` to the monitoring only.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consult.observability import (
    REQUEST_ID,
    Stopwatch,
    configure_metrics,
    metrics,
    metrics_directory,
    new_request_id,
    sane_request_id,
)
from consult.settings import Settings
from consult.synthesis.backlog import EmbeddingBacklog
from consult.web.errors import error_response
from consult.web.services import Services

access_logger = logging.getLogger("consult.access")
logger = logging.getLogger("consult.web")

UNMATCHED = "unmatched"
# Any other method a client makes up counts as one, so that nobody can add series at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SCRAPE_SECONDS = 5.0


class ObservabilityMiddleware:
    """Request id, latency and status metrics, and an access log line, for every request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.templates: dict[int, str] | None = None
        # The labelled series met so far: finding one by its labels costs more than the update.
        self.series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        configure_metrics(settings.metrics_directory)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = sane_request_id(Headers(scope=scope).get("x-request-id")) or new_request_id()
        token = REQUEST_ID.set(request_id)
        watch, status = Stopwatch(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.record(scope, status, watch.seconds)
            REQUEST_ID.reset(token)

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = self.route_of(scope)
        series = self.series.get((method, route, status))
        if series is None:
            recorded = metrics()
            series = (
                recorded.request_seconds.labels(method, route),
                recorded.responses.labels(method, route, str(status)),
            )
            self.series[(method, route, status)] = series
        series[0].observe(seconds)
        series[1].inc()
        if not access_logger.isEnabledFor(logging.INFO):
            return
        access_logger.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )

    def route_of(self, scope: Scope) -> str:
        """The template of the route that answered (`/consultations/{slug}`), or `unmatched`."""
        if self.templates is None:
            self.templates = dict(_templates(scope["app"].routes))
        endpoint = scope.get("endpoint")
        return self.templates.get(id(endpoint), UNMATCHED)


def _templates(routes: list[Any], prefix: str = "") -> Iterator[tuple[int, str]]:
    for route in routes:
        if isinstance(route, Route):
            yield id(route.endpoint), prefix + route.path
        elif isinstance(route, Mount):
            yield id(route.app), prefix + route.path + "/{path}"
            yield from _templates(route.routes, prefix + route.path)


def may_read_metrics(request: Request, token: str) -> bool:
    """With a token configured, whoever sends it; without, the machine itself (loopback),
    unless the request came through a proxy (which would make every visitor look local)."""
    if token:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if "x-forwarded-for" in request.headers or request.client is None:
        return False
    try:
        return ip_address(request.client.host).is_loopback
    except ValueError:
        return False


@dataclass
class ScrapeState:
    """What one process keeps between scrapes: the backlog count it updates incrementally."""

    backlog: EmbeddingBacklog | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def _queue_depth(services: Services) -> float:
    try:
        return float(await asyncio.wait_for(services.started.jobs.depth(), SCRAPE_SECONDS))
    except Exception as error:  # the queue's Redis down: say so in the metric, not a 500
        logger.warning("metrics: queue depth unknown: %s", error)
        return float("nan")


async def _embedding_backlog(services: Services, db: AsyncSession, state: ScrapeState) -> float:
    if state.backlog is None:
        from consult.nlp.embed import embedder_from_setting

        model_id = embedder_from_setting(services.settings.embedding_model).model_id
        state.backlog = EmbeddingBacklog(model_id)
    try:
        return float(await state.backlog.count(db))
    except Exception as error:  # the database down: the other figures still answer
        logger.warning("metrics: embedding backlog unknown: %s", error)
        return float("nan")


def exposition(queue_depth: float, backlog: float) -> tuple[bytes, str]:
    """The metrics of every process (or of this one) and the two read at scrape time, in
    Prometheus's text format, with its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry
    from prometheus_client import generate_latest as render
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector
    from prometheus_client.registry import Collector

    metrics()  # made before the first scrape, so that an idle process shows them at zero
    directory = metrics_directory()
    if directory:
        shared = CollectorRegistry()
        MultiProcessCollector(shared, path=directory)  # type: ignore[no-untyped-call]
    else:
        shared = REGISTRY

    class ReadNow(Collector):
        def collect(self) -> Iterator[GaugeMetricFamily]:
            yield GaugeMetricFamily(
                "consult_queue_depth", "Background jobs queued and not started.", queue_depth
            )
            yield GaugeMetricFamily(
                "consult_embedding_backlog",
                "Contributions whose text has no vector yet under the current model.",
                backlog,
            )

    now = CollectorRegistry(auto_describe=False)
    now.register(ReadNow())
    return render(shared) + render(now), CONTENT_TYPE_LATEST


async def metrics_response(request: Request, services: Services, db: AsyncSession) -> Response:
    """`/metrics` for the monitoring; 404 for anyone else, as if there were none."""
    if not may_read_metrics(request, services.settings.metrics_token):
        return error_response(request, 404)
    state: ScrapeState = request.app.state.scrape
    async with state.lock:  # two scrapes at once count the backlog once
        depth = await _queue_depth(services)
        backlog = await _embedding_backlog(services, db, state)
    body, content_type = exposition(depth, backlog)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
