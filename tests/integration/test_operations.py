"""Operating the site: `consult serve` with several processes writing JSON logs and sharing
their metrics, and a real arq worker carrying the id of the request that queued its job."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from arq.constants import default_queue_name
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.observability import RequestIdFilter
from consult.synthesis.models import Embedding
from consult.web.services import services_of_app
from tests.support.services import redis_url
from tests.support.site import PASSWORD, browser, make_settings, serving
from tests.support.worker import forget_arq_jobs, make_worker, work_until, worker_environment

ARTICLE = "/consultations/bibliotheques/articles/art-1"


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def answered_by(log: Path, route: str) -> set[int]:
    """The processes whose JSON access lines so far answered `route`."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return {
        line["process"]
        for line in lines
        if line["logger"] == "consult.access" and line.get("route") == route
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_with_two_processes_logs_json_and_adds_up_their_metrics(
    library_url: str, tmp_path: Path
) -> None:
    port, shared = free_port(), tmp_path / "metrics"
    environment = {
        **os.environ,
        "CONSULT_DATABASE_URL": library_url,
        "CONSULT_SECRET_KEY": "s" * 40,
        "CONSULT_EMBEDDING_MODEL": "hashing",
        "CONSULT_LOG_FORMAT": "json",
        "CONSULT_METRICS_DIRECTORY": str(shared),
        "CONSULT_RATE_LIMIT": "10000/minute",
    }
    log = (tmp_path / "serve.log").open("wb")
    command = [str(Path(sys.executable).parent / "consult"), "serve", "--port", str(port)]
    server = subprocess.Popen([*command, "--workers", "2"], env=environment, stderr=log)
    base = f"http://127.0.0.1:{port}"
    route = "/consultations/{slug}/articles/{key}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "consult serve did not start"
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{base}/healthz").status_code == 200:
                    break
            time.sleep(0.2)
        # Articles read, a new connection each, until both processes have answered some.
        sent = 0
        while len(answered_by(tmp_path / "serve.log", route)) < 2:
            assert sent < 300, "one process answered every request"
            answer = httpx2.get(f"{base}{ARTICLE}", headers={"X-Request-ID": f"probe-{sent:04d}-x"})
            assert answer.headers["x-request-id"] == f"probe-{sent:04d}-x"
            assert answer.status_code == 200
            sent += 1
        scraped = httpx2.get(f"{base}/metrics").text
        # Whichever process answers the scrape, it adds up both processes' counts.
        assert metric(scraped, "consult_http_request_duration_seconds_count", route=route) == sent
        assert metric(scraped, "consult_http_responses_total", route=route, status="200") == sent
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines()]
    access = {line["request_id"]: line for line in lines if line["logger"] == "consult.access"}
    first = access["probe-0000-x"]
    assert (first["route"], first["status"], first["level"]) == (route, 200, "info")
    # uvicorn's own lines (start, stop) are JSON too, with no request.
    started = [line for line in lines if line["logger"].startswith("uvicorn")]
    assert started and all(line["request_id"] is None for line in started)


@pytest.mark.redis
@pytest.mark.anyio
async def test_a_worker_job_carries_the_request_id_and_the_metrics_follow_the_queue(
    library_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    redis = redis_url()
    worker_environment(monkeypatch, library_url, redis)
    await forget_arq_jobs(redis)
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="consult.jobs")
    async with serving(make_settings(library_url, redis_url=redis)) as app:
        factory = services_of_app(app).session_factory
        async with factory() as session:
            await create_user(session, "author@example.org", "Author", PASSWORD, Role.CITIZEN)
            await session.commit()
        author, monitoring = await browser(app, "author@example.org"), await browser(app)
        posted = await author.post(
            f"{ARTICLE}/arguments",
            data={"stance": "contre", "body": "Le dimanche, le personnel se repose."},
            headers={"X-Request-ID": "argument-0042-trace"},
        )
        assert (posted.status_code, posted.headers["x-request-id"]) == (303, "argument-0042-trace")
        waiting = (await monitoring.get("/metrics")).text
        assert metric(waiting, "consult_queue_depth") == 1
        assert metric(waiting, "consult_embedding_backlog") == 1

        async def embedded() -> bool:
            async with factory() as session:
                return bool(await session.scalar(select(func.count()).select_from(Embedding)))

        await work_until(make_worker(default_queue_name, redis), embedded)
        done = (await monitoring.get("/metrics")).text
        assert metric(done, "consult_queue_depth") == 0
        assert metric(done, "consult_embedding_backlog") == 0
        assert metric(done, "consult_job_duration_seconds_count", job="embed_contribution") >= 1
        await author.aclose()
        await monitoring.aclose()
    client = Redis.from_url(redis)
    await client.delete(default_queue_name)
    await client.aclose()
    ended = [r for r in caplog.records if getattr(r, "job", None) == "embed_contribution"]
    assert [(r.request_id, r.outcome) for r in ended] == [("argument-0042-trace", "ok")]  # type: ignore[attr-defined]
