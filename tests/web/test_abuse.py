"""Abuse held off: logins paused after wrong passwords from any number of machines, forms filled
in a person's time and accepted once, posting limits per account over every article."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import anyio
import httpx2
import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.accounts.services import create_user
from consult.contributions.models import Contribution
from consult.jobs import InProcessQueue, send_notifications
from consult.notifications.models import AccountNotice
from consult.protection.logins import FREE_ATTEMPTS
from consult.protection.models import LoginFailure
from consult.web.services import services_of_app
from tests.support.mail import MailServer, mail_server
from tests.support.seeding import LIBRARY_SLUG
from tests.support.site import (
    PASSWORD,
    Clock,
    Site,
    browser,
    make_settings,
    serving,
    start_site,
)

ARTICLES = f"/consultations/{LIBRARY_SLUG}/articles"
OWNER = "camille@example.org"
PAUSED = "les connexions y sont suspendues"  # pages are in French unless asked otherwise


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


def _token(page: str) -> str:
    found = re.search(r'name="form_started" value="([^"]+)"', page)
    assert found, "the form carries its token"
    return found.group(1)


# --- logins --------------------------------------------------------------------------------


@pytest.mark.each_database
@pytest.mark.anyio
async def test_wrong_passwords_from_many_machines_pause_the_account_and_warn_its_owner(
    library_url: str, mail: MailServer
) -> None:
    clock = Clock()
    settings = make_settings(library_url, smtp_host="127.0.0.1", smtp_port=mail.port)
    async with serving(settings, clock) as app:
        factory = services_of_app(app).session_factory
        async with factory() as session:
            await create_user(session, OWNER, "Camille", PASSWORD, Role.CITIZEN)
            await session.commit()
        # 135 wrong passwords from 15 addresses, nine each, all at once.
        machines = [await browser(app, address=f"203.0.113.{n}") for n in range(1, 16)]
        answers: Counter[str] = Counter()

        async def guess(http: httpx2.AsyncClient, attempt: int) -> None:
            data = {"email": OWNER, "password": f"guess number {attempt}"}
            response = await http.post("/account/login", data=data)
            assert response.status_code == 422
            answers["paused" if PAUSED in response.text else "wrong"] += 1

        async with anyio.create_task_group() as guessing:
            for attempt in range(9):
                for http in machines:
                    guessing.start_soon(guess, http, attempt)
        # The fifth wrong password is the first answered with the pause.
        assert answers["wrong"] >= FREE_ATTEMPTS - 1 and answers["paused"] > 0
        assert answers["wrong"] + answers["paused"] == 135

        # The right password, from yet another machine, waits for the pause to end.
        owner = await browser(app, address="198.51.100.7")
        right = {"email": OWNER, "password": PASSWORD}
        paused = await owner.post("/account/login", data=right)
        assert paused.status_code == 422 and PAUSED in paused.text
        assert "session" not in paused.cookies

        # Its owner is told, once, in their language (the login queued the email; the periodic
        # job finds nothing more to send).
        jobs = services_of_app(app).started.jobs
        assert isinstance(jobs, InProcessQueue)
        await jobs.drain()
        await jobs.enqueue(send_notifications, job_id="periodic")
        await jobs.drain()
        [warning] = mail.inbox.messages
        assert warning["To"].endswith(f"<{OWNER}>")
        assert warning["Subject"] == "Connexions à votre compte suspendues"
        assert "/account/password" in warning.get_content()
        async with factory() as session:
            assert await session.scalar(select(func.count()).select_from(AccountNotice)) == 1

        clock.advance(hours=1, seconds=1)  # the longest pause
        welcome = await owner.post("/account/login", data=right)
        assert welcome.status_code == 303
        async with factory() as session:  # the count starts again from nothing
            assert await session.scalar(select(func.count()).select_from(LoginFailure)) == 0
        for http in [*machines, owner]:
            await http.aclose()


def test_an_unknown_address_pauses_like_an_account_and_nobody_is_written_to(site: Site) -> None:
    """A pause tells nothing about whether an account exists."""
    for attempt in range(6):
        response = site.client.post(
            "/account/login", data={"email": "nobody@example.org", "password": f"x{attempt}"}
        )
        assert response.status_code == 422
    assert PAUSED in response.text
    assert site.scalar(select(func.count()).select_from(AccountNotice)) == 0
    # Another address is not affected.
    citizen = site.user()
    site.login(citizen)


def test_wrong_passwords_long_ago_are_forgotten(site: Site) -> None:
    citizen = site.user(email=OWNER)
    for attempt in range(4):
        site.client.post("/account/login", data={"email": OWNER, "password": f"x{attempt}"})
    site.clock.advance(days=1, seconds=1)
    site.client.post("/account/login", data={"email": OWNER, "password": "one typo today"})
    site.login(citizen)  # one failure today: not paused


# --- forms filled by people, once ------------------------------------------------------------


@pytest.fixture
def careful_site(library_url: str) -> Iterator[Site]:
    """The library site with the checks of people's forms on: two seconds to fill a form."""
    with start_site(make_settings(library_url, form_min_seconds=2), Clock()) as running:
        yield running


def test_login_and_registration_sent_too_fast_are_refused_then_accepted(
    careful_site: Site,
) -> None:
    site = careful_site
    site.user(email=OWNER)
    token = _token(site.client.get("/account/login").text)
    credentials = {"email": OWNER, "password": PASSWORD, "form_started": token}
    hasty = site.client.post("/account/login", data=credentials)
    assert hasty.status_code == 422
    assert "Patientez quelques secondes" in hasty.text
    assert OWNER in hasty.text  # what was typed is kept
    site.clock.advance(seconds=3)
    assert site.client.post("/account/login", data=credentials).status_code == 303
    site.client.post("/account/logout")

    token = _token(site.client.get("/account/register").text)
    account = {
        "email": "new@example.org",
        "display_name": "Nouvelle",
        "password": "a long enough password",
        "form_started": token,
        "accept_terms": "1",
    }
    assert site.client.post("/account/register", data=account).status_code == 422
    site.clock.advance(seconds=3)
    assert site.client.post("/account/register", data=account).status_code == 303


def test_a_form_without_a_token_of_ours_is_refused(careful_site: Site) -> None:
    site = careful_site
    site.user(email=OWNER)
    for token in ("", "1.2.3", "1700000000.0123456789abcdef.forged"):
        data = {"email": OWNER, "password": PASSWORD, "form_started": token}
        assert site.client.post("/account/login", data=data).status_code == 422


@pytest.mark.each_database
@pytest.mark.anyio
async def test_a_form_is_accepted_once_however_often_it_is_sent(library_url: str) -> None:
    clock = Clock()
    async with serving(make_settings(library_url, form_min_seconds=2), clock) as app:
        factory = services_of_app(app).session_factory
        async with factory() as session:
            await create_user(session, OWNER, "Camille", PASSWORD, Role.CITIZEN)
            await session.commit()
        http = await browser(app)
        page = await http.get("/account/login")
        clock.advance(seconds=3)
        login = {"email": OWNER, "password": PASSWORD, "form_started": _token(page.text)}
        assert (await http.post("/account/login", data=login)).status_code == 303
        article = await http.get(f"{ARTICLES}/art-1")
        clock.advance(seconds=30)
        argument = {
            "stance": "pour",
            "body": "Ouvrir le dimanche.",
            "form_started": _token(article.text),
        }
        answers: list[int] = []

        async def send() -> None:
            answers.append(
                (await http.post(f"{ARTICLES}/art-1/arguments", data=argument)).status_code
            )

        async with anyio.create_task_group() as replays:
            for _ in range(10):
                replays.start_soon(send)
        again = await http.post(f"{ARTICLES}/art-1/arguments", data=argument)
        await http.aclose()
        async with factory() as session:
            saved = await session.scalar(select(func.count()).select_from(Contribution))
    assert sorted(answers) == [303] + [422] * 9
    assert again.status_code == 422 and "Ouvrir le dimanche." in again.text
    assert saved == 1


# --- posting limits --------------------------------------------------------------------------


def test_posting_limits_hold_per_account_over_every_article(library_url: str) -> None:
    settings = make_settings(library_url, rate_limit_contribute="5/minute")
    with start_site(settings, Clock()) as site:
        site.login(site.user())
        answers = [
            site.client.post(
                f"{ARTICLES}/art-{1 + n % 2}/arguments",
                data={"stance": "pour", "body": f"Argument {n}."},
            ).status_code
            for n in range(8)
        ]
        assert answers == [303] * 5 + [429] * 3
        # Someone else, from the same address, on an article where it was not over its limit.
        site.client.post("/account/logout")
        site.login(site.user())
        other = site.client.post(
            f"{ARTICLES}/art-2/arguments", data={"stance": "pour", "body": "À moi."}
        )
        assert other.status_code == 303
