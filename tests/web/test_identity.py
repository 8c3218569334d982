"""Signing in with an identity provider: a real OpenID Connect provider runs on loopback, the
site discovers it, sends the person there, checks the signed ID token and keeps only what it
needs."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import oidc_provider_mock
import pytest
from sqlalchemy import func, select

from consult.accounts.models import IdentityLink, User, VerificationLevel
from consult.accounts.two_factor import STEP_SECONDS, code_at
from tests.support.site import Clock, Site, make_settings, start_site


@pytest.fixture
def provider() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        issuer = f"http://localhost:{server.server_port}"
        claims = {
            "given_name": "Marie",
            "family_name": "Curie",
            "email": "marie@example.org",
            "email_verified": True,
        }
        assert httpx.put(f"{issuer}/users/{quote('marie')}", json=claims).status_code == 204
        yield issuer


@pytest.fixture
def identity_site(database_url: str, clock: Clock, provider: str) -> Iterator[Site]:
    settings = make_settings(
        database_url,
        oidc_issuer=provider,
        oidc_client_id="consult-tests",
        oidc_client_secret="a client secret",
        oidc_provider_name="FranceConnect",
    )
    with start_site(settings, clock) as running:
        yield running


def _through_the_provider(site: Site, subject: str = "marie", next_url: str = "") -> str:
    """Start the sign-in, authorize at the provider as `subject`; the callback address."""
    start = site.client.get(
        f"/account/identity/start?next={next_url}" if next_url else "/account/identity/start"
    )
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"]
    answer = httpx.post(authorize, data={"sub": subject})
    assert answer.status_code == 302, answer.text
    callback = answer.headers["location"]
    assert callback.startswith("http://testserver/account/identity/callback?")
    return callback.removeprefix("http://testserver")


def test_a_person_creates_an_account_with_a_verified_identity(identity_site: Site) -> None:
    site = identity_site
    assert "Se connecter avec FranceConnect" in site.client.get("/account/login").text
    confirm = site.client.get(_through_the_provider(site, next_url="/account"))
    assert confirm.status_code == 200, confirm.text
    assert "Marie C." in confirm.text and "marie@example.org" in confirm.text
    refused = site.client.post("/account/identity", data={"next": "/account"})
    assert refused.status_code == 422 and 'id="error-accept_terms"' in refused.text
    signed = site.client.post("/account/identity", data={"next": "/account", "accept_terms": "1"})
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    account = site.client.get("/account")
    assert account.status_code == 200 and "Marie C." in account.text
    user = site.scalar(select(User).where(User.email == "marie@example.org"))
    assert user.verification_level == VerificationLevel.IDENTITY
    assert user.password_hash is None
    link = site.scalar(select(IdentityLink).where(IdentityLink.user_id == user.id))
    assert link.subject == "marie" and link.issuer.startswith("http://localhost:")

    # Next time, the same identity logs in to the same account.
    site.client.post("/account/logout")
    again = site.client.get(_through_the_provider(site))
    assert "Marie C." in again.text and 'name="accept_terms"' not in again.text
    assert site.client.post("/account/identity").status_code == 303
    assert site.client.get("/account").status_code == 200
    assert site.scalar(select(func.count()).select_from(IdentityLink)) == 1


def test_a_citizen_adds_a_verified_identity_to_their_account(identity_site: Site) -> None:
    site = identity_site
    citizen = site.user()
    site.login(citizen)
    confirm = site.client.get(_through_the_provider(site, next_url="/account"))
    assert confirm.status_code == 200
    assert site.client.post("/account/identity", data={"next": "/account"}).status_code == 303
    verified = site.scalar(select(User).where(User.id == citizen.id))
    assert verified.verification_level == VerificationLevel.IDENTITY
    assert verified.email == citizen.email  # the provider's address does not replace it


def test_an_answer_that_was_not_asked_for_is_refused(identity_site: Site) -> None:
    site = identity_site
    callback = _through_the_provider(site)
    forged = callback.replace("state=", "state=x")
    refused = site.client.get(forged)
    assert refused.status_code == 400
    assert site.client.post("/account/identity", data={"accept_terms": "1"}).status_code == 400
    # A browser that never started a sign-in cannot use someone else's answer either.
    with site.anonymously() as stranger:
        assert stranger.get(callback).status_code == 400
    assert site.scalar(select(func.count()).select_from(IdentityLink)) == 0


def test_without_a_provider_the_sign_in_is_not_offered(site: Site) -> None:
    assert "FranceConnect" not in site.client.get("/account/login").text
    assert site.client.get("/account/identity/start").status_code == 404


def test_a_provider_out_of_reach_is_said_so(database_url: str, clock: Clock) -> None:
    settings = make_settings(
        database_url, oidc_issuer="http://127.0.0.1:9", oidc_client_id="consult-tests"
    )
    with start_site(settings, clock) as site:
        answer = site.client.get("/account/identity/start")
        assert answer.status_code == 502 and "FranceConnect" in answer.text


def test_an_identity_does_not_skip_the_second_factor(identity_site: Site) -> None:
    """The provider stands for the password: an account with a second factor still asks the
    code after signing in with an identity."""
    site = identity_site
    citizen = site.user()
    site.login(citizen)
    site.client.get(_through_the_provider(site))
    assert site.client.post("/account/identity").status_code == 303  # linked to the account
    site.client.post("/account/two-factor/start")
    secret = site.scalar(select(User.totp_secret).where(User.id == citizen.id))
    step = int(site.clock().timestamp()) // STEP_SECONDS
    assert site.client.post("/account/two-factor", data={"code": code_at(secret, step)})
    site.client.post("/account/logout")

    site.client.get(_through_the_provider(site))
    asked = site.client.post("/account/identity")
    assert asked.status_code == 200 and 'name="token"' in asked.text
    assert "session" not in asked.cookies
    assert site.client.get("/account", follow_redirects=False).status_code == 303
