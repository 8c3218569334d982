"""A second factor for the accounts that act for a ministry: set up before acting, asked after
the password, each code accepted once, recovery codes for a lost phone, guessing paused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from consult.accounts.models import Role, User
from consult.accounts.two_factor import STEP_SECONDS, code_at
from consult.audit.models import AuditEvent
from tests.support.site import PASSWORD, Clock, Site, make_settings, start_site

OFFICIAL_PAGE = "/consultations/new"


@pytest.fixture
def strict_site(database_url: str, clock: Clock) -> Iterator[Site]:
    """A site where officials, moderators and administrators need a second factor."""
    with start_site(make_settings(database_url, two_factor_for_staff=True), clock) as running:
        yield running


def _code(site: Site, user: User, steps_later: int = 0) -> str:
    secret = site.scalar(select(User.totp_secret).where(User.id == user.id))
    step = int(site.clock().timestamp()) // STEP_SECONDS + steps_later
    return code_at(secret, step)


def _set_up(site: Site, user: User) -> list[str]:
    """Turn the second factor on through the pages; returns the recovery codes shown."""
    assert site.client.post("/account/two-factor/start").status_code == 303
    page = site.client.get("/account/two-factor")
    assert "<svg" in page.text and 'name="code"' in page.text
    shown = site.client.post("/account/two-factor", data={"code": _code(site, user)})
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    return re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", shown.text)


def _password_step(site: Site, user: User, client=None) -> str:  # type: ignore[no-untyped-def]
    """Give the password; returns the token of the code form."""
    http = client or site.client
    answer = http.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert "session" not in answer.cookies
    found = re.search(r'name="token" value="([^"]+)"', answer.text)
    assert found
    return found.group(1)


def test_an_official_sets_up_a_second_factor_before_acting(strict_site: Site) -> None:
    site = strict_site
    official = site.user(Role.OFFICIAL)
    site.login(official)
    sent_away = site.client.get(OFFICIAL_PAGE)
    assert sent_away.status_code == 303
    assert sent_away.headers["location"] == "/account/two-factor?next=%2Fconsultations%2Fnew"
    posted = site.client.post("/consultations", data={"title": "x"})
    assert posted.status_code == 303 and "/account/two-factor" in posted.headers["location"]

    site.client.post("/account/two-factor/start")
    wrong = site.client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    codes = _set_up_after_start(site, official)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert site.client.get(OFFICIAL_PAGE).status_code == 200
    assert site.scalar(select(AuditEvent).where(AuditEvent.action == "account.second_factor_on"))
    # Its role requires it: it cannot be turned off.
    refused = site.client.post("/account/two-factor/off", data={"code": codes[0]})
    assert refused.status_code == 422
    assert site.scalar(select(User.totp_confirmed_at).where(User.id == official.id))


def _set_up_after_start(site: Site, user: User) -> list[str]:
    shown = site.client.post("/account/two-factor", data={"code": _code(site, user)})
    assert shown.status_code == 200
    return re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", shown.text)


def test_logging_in_asks_the_code_after_the_password_and_a_code_works_once(
    strict_site: Site,
) -> None:
    site = strict_site
    official = site.user(Role.OFFICIAL)
    site.login(official)
    _set_up(site, official)
    site.client.post("/account/logout")
    site.clock.advance(seconds=STEP_SECONDS)

    token = _password_step(site, official)
    wrong = site.client.post("/account/login/code", data={"token": token, "code": "123456"})
    assert wrong.status_code == 422 and "session" not in wrong.cookies
    code = _code(site, official)
    right = site.client.post(
        "/account/login/code", data={"token": token, "code": code, "next": OFFICIAL_PAGE}
    )
    assert right.status_code == 303 and right.headers["location"] == OFFICIAL_PAGE
    assert site.client.get(OFFICIAL_PAGE).status_code == 200

    # The same code, seen over a shoulder, does not open a second session.
    with site.anonymously() as onlooker:
        token = _password_step(site, official, onlooker)
        replay = onlooker.post("/account/login/code", data={"token": token, "code": code})
        assert replay.status_code == 422


def test_a_recovery_code_stands_in_for_a_lost_phone_once(strict_site: Site) -> None:
    site = strict_site
    citizen = site.user()
    site.login(citizen)
    codes = _set_up(site, citizen)
    site.client.post("/account/logout")
    token = _password_step(site, citizen)
    used = site.client.post("/account/login/code", data={"token": token, "code": codes[3].upper()})
    assert used.status_code == 303
    assert "9 codes de secours restants" in site.client.get("/account/two-factor").text
    site.client.post("/account/logout")
    token = _password_step(site, citizen)
    again = site.client.post("/account/login/code", data={"token": token, "code": codes[3]})
    assert again.status_code == 422


def test_the_code_step_expires_and_cannot_be_forged(strict_site: Site) -> None:
    site = strict_site
    citizen = site.user()
    site.login(citizen)
    _set_up(site, citizen)
    site.client.post("/account/logout")
    token = _password_step(site, citizen)
    user_id, issued, _signature = token.split(".")
    forged = f"{user_id}.{issued}.{'0' * 40}"
    refused = site.client.post(
        "/account/login/code", data={"token": forged, "code": _code(site, citizen)}
    )
    assert refused.status_code == 422 and "session" not in refused.cookies
    site.clock.advance(minutes=6)
    late = site.client.post(
        "/account/login/code", data={"token": token, "code": _code(site, citizen)}
    )
    assert late.status_code == 422 and "session" not in late.cookies


def test_guessing_codes_pauses_the_account_like_wrong_passwords(strict_site: Site) -> None:
    """Giving the password again does not reset the count: only a right code does."""
    site = strict_site
    citizen = site.user()
    site.login(citizen)
    _set_up(site, citizen)
    site.client.post("/account/logout")
    site.clock.advance(seconds=STEP_SECONDS)
    credentials = {"email": citizen.email, "password": PASSWORD}
    for guess in range(5):
        token = _password_step(site, citizen)
        wrong = site.client.post(
            "/account/login/code", data={"token": token, "code": f"{guess:06d}"}
        )
        assert wrong.status_code == 422
    # Paused now: even the right password and the right code wait.
    paused = site.client.post("/account/login", data=credentials)
    assert paused.status_code == 422 and "suspendues" in paused.text
    site.clock.advance(seconds=31)
    token = _password_step(site, citizen)
    site.clock.advance(seconds=STEP_SECONDS)
    right = site.client.post(
        "/account/login/code", data={"token": token, "code": _code(site, citizen)}
    )
    assert right.status_code == 303


def test_a_citizen_may_turn_the_second_factor_off(strict_site: Site) -> None:
    site = strict_site
    citizen = site.user()
    site.login(citizen)
    _set_up(site, citizen)
    site.clock.advance(seconds=STEP_SECONDS)
    off = site.client.post("/account/two-factor/off", data={"code": _code(site, citizen)})
    assert off.status_code == 303
    assert site.scalar(select(User.totp_secret).where(User.id == citizen.id)) is None
    site.client.post("/account/logout")
    site.login(citizen)  # the password alone again
