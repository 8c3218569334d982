"""Accounts over HTTP: register, log in, log out, change password, sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role, User, UserSession
from tests.support.site import PASSWORD, Clock, Site, htmx_headers, make_settings, start_site


def count_sessions(site: Site) -> int:
    return int(site.scalar(select(func.count()).select_from(UserSession)))


@pytest.mark.each_database
def test_register_log_out_and_log_in_again(site: Site) -> None:
    page = site.client.get("/account/register")
    assert page.status_code == 200
    assert 'name="email"' in page.text

    registered = site.client.post(
        "/account/register",
        data={
            "email": "Alice@Example.org ",
            "display_name": "Alice",
            "password": PASSWORD,
            "accept_terms": "1",
        },
    )
    assert registered.status_code == 303
    home = site.client.get("/")
    assert "My account" in home.text or "Mon compte" in home.text

    logged_out = site.client.post("/account/logout")
    assert logged_out.status_code == 303
    assert count_sessions(site) == 0
    assert site.client.get("/account").status_code == 303  # back to the login form

    logged_in = site.client.post(
        "/account/login", data={"email": "alice@example.org", "password": PASSWORD}
    )
    assert logged_in.status_code == 303
    profile = site.client.get("/account")
    assert profile.status_code == 200
    assert "alice@example.org" in profile.text


def test_register_errors_keep_what_was_typed(site: Site) -> None:
    site.user(email="taken@example.org")
    response = site.client.post(
        "/account/register",
        data={
            "email": "taken@example.org",
            "display_name": "Bob <b>",
            "password": "short",
            "accept_terms": "1",
        },
    )
    assert response.status_code == 422
    assert 'value="taken@example.org"' in response.text
    assert "Bob &lt;b&gt;" in response.text  # kept, and escaped
    assert response.text.count('aria-invalid="true"') == 2  # email taken, password too short
    assert site.scalar(select(func.count()).select_from(User)) == 1


def test_register_as_htmx_returns_the_form_fragment_then_redirects(site: Site) -> None:
    bad = site.client.post(
        "/account/register",
        data={"email": "nope", "display_name": "", "password": PASSWORD, "accept_terms": "1"},
        headers=htmx_headers(),
    )
    assert bad.status_code == 422
    assert bad.text.lstrip().startswith('<form id="register_form"')
    assert "<html" not in bad.text

    good = site.client.post(
        "/account/register",
        data={
            "email": "carol@example.org",
            "display_name": "Carol",
            "password": PASSWORD,
            "accept_terms": "1",
        },
        headers=htmx_headers(),
    )
    assert good.status_code == 200
    assert good.headers["HX-Redirect"] == "/?welcome=1"


def test_honeypot_rejects_robots(site: Site) -> None:
    response = site.client.post(
        "/account/register",
        data={
            "email": "robot@example.org",
            "display_name": "Robot",
            "password": PASSWORD,
            "website": "http://spam.example",
            "accept_terms": "1",
        },
    )
    assert response.status_code == 422
    assert site.scalar(select(func.count()).select_from(User)) == 0


def test_wrong_password_is_refused_without_saying_which_part_is_wrong(site: Site) -> None:
    user = site.user()
    wrong = site.client.post("/account/login", data={"email": user.email, "password": "nope" * 4})
    unknown = site.client.post(
        "/account/login", data={"email": "ghost@example.org", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 422
    assert wrong.text.count('role="alert"') == 1
    assert count_sessions(site) == 0


def test_login_goes_back_to_the_page_asked_for_but_never_off_site(site: Site) -> None:
    official = site.user(Role.OFFICIAL)
    asked = site.client.get("/consultations/new")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/account/login?next=%2Fconsultations%2Fnew"
    response = site.client.post(
        "/account/login",
        data={"email": official.email, "password": PASSWORD, "next": "/consultations/new"},
    )
    assert response.headers["location"] == "/consultations/new"

    site.client.post("/account/logout")
    for evil in (
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        response = site.client.post(
            "/account/login", data={"email": official.email, "password": PASSWORD, "next": evil}
        )
        assert response.headers["location"] == "/", evil
        site.client.post("/account/logout")


@pytest.mark.each_database
def test_login_rotates_the_session_and_logout_kills_it(site: Site) -> None:
    user = site.user()
    site.login(user)
    first = site.client.cookies.get("consult_session")
    site.login(user)
    second = site.client.cookies.get("consult_session")
    assert first and second and first != second
    assert count_sessions(site) == 1  # the old session was ended, not kept

    site.client.cookies.clear()
    site.client.cookies.set("consult_session", first)
    assert site.client.get("/account").status_code == 303


@pytest.mark.each_database
def test_password_change_logs_out_everywhere_else(site: Site) -> None:
    user = site.user()
    site.login(user)
    other_device_token = site.client.cookies["consult_session"]
    site.client.cookies.clear()
    site.login(user)
    bad = site.client.post(
        "/account/password", data={"current_password": "wrong", "new_password": "x"}
    )
    assert bad.status_code == 422
    assert 'id="error-current_password"' in bad.text
    assert 'id="error-new_password"' in bad.text

    changed = site.client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 303
    assert site.client.get("/account").status_code == 200  # this device stays logged in
    this_device_token = site.client.cookies["consult_session"]
    site.client.cookies.clear()
    site.client.cookies.set("consult_session", other_device_token)
    assert site.client.get("/account").status_code == 303  # the other one is logged out
    site.client.cookies.clear()
    site.client.cookies.set("consult_session", this_device_token)
    site.client.post("/account/logout")
    old = site.client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    assert old.status_code == 422
    new = site.client.post(
        "/account/login", data={"email": user.email, "password": "a brand new passphrase"}
    )
    assert new.status_code == 303


@pytest.mark.each_database
def test_sessions_expire_when_idle_and_at_their_absolute_limit(site: Site) -> None:
    user = site.user()
    site.login(user)
    settings = site.settings
    # Active use keeps the session alive past the idle limit...
    for _ in range(3):
        site.clock.advance(minutes=settings.session_idle_minutes - 10)
        assert site.client.get("/account").status_code == 200
    # ...but not past the absolute limit.
    site.clock.advance(days=settings.session_absolute_days)
    assert site.client.get("/account").status_code == 303
    assert count_sessions(site) == 0

    site.login(user)
    site.clock.advance(minutes=settings.session_idle_minutes + 1)
    assert site.client.get("/account").status_code == 303


def test_cookie_attributes_over_https(database_url: str, clock: Clock) -> None:
    settings = make_settings(database_url, base_url="https://consult.example")
    with start_site(settings, clock) as site:
        user = site.user()
        response = site.client.post(
            "/account/login", data={"email": user.email, "password": PASSWORD}
        )
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-consult_session=")
        for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
            assert attribute.lower() in cookie.lower()
        assert "domain=" not in cookie.lower()
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_cookie_attributes_on_a_local_http_site(site: Site) -> None:
    user = site.user()
    response = site.client.post("/account/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("consult_session=")
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_login_is_rate_limited(database_url: str, clock: Clock) -> None:
    with start_site(make_settings(database_url, rate_limit_login="3/minute"), clock) as site:
        for _ in range(3):
            response = site.client.post(
                "/account/login", data={"email": "x@example.org", "password": "whatever-long"}
            )
            assert response.status_code == 422
        limited = site.client.post(
            "/account/login", data={"email": "x@example.org", "password": "whatever-long"}
        )
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert site.client.get("/account/login").status_code == 200  # reading stays possible


def test_registering_asks_to_accept_the_terms_and_says_what_is_kept(site: Site) -> None:
    form = site.client.get("/account/register")
    assert 'href="/legal/privacy"' in form.text and 'name="accept_terms"' in form.text
    refused = site.client.post(
        "/account/register",
        data={"email": "dana@example.org", "display_name": "Dana", "password": PASSWORD},
    )
    assert refused.status_code == 422
    assert 'id="error-accept_terms"' in refused.text
    assert 'value="dana@example.org"' in refused.text
    assert site.scalar(select(func.count()).select_from(User)) == 0
