"""An article page with 500 contributions, and a vote loop, against a bare Starlette app.

    .venv/bin/python -m bench.participation [--requests 1000] [--concurrency 8]

The article page carries 500 contributions with their vote counts; the bare app renders,
with Jinja, the same amount of HTML (no database, no session, no middleware). Anonymous
readers are served from the short page cache (CONSULT_PAGE_CACHE_SECONDS); logged-in
readers get the page kept under the article's stamp, their own parts filled in for them.
The vote loops post votes as a logged-in citizen, on a contribution and on the article,
alternating values so that requests write; the bare app answers a POST with a 303. The ratio
of consult's requests/s to the bare app's is the figure, printed beside its target (at least
0.3 for the logged-in page and the votes, 0.9 for the anonymous page); the two servers are
measured in turn, twice each, and the machine's load is printed with each pair, since the
machine may be shared; so is the server's CPU time per request (milliseconds) and its ratio,
which other processes' load moves less (it leaves out PostgreSQL's own work).
PostgreSQL is measured when CONSULT_BENCH_DATABASE_URL names an empty database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from bench.import_rows import generate
from bench.pages import HEADER, ROW, serve
from bench.pages import load as run_client
from consult.accounts.services import create_user
from consult.bills.services import latest_version
from consult.contributions.importer import import_contributions
from consult.db import create_engine, create_session_factory, utcnow
from consult.demo.seed import DEMO_SLUG, seed_demo
from consult.migrate import downgrade, upgrade
from consult.settings import Settings, normalise_database_url

ARTICLE = f"/consultations/{DEMO_SLUG}/articles/art-3"
PASSWORD = "benchmark password"  # noqa: S105  (a throw-away benchmark account)


async def prepare(url: str) -> None:
    """The demo, 500 more contributions on article 3 (with votes), and a citizen account."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            consultation = await seed_demo(session)
            version = await latest_version(session, consultation)
            assert version is not None
            rows = generate(500, seed=11)
            await import_contributions(session, consultation, version, rows, now=utcnow())
            await create_user(session, "bench@example.org", "Bench", PASSWORD)
            await session.commit()
    finally:
        await engine.dispose()


BARE_TEMPLATE = (
    '<!doctype html><html lang="fr"><head><title>{{ title }}</title></head><body>'
    "<main><h1>{{ title }}</h1>{% for item in items %}"
    '<article id="c{{ item.id }}"><header><h3>{{ item.kind }}</h3>'
    "<p>{{ item.author }} · {{ item.date }}</p></header><p>{{ item.body }}</p>"
    "<p>Pour {{ item.votes }}</p></article>{% endfor %}</main></body></html>"
)


def bare_rendering_app(path: str, size: int) -> Starlette:
    """A bare Starlette app that renders, with Jinja, about `size` bytes of similar HTML."""
    from jinja2 import Environment

    template = Environment(autoescape=True).from_string(BARE_TEMPLATE)
    one = {
        "id": 1,
        "kind": "Argument pour",
        "author": "Claire M.",
        "date": "19 novembre 2026",
        "body": "Je soutiens cet article, mais le délai de 21 jours est court pour les "
        "associations et les collectivités. " * 3,
        "votes": 12,
    }
    per_item = len(template.render(title="x", items=[one])) - len(
        template.render(title="x", items=[])
    )
    count = max(1, size // per_item)
    items = [{**one, "id": n} for n in range(count)]

    async def page(_request: Any) -> HTMLResponse:
        return HTMLResponse(template.render(title="Article 3", items=items))

    return Starlette(routes=[Route(path, page)])


def login_cookie(port: int) -> str:
    """Log in through the real form and return the session cookie."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/account/login",
        data=f"email=bench%40example.org&password={PASSWORD.replace(' ', '+')}".encode(),
        method="POST",
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request)
    except urllib.error.HTTPError as answer:  # the 303 after login
        cookie = answer.headers["set-cookie"]
        return str(cookie.split(";", 1)[0])
    raise RuntimeError("login failed")


def first_contribution_id(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{ARTICLE}") as response:
        body = response.read().decode()
    start = body.index('<article id="c') + len('<article id="c')
    return int(body[start : body.index('"', start)])


TARGETS = {
    "article, 500 contrib., anonymous": 0.9,
    "article, 500 contrib., logged in": 0.3,
    "vote POST (alternating values)": 0.3,
    "article vote POST (alternating)": 0.3,
}
HEAD = ROW + "{:>9}{:>8}{:>10}{:>7}  {}"
COLUMNS = ("target", "cpu ms", "cpu ratio", "load", "")


def load_average() -> str:
    """The machine's load over the last minute (the benchmark shares it)."""
    return f"{os.getloadavg()[0]:.1f}"


def report(
    name: str, what: str, ours: dict[str, float], bare: dict[str, float], machine_load: str
) -> None:
    """consult's figures beside the bare app's, measured one after the other, and the target.

    The ratio of requests/s is the figure; on a loaded machine it moves with the load, so the
    ratio of the server process's CPU time per request (the bare app's over consult's) is
    printed too: it leaves out what other processes take, and PostgreSQL's own work."""
    ratio = ours["rps"] / bare["rps"]
    cpu_ratio = bare["cpu"] / ours["cpu"]
    target = TARGETS[what]
    verdict = "met" if ratio >= target else "NOT met"
    for label, figures in (("consult", ours), ("bare", bare)):
        mine = label == "consult"
        print(
            HEAD.format(
                name,
                what,
                label,
                f"{figures['rps']:.0f}",
                f"{figures['p50']:.1f}",
                f"{figures['p95']:.1f}",
                f"{ratio:.2f}" if mine else "",
                f">= {target:.2f}" if mine else "",
                f"{figures['cpu']:.2f}",
                f"{cpu_ratio:.2f}" if mine else "",
                machine_load if mine else "",
                verdict if mine else "",
            )
        )
    if ours["errors"]:
        print(f"  ! consult answered {ours['errors']:.0f} errors")


Target = tuple[str, str, str, str]
"""What the load client sends: url, method, body, cookie."""


def side_by_side(
    ours: Target, bare: Target, requests: int, concurrency: int
) -> tuple[dict[str, float], dict[str, float], str]:
    """consult and the bare app, each measured twice in turn (ours, bare, ours, bare) so that a
    change in the machine's load weighs on both; the better run of each is kept. Both servers
    run in this process, one at a time, so its CPU time during a run is that server's."""
    machine_load = load_average()
    runs: dict[str, list[dict[str, float]]] = {"ours": [], "bare": []}
    half = max(1, requests // 2)
    for _ in range(2):
        for side, (url, method, body, cookie) in (("ours", ours), ("bare", bare)):
            started = time.process_time()
            figures = run_client(url, half, concurrency, method, body, cookie)
            figures["cpu"] = (time.process_time() - started) * 1000 / (half + 1)  # + warm-up
            runs[side].append(figures)
    best = {side: max(found, key=lambda f: f["rps"]) for side, found in runs.items()}
    for side, found in runs.items():
        best[side]["cpu"] = min(f["cpu"] for f in found)
    best["ours"]["errors"] = sum(f["errors"] for f in runs["ours"])
    return best["ours"], best["bare"], machine_load


def measure(name: str, url: str, port: int, requests: int, concurrency: int) -> None:
    from consult.web.app import create_app

    asyncio.run(prepare(url))
    settings = Settings(
        database_url=url,
        base_url=f"http://127.0.0.1:{port}",
        rate_limit="1000000/minute",
        rate_limit_post="1000000/minute",
        rate_limit_contribute="1000000/minute",
        rate_limit_login="1000000/minute",
        rate_limit_vote="1000000/minute",
        # The login form is posted by a script, at once.
        form_min_seconds=0,
    )
    server = serve(create_app(settings), port)
    article = f"http://127.0.0.1:{port}{ARTICLE}"
    try:
        with urllib.request.urlopen(article) as response:
            page = response.read()
        assert page.count(b'class="contribution ') >= 20
        bare_page = serve(bare_rendering_app(ARTICLE, len(page)), port + 1)
        bare: Target = (f"http://127.0.0.1:{port + 1}{ARTICLE}", "GET", "", "")
        what = "article, 500 contrib., anonymous"
        report(name, what, *side_by_side((article, "GET", "", ""), bare, requests, concurrency))
        cookie = login_cookie(port)
        what = "article, 500 contrib., logged in"
        logged_in: Target = (article, "GET", "", cookie)
        report(name, what, *side_by_side(logged_in, bare, requests, concurrency))
        bare_page.should_exit = True
        time.sleep(0.3)
        target = first_contribution_id(port)
        vote_url = f"{article}/contributions/{target}/votes"
        bare_vote = serve(
            Starlette(
                routes=[Route("/vote", lambda _r: RedirectResponse("/", 303), methods=["POST"])]
            ),
            port + 1,
        )
        # Alternate values so that requests change the vote (a write), not repeat it.
        vote: Target = (vote_url, "POST", "value=pour|value=contre", cookie)
        bare_post: Target = (f"http://127.0.0.1:{port + 1}/vote", "POST", "value=pour", "")
        what = "vote POST (alternating values)"
        report(name, what, *side_by_side(vote, bare_post, requests, concurrency))
        article_vote: Target = (f"{article}/votes", "POST", "value=pour|value=contre", cookie)
        what = "article vote POST (alternating)"
        report(name, what, *side_by_side(article_vote, bare_post, requests, concurrency))
        bare_vote.should_exit = True
        time.sleep(0.3)
    finally:
        server.should_exit = True
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average at start {load_average()}")
    print(HEAD.format(*HEADER, *COLUMNS))
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        measure("sqlite", url, 18710, args.requests, args.concurrency)
    postgres = os.environ.get("CONSULT_BENCH_DATABASE_URL")
    if postgres:
        url = normalise_database_url(postgres)
        downgrade(url, "base")
        upgrade(url)
        measure("postgresql", url, 18712, args.requests, args.concurrency)
    else:
        print("postgresql: set CONSULT_BENCH_DATABASE_URL (an empty database) to measure it")


if __name__ == "__main__":
    main()
