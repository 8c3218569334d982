"""Accounts people can recover: a password chosen again from a link, addresses confirmed by a
link, and registration that never tells whether an address already has an account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from consult.accounts.models import User, VerificationLevel
from consult.jobs import purge_sessions, send_notifications
from tests.support.mail import MailServer, mail_server
from tests.support.seeding import LIBRARY_SLUG
from tests.support.site import PASSWORD, Clock, Site, make_settings, start_site

OWNER = "camille@example.org"
NEW_PASSWORD = "a brand new passphrase"
ARTICLE = f"/consultations/{LIBRARY_SLUG}/articles/art-1"
LINK = re.compile(r"http://testserver(/account/(?:reset|confirm)/\d+/[0-9a-f]+)")


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


@pytest.fixture
def mailing_site(library_url: str, clock: Clock, mail: MailServer) -> Iterator[Site]:
    """The library consultation on a site that sends email to the test SMTP server."""
    settings = make_settings(library_url, smtp_host="127.0.0.1", smtp_port=mail.port)
    with start_site(settings, clock) as running:
        yield running


def _delivered(site: Site, mail: MailServer) -> list[EmailMessage]:
    """Run the sending job and return every message the server received so far."""
    site.drain_jobs()
    site.enqueue_job(send_notifications)
    site.drain_jobs()
    return mail.inbox.messages


def _link_in(message: EmailMessage) -> str:
    found = LINK.search(message.get_content())
    assert found, message.get_content()
    return found.group(1)


def _user(site: Site, email: str) -> User | None:
    found: User | None = site.scalar(select(User).where(User.email == email))
    return found


# --- choosing a new password -----------------------------------------------------------------


@pytest.mark.each_database
def test_a_forgotten_password_is_chosen_again_from_a_link_that_works_once(
    mailing_site: Site, mail: MailServer
) -> None:
    site = mailing_site
    owner = site.user(email=OWNER)
    elsewhere = site.login(owner)  # a session on another machine, ended by the reset
    assert elsewhere.get("/account").status_code == 200

    with site.anonymously() as visitor:
        asked = visitor.post("/account/forgot", data={"email": OWNER})
        assert asked.status_code == 200
        [message] = _delivered(site, mail)
        assert message["To"].endswith(f"<{OWNER}>")
        link = _link_in(message)

        assert visitor.get(link).status_code == 200
        weak = visitor.post(link, data={"new_password": "short"})
        assert weak.status_code == 422 and 'id="field-new_password"' in weak.text
        chosen = visitor.post(link, data={"new_password": NEW_PASSWORD}, follow_redirects=False)
        assert chosen.status_code == 303
        assert chosen.headers["location"].startswith("/account/login")

        # Once only.
        assert visitor.get(link).status_code == 410
        assert (
            visitor.post(link, data={"new_password": "yet another passphrase"}).status_code == 410
        )

        old = visitor.post("/account/login", data={"email": OWNER, "password": PASSWORD})
        assert old.status_code == 422
        new = visitor.post(
            "/account/login",
            data={"email": OWNER, "password": NEW_PASSWORD},
            follow_redirects=False,
        )
        assert new.status_code == 303
    # Every session open before the reset has ended.
    assert elsewhere.get("/account", follow_redirects=False).status_code in (302, 303)


def test_asking_for_a_reset_says_the_same_whether_the_address_has_an_account(
    mailing_site: Site, mail: MailServer
) -> None:
    site = mailing_site
    site.user(email=OWNER)
    with site.anonymously() as visitor:
        known = visitor.post("/account/forgot", data={"email": OWNER})
        unknown = visitor.post("/account/forgot", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert _main(known.text).replace(OWNER, "X") == _main(unknown.text).replace(
        "nobody@example.org", "X"
    )
    _delivered(site, mail)
    assert mail.inbox.recipients == [[OWNER]]


def test_a_reset_link_lasts_an_hour_and_cannot_be_forged(
    mailing_site: Site, mail: MailServer
) -> None:
    site = mailing_site
    site.user(email=OWNER)
    with site.anonymously() as visitor:
        visitor.post("/account/forgot", data={"email": OWNER})
        link = _link_in(_delivered(site, mail)[0])
        link_id = link.split("/")[3]
        forged = f"/account/reset/{link_id}/{'0' * 40}"
        assert visitor.get(forged).status_code == 410
        assert visitor.get(f"/account/reset/{link_id}/%C3%A9%00").status_code in (404, 410)
        assert visitor.get("/account/reset/99999999999999/abc").status_code in (404, 410)
        site.clock.advance(hours=1, seconds=1)
        assert visitor.get(link).status_code == 410
        refused = visitor.post(link, data={"new_password": NEW_PASSWORD})
        assert refused.status_code == 410
    owner = _user(site, OWNER)
    assert owner is not None
    site.login(owner)  # the password did not change


def test_links_to_one_account_are_limited_per_hour(mailing_site: Site, mail: MailServer) -> None:
    site = mailing_site
    site.user(email=OWNER)
    with site.anonymously() as visitor:
        for _attempt in range(6):
            assert visitor.post("/account/forgot", data={"email": OWNER}).status_code == 200
    assert len(_delivered(site, mail)) == 3


def test_without_email_the_page_says_to_ask_the_administrators(site: Site) -> None:
    page = site.client.get("/account/forgot")
    assert page.status_code == 200
    assert "administrat" in page.text
    assert 'name="email"' not in page.text


# --- registering and confirming an address -----------------------------------------------------


def test_registration_with_a_known_address_looks_the_same_and_tells_its_owner(
    mailing_site: Site, mail: MailServer
) -> None:
    site = mailing_site
    site.user(email=OWNER)
    accounts = site.scalar(select(func.count()).select_from(User))
    with site.anonymously() as visitor:
        new = visitor.post(
            "/account/register",
            data={
                "email": "dominique@example.org",
                "display_name": "Dominique",
                "password": PASSWORD,
                "accept_terms": "1",
            },
        )
    with site.anonymously() as visitor:
        known = visitor.post(
            "/account/register",
            data={
                "email": OWNER,
                "display_name": "Intrus",
                "password": "another long password",
                "accept_terms": "1",
            },
        )
        assert "session" not in known.cookies
    assert new.status_code == known.status_code == 200
    assert _main(new.text).replace("dominique@example.org", "X") == _main(known.text).replace(
        OWNER, "X"
    )
    by_recipient = {m["To"].split("<")[1].rstrip(">"): m for m in _delivered(site, mail)}
    assert set(by_recipient) == {OWNER, "dominique@example.org"}
    told = by_recipient[OWNER].get_content()
    assert "/account/forgot" in told and not LINK.search(told)
    assert LINK.search(by_recipient["dominique@example.org"].get_content())
    # The owner's account is as it was.
    owner = _user(site, OWNER)
    assert owner is not None and owner.display_name != "Intrus"
    assert site.scalar(select(func.count()).select_from(User)) == accounts + 1


def test_a_registration_is_used_once_its_address_is_confirmed_with_its_password(
    mailing_site: Site, mail: MailServer
) -> None:
    site = mailing_site
    email = "dominique@example.org"
    with site.anonymously() as visitor:
        form = visitor.get(f"/account/register?next={ARTICLE}")
        assert form.status_code == 200
        registered = visitor.post(
            "/account/register",
            data={
                "email": email,
                "display_name": "Dominique",
                "password": PASSWORD,
                "next": ARTICLE,
                "accept_terms": "1",
            },
        )
        assert registered.status_code == 200 and email in registered.text
        assert "session" not in registered.cookies

        # Not before the address is confirmed: a fresh link goes out instead.
        early = visitor.post("/account/login", data={"email": email, "password": PASSWORD})
        assert early.status_code == 422 and "session" not in early.cookies
        first, second = _delivered(site, mail)
        assert _link_in(second) != _link_in(first)
        link = _link_in(first)  # the one that knows where the person registered

        page = visitor.get(link)
        assert page.status_code == 200 and 'name="password"' in page.text
        wrong = visitor.post(link, data={"password": "not the one chosen"})
        assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
        done = visitor.post(link, data={"password": PASSWORD}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == f"{ARTICLE}?welcome=1"
        assert visitor.get("/account").status_code == 200  # logged in
        assert visitor.post(link, data={"password": PASSWORD}).status_code == 410
    user = _user(site, email)
    assert user is not None
    assert user.verification_level == VerificationLevel.EMAIL
    assert user.awaiting_confirmation_since is None
    site.login(user)


def test_someone_registering_another_persons_address_cannot_keep_it(
    mailing_site: Site, mail: MailServer
) -> None:
    """The owner cannot confirm a registration with a password they never chose, and choosing
    a new password from a reset link makes the account theirs."""
    site = mailing_site
    email = "dominique@example.org"
    with site.anonymously() as intruder:
        intruder.post(
            "/account/register",
            data={
                "email": email,
                "display_name": "Intrus",
                "password": "the intruder's secret",
                "accept_terms": "1",
            },
        )
    with site.anonymously() as owner:
        link = _link_in(_delivered(site, mail)[0])
        refused = owner.post(link, data={"password": PASSWORD})
        assert refused.status_code == 422
        owner.post("/account/forgot", data={"email": email})
        reset = _link_in(_delivered(site, mail)[-1])
        owner.post(reset, data={"new_password": NEW_PASSWORD})
        logged = owner.post(
            "/account/login",
            data={"email": email, "password": NEW_PASSWORD},
            follow_redirects=False,
        )
        assert logged.status_code == 303
    with site.anonymously() as intruder:
        again = intruder.post(
            "/account/login", data={"email": email, "password": "the intruder's secret"}
        )
        assert again.status_code == 422


def test_registrations_never_confirmed_are_forgotten(mailing_site: Site, mail: MailServer) -> None:
    site = mailing_site
    confirmed = site.user(email=OWNER)
    with site.anonymously() as visitor:
        visitor.post(
            "/account/register",
            data={
                "email": "ghost@example.org",
                "display_name": "Ghost",
                "password": PASSWORD,
                "accept_terms": "1",
            },
        )
    assert _user(site, "ghost@example.org") is not None
    site.clock.advance(days=7)
    site.enqueue_job(purge_sessions)
    site.drain_jobs()
    assert _user(site, "ghost@example.org") is not None  # its link still works
    site.clock.advance(days=1, seconds=1)
    site.enqueue_job(purge_sessions)
    site.drain_jobs()
    assert _user(site, "ghost@example.org") is None
    assert _user(site, OWNER) is not None
    site.login(confirmed)


def test_a_logged_in_person_confirms_their_address_from_the_account_page(
    mailing_site: Site, mail: MailServer
) -> None:
    site = mailing_site
    owner = site.user(email=OWNER)
    client = site.login(owner)
    page = client.get("/account")
    assert 'action="/account/confirmation"' in page.text
    sent = client.post("/account/confirmation", follow_redirects=False)
    assert sent.status_code == 303
    link = _link_in(_delivered(site, mail)[0])
    form = client.get(link)
    assert form.status_code == 200 and 'name="password"' not in form.text
    assert client.post(link, follow_redirects=False).status_code == 303
    confirmed = _user(site, OWNER)
    assert confirmed is not None and confirmed.verification_level == VerificationLevel.EMAIL
    assert 'action="/account/confirmation"' not in client.get("/account").text


def _main(page: str) -> str:
    """The page's main region, without the per-response nonces and tokens."""
    start, end = page.index("<main"), page.index("</main>")
    return re.sub(r'(nonce|value)="[^"]*"', "", page[start:end])
