"""What operators see: a request id on every answer and log line, and `/metrics` for the
monitoring only, its latencies by route template."""

from __future__ import annotations

import logging
import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.observability import RequestIdFilter
from consult.web.services import services_of_app
from tests.support.site import PASSWORD, Site, browser, make_settings, serving

ARTICLE = "/consultations/bibliotheques/articles/art-1"
ARTICLE_ROUTE = "/consultations/{slug}/articles/{key}"
TOKEN = "scrape-token-that-is-long-enough-0123456789"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric, by their labels."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_every_answer_carries_a_request_id_and_keeps_a_sane_one(library: Site) -> None:
    made = library.client.get(ARTICLE)
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    again = library.client.get(ARTICLE)
    assert again.headers["x-request-id"] != made.headers["x-request-id"]

    kept = library.client.get(ARTICLE, headers={"X-Request-ID": "lb-7f3a2c.19:ab"})
    assert kept.headers["x-request-id"] == "lb-7f3a2c.19:ab"
    # Refusals and missing pages carry one too.
    missing = library.client.get("/consultations/nowhere", headers={"X-Request-ID": "abcd-1234"})
    assert (missing.status_code, missing.headers["x-request-id"]) == (404, "abcd-1234")
    forgeries = ("short", "with space in it", "line\tbreak-and-more", "é".encode() * 20, "x" * 200)
    for forged in forgeries:
        replaced = library.client.get("/healthz", headers={"X-Request-ID": forged})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"]), forged


def test_each_log_line_of_a_request_carries_its_id_and_route_not_its_path(
    library: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="consult")
    library.client.get(ARTICLE, headers={"X-Request-ID": "trace-0001-article"})
    library.client.get("/healthz", headers={"X-Request-ID": "trace-0002-health"})
    access = [r for r in caplog.records if r.name == "consult.access"]
    by_id = {r.request_id: r for r in access}  # type: ignore[attr-defined]
    article = by_id["trace-0001-article"]
    assert (article.method, article.route, article.status) == ("GET", ARTICLE_ROUTE, 200)  # type: ignore[attr-defined]
    assert "bibliotheques" not in article.getMessage()
    assert by_id["trace-0002-health"].route == "/healthz"  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_metrics_answer_the_machine_itself_and_the_token_and_nobody_else(
    library_url: str,
) -> None:
    async with serving(make_settings(library_url)) as app:
        local = await browser(app, address="127.0.0.1")
        public = await browser(app, None, "203.0.113.9")
        local6 = await browser(app, address="::1")
        assert (await local.get("/metrics")).status_code == 200
        assert (await local6.get("/metrics")).status_code == 200
        assert (await public.get("/metrics")).status_code == 404
        # Through a proxy on the same machine, a visitor would look local: refused.
        proxied = await local.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 404
        for http in (local, local6, public):
            await http.aclose()
    async with serving(make_settings(library_url, metrics_token=TOKEN)) as app:
        remote = await browser(app, address="10.0.0.7")
        assert (await remote.get("/metrics")).status_code == 404
        wrong = await remote.get("/metrics", headers={"Authorization": "Bearer " + "x" * 44})
        assert wrong.status_code == 404
        right = await remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert right.headers["content-type"].startswith("text/plain; version=")
        await remote.aclose()


@pytest.mark.anyio
async def test_latencies_are_counted_per_route_template_with_the_backlog(
    library_url: str,
) -> None:
    async with serving(make_settings(library_url)) as app:
        monitoring = await browser(app, address="127.0.0.1")
        before = samples(
            (await monitoring.get("/metrics")).text, "consult_http_request_duration_seconds_count"
        )
        reader = await browser(app)
        for key in ("art-1", "art-2", "art-1"):
            page = await reader.get(f"/consultations/bibliotheques/articles/{key}")
            assert page.status_code == 200
        assert (await reader.get("/no/such/page/42")).status_code == 404
        scraped = (await monitoring.get("/metrics")).text
        after = samples(scraped, "consult_http_request_duration_seconds_count")
        article = (("method", "GET"), ("route", ARTICLE_ROUTE))
        assert after[article] - before.get(article, 0) == 3
        unmatched = (("method", "GET"), ("route", "unmatched"))
        assert after[unmatched] - before.get(unmatched, 0) == 1
        assert "art-2" not in scraped and "/no/such" not in scraped  # no raw path
        # Made-up methods count as one, so that nobody adds series at will.
        for made_up in ("BREW", "PROPFIND"):
            await reader.request(made_up, "/")
        scraped = (await monitoring.get("/metrics")).text
        methods = {labels[0][1] for labels in samples(scraped, "consult_http_responses_total")}
        assert "other" in methods and not {"BREW", "PROPFIND"} & methods
        statuses = samples(scraped, "consult_http_responses_total")
        assert statuses[(("method", "GET"), ("route", ARTICLE_ROUTE), ("status", "200"))] >= 3
        # Jobs run inside the web process here: the new argument is embedded at once.
        factory = services_of_app(app).session_factory
        async with factory() as session:
            await create_user(session, "reader@example.org", "Reader", PASSWORD, Role.CITIZEN)
            await session.commit()
        author = await browser(app, "reader@example.org")
        posted = await author.post(
            ARTICLE + "/arguments", data={"stance": "pour", "body": "Ouvrir le dimanche matin."}
        )
        assert posted.status_code == 303
        await services_of_app(app).started.jobs.drain()  # type: ignore[attr-defined]
        scraped = (await monitoring.get("/metrics")).text
        assert samples(scraped, "consult_embedding_backlog") == {(): 0.0}
        assert samples(scraped, "consult_queue_depth") == {(): 0.0}
        jobs = samples(scraped, "consult_job_duration_seconds_count")
        assert jobs[(("job", "embed_contribution"), ("outcome", "ok"))] >= 1
        for http in (monitoring, reader, author):
            await http.aclose()
