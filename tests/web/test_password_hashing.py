"""Passwords are hashed as RFC 9106 recommends unless the site asks for OWASP's lighter
minimum or a test suite says otherwise, and an account hashed with other parameters is hashed
again, as the site now does, at its next login."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from consult.accounts import passwords
from consult.accounts.models import User
from consult.accounts.passwords import LIGHTER_PROFILE, STANDARD_PROFILE, TESTS_ONLY_PROFILE
from tests.support.site import PASSWORD, Clock, Site, make_settings, start_site

RFC_9106_PARAMETERS = "$argon2id$v=19$m=65536,t=3,p=4$"
OWASP_PARAMETERS = "$argon2id$v=19$m=19456,t=2,p=1$"
TESTS_ONLY_PARAMETERS = "$argon2id$v=19$m=1024,t=1,p=1$"


@pytest.fixture
def standard_hashing() -> Iterator[None]:
    """The process back on the tests' profile afterwards, whatever the test did."""
    yield
    passwords.use_profile(TESTS_ONLY_PROFILE)


def _hash_of(site: Site, email: str) -> str:
    (user,) = [row for (row,) in site.rows(select(User).where(User.email == email))]
    assert user.password_hash is not None
    return user.password_hash


@pytest.mark.parametrize(
    ("profile", "parameters"),
    [(STANDARD_PROFILE, RFC_9106_PARAMETERS), (LIGHTER_PROFILE, OWASP_PARAMETERS)],
)
def test_an_account_hashed_otherwise_is_hashed_with_the_site_s_profile_at_its_next_login(
    site: Site,
    database_url: str,
    clock: Clock,
    standard_hashing: None,
    profile: str,
    parameters: str,
) -> None:
    citizen = site.user()
    assert citizen.email and _hash_of(site, citizen.email).startswith(TESTS_ONLY_PARAMETERS)
    settings = make_settings(database_url, password_hashing=profile)
    with start_site(settings, clock) as production:
        production.login(citizen)
        assert _hash_of(production, citizen.email).startswith(parameters)
        # The new hash holds the same password: a second login still works.
        production.client.cookies.clear()
        production.login(citizen)
        registered = production.client.post(
            "/account/register",
            data={
                "email": "nouvelle@example.org",
                "display_name": "Nouvelle",
                "password": PASSWORD,
                "accept_terms": "1",
            },
        )
        assert registered.status_code == 303, registered.text
        assert _hash_of(production, "nouvelle@example.org").startswith(parameters)


def test_using_the_tests_only_profile_is_logged_as_a_warning(
    caplog: pytest.LogCaptureFixture, standard_hashing: None
) -> None:
    passwords.use_profile(STANDARD_PROFILE)
    with caplog.at_level(logging.WARNING, logger="consult.accounts.passwords"):
        passwords.use_profile(TESTS_ONLY_PROFILE)
    assert "for test suites only" in caplog.text
    with pytest.raises(ValueError):
        passwords.use_profile("md5")
