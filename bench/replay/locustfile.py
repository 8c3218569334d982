"""The load of `python -m bench.replay`, for Locust (run by it, configured by REPLAY_* variables).

Two kinds of people, as on a consultation's busy days:

- a **participant** takes the next account that has not come yet, logs in, opens the
  consultation, then reads articles one after another (logged in, so never from the page
  cache) and, on each, votes on the article or on the contributions already posted there (with
  htmx, as the page does: only the vote widget comes back), sometimes argues (then reads the
  article again, where htmx sends them), and logs out. Votes and contributions are shared out
  so that, once every account has come, exactly REPLAY_VOTES votes and REPLAY_CONTRIBUTIONS
  contributions were sent;
- an **anonymous reader** reads the consultation, its articles and contributions' own pages.

Locust starts twice REPLAY_USERS people at once; half of them rest except for 15 seconds of
every 45, the bursts (resting between two visits, never in the middle of one). The run ends
when every account has come (or at Locust's --run-time).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from itertools import count
from pathlib import Path
from typing import ClassVar

import gevent
from locust import FastHttpUser, between, events, task
from locust.env import Environment

SLUG = os.environ.get("REPLAY_SLUG", "republique-numerique")
ARTICLES = os.environ.get("REPLAY_ARTICLES", "art-1").split(",")
ACCOUNTS = int(os.environ.get("REPLAY_ACCOUNTS", "100"))
VOTES = int(os.environ.get("REPLAY_VOTES", "700"))
CONTRIBUTIONS = int(os.environ.get("REPLAY_CONTRIBUTIONS", "40"))
PASSWORD = os.environ.get("REPLAY_PASSWORD", "")
USERS = int(os.environ.get("REPLAY_USERS", "20"))
TEXTS = [
    json.loads(line)["body"]
    for line in Path(os.environ.get("REPLAY_TEXTS", "/dev/null")).read_text().splitlines()
]
CONSULTATION = f"/consultations/{SLUG}"
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
VALUES = ("pour", "pour", "mitige", "contre")  # more for than against, as in 2015
STANCES = ("pour", "contre", "contre", "neutre")
POSTED = re.compile(r"[?&]posted=(\d+)")
BURST_EVERY, BURST_SECONDS = 45.0, 15.0
_people = count()
_started = time.monotonic()


def rest_until_burst(number: int) -> None:
    """People past the first REPLAY_USERS come only during the bursts."""
    if number < USERS:
        return
    into = (time.monotonic() - _started) % BURST_EVERY
    if into < BURST_EVERY - BURST_SECONDS:
        gevent.sleep(BURST_EVERY - BURST_SECONDS - into)


class Replay:
    """What the participants share: the accounts still to come, the writes still to send,
    the contributions posted so far (to vote on)."""

    accounts = iter(range(ACCOUNTS))
    texts = count()
    came = 0
    votes_left = VOTES
    contributions_left = CONTRIBUTIONS
    posted: ClassVar[dict[str, list[int]]] = {key: [] for key in ARTICLES}

    @classmethod
    def share(cls, left: int, accounts_left: int) -> int:
        """This visit's part of what is left: the average, give or take, the rest at the end."""
        if accounts_left <= 1:
            return left
        mean = left / accounts_left
        return max(0, min(left, round(random.uniform(0, 2 * mean))))

    @classmethod
    def done(cls) -> bool:
        return cls.came >= ACCOUNTS


def expect(response: object, status: int, header: str | None = None) -> None:
    """Mark the request failed unless it answered `status` (and `header`)."""
    code = response.status_code  # type: ignore[attr-defined]
    if code != status or (header is not None and header not in response.headers):  # type: ignore[attr-defined]
        response.failure(f"{code}, expected {status}")  # type: ignore[attr-defined]
    else:
        response.success()  # type: ignore[attr-defined]


class Participant(FastHttpUser):
    """A citizen who logs in, reads, votes and sometimes argues."""

    weight = 3
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.person = next(_people)

    @task
    def visit(self) -> None:
        rest_until_burst(self.person)
        number = next(Replay.accounts, None)
        if number is None:
            gevent.sleep(1)  # everybody has come: wait for the end of the run
            return
        accounts_left = ACCOUNTS - number
        votes = Replay.share(Replay.votes_left, accounts_left)
        writes = Replay.share(Replay.contributions_left, accounts_left)
        Replay.votes_left -= votes
        Replay.contributions_left -= writes
        try:
            self.take_part(number, votes, writes)
        finally:
            Replay.came += 1

    def take_part(self, number: int, votes: int, writes: int) -> None:
        login = {"email": f"citoyen-{number}@replay.consult.test", "password": PASSWORD}
        with self.client.post(
            "/account/login",
            data=login,
            name="POST /account/login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            expect(response, 303)
        self.get(CONSULTATION, "GET /consultations/{slug} (logged in)")
        self.voted: set[str] = set()  # the articles this account voted on
        articles = random.sample(ARTICLES, k=min(len(ARTICLES), random.randint(2, 5)))
        for index, key in enumerate(articles):
            article = f"{CONSULTATION}/articles/{key}"
            self.get(article, "GET /consultations/{slug}/articles/{key} (logged in)")
            self.wait()
            mine = votes // len(articles) + (index < votes % len(articles))
            self.vote(key, mine)
            for _ in range(writes // len(articles) + (index < writes % len(articles))):
                self.argue(key)
        with self.client.post(
            "/account/logout",
            name="POST /account/logout",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            expect(response, 303)

    def get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            expect(response, 200)

    def vote(self, key: str, votes: int) -> None:
        """`votes` votes on the article and its contributions, each on a different one."""
        article = f"{CONSULTATION}/articles/{key}"
        targets: list[int | None] = [None, *Replay.posted[key]]
        for target in random.sample(targets, k=min(votes, len(targets))):
            if target is None:
                if key in self.voted:
                    continue
                self.voted.add(key)
                path, name = f"{article}/votes", "POST …/articles/{key}/votes"
            else:
                path = f"{article}/contributions/{target}/votes"
                name = "POST …/contributions/{id}/votes"
            data = {"value": random.choice(VALUES)}
            with self.client.post(
                path, data=data, headers=HTMX, name=name, catch_response=True
            ) as response:
                expect(response, 200)
            self.wait()
        # More votes than things to vote on (the very first visits): the rest on other articles.
        others = [other for other in ARTICLES if other not in self.voted]
        for other in random.sample(others, k=min(len(others), max(0, votes - len(targets)))):
            self.voted.add(other)
            with self.client.post(
                f"{CONSULTATION}/articles/{other}/votes",
                data={"value": random.choice(VALUES)},
                headers=HTMX,
                name="POST …/articles/{key}/votes",
                catch_response=True,
            ) as response:
                expect(response, 200)

    def argue(self, key: str) -> None:
        article = f"{CONSULTATION}/articles/{key}"
        body = TEXTS[next(Replay.texts) % len(TEXTS)]
        with self.client.post(
            f"{article}/arguments",
            data={"stance": random.choice(STANCES), "body": body},
            headers=HTMX,
            name="POST …/articles/{key}/arguments",
            catch_response=True,
        ) as response:
            expect(response, 200, "HX-Redirect")
            target = response.headers.get("HX-Redirect", "")
        found = POSTED.search(target)
        if found:
            Replay.posted[key].append(int(found[1]))
            # htmx goes to the article, newest first, where the new argument is on top.
            self.get(target.split("#")[0], "GET /consultations/{slug}/articles/{key} (logged in)")


class Reader(FastHttpUser):
    """Somebody reading without an account."""

    weight = 1
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.person = next(_people)

    @task(2)
    def consultation(self) -> None:
        rest_until_burst(self.person)
        self.get(CONSULTATION, "GET /consultations/{slug} (anonymous)")

    @task(6)
    def article(self) -> None:
        key = random.choice(ARTICLES)
        self.get(
            f"{CONSULTATION}/articles/{key}", "GET /consultations/{slug}/articles/{key} (anonymous)"
        )

    @task(1)
    def contribution(self) -> None:
        posted = [i for ids in Replay.posted.values() for i in ids]
        if posted:
            self.get(
                f"{CONSULTATION}/contributions/{random.choice(posted)}",
                "GET /consultations/{slug}/contributions/{id} (anonymous)",
            )

    def get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as response:
            expect(response, 200)


@events.test_start.add_listener
def _watch(environment: Environment, **_: object) -> None:
    """Stop the run as soon as every account has come (the shape only stops spawning)."""

    def watch() -> None:
        while not Replay.done():
            gevent.sleep(0.25)
        runner = environment.runner
        if runner is not None:
            runner.quit()

    gevent.spawn(watch)
