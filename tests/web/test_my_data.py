"""A person's own data: an archive of everything stored about them, and closing the account
with their personal data erased and their public contributions kept (or deleted on request)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role, User
from consult.answers.models import Answer, AnswerCoverage, AnswerScope, AnswerState
from consult.audit.models import AuditEvent
from consult.contributions.models import Contribution, Vote
from consult.jobs import purge_sessions, send_notifications
from consult.notifications.models import Notification
from tests.support.mail import mail_server
from tests.support.site import PASSWORD, Clock, Site, make_settings, start_site

ARTICLE = "/consultations/bibliotheques/articles/art-1"


def _take_part(site: Site, body: str) -> tuple[User, Contribution]:
    """A citizen logged in who posted an argument and voted on the article."""
    citizen = site.user()
    site.login(citizen)
    posted = site.client.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": body})
    assert posted.status_code == 303
    assert site.client.post(f"{ARTICLE}/votes", data={"value": "pour"}).status_code == 303
    argument = site.scalar(select(Contribution).where(Contribution.body == body))
    return citizen, argument


def test_my_data_comes_as_an_archive_of_json_files(library: Site) -> None:
    other, _ = _take_part(library, "Ce que pense une autre personne.")
    library.client.post("/account/logout")
    citizen, argument = _take_part(library, "Les horaires doivent couvrir le dimanche.")
    response = library.client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == [
        "account.json",
        "contributions.json",
        "emails.json",
        "moderation.json",
        "votes.json",
    ]
    account = json.loads(archive.read("account.json"))
    assert account["email"] == citizen.email
    contributions = json.loads(archive.read("contributions.json"))
    assert [c["text"] for c in contributions] == [argument.body]
    assert contributions[0]["stance"] == "pour" and contributions[0]["article"] == "art-1"
    votes = json.loads(archive.read("votes.json"))
    assert [(v["article"], v["vote"]) for v in votes] == [("art-1", "pour")]
    assert other.email not in response.content.decode("latin-1")


def test_my_data_is_only_for_the_person_logged_in(library: Site) -> None:
    with library.anonymously() as visitor:
        response = visitor.get("/account/export", follow_redirects=False)
        assert response.status_code in (302, 303)
        assert "/account/login" in response.headers["location"]


@pytest.mark.each_database
def test_closing_an_account_erases_the_person_and_keeps_the_consultation(library: Site) -> None:
    citizen, argument = _take_part(library, "Les horaires doivent couvrir le dimanche.")
    before = library.client.get(ARTICLE).text
    assert "citizen tester" in before

    wrong = library.client.post(
        "/account/close", data={"password": "not my password", "contributions": "keep"}
    )
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    assert library.scalar(select(User.email).where(User.id == citizen.id)) == citizen.email

    closed = library.client.post(
        "/account/close", data={"password": PASSWORD, "contributions": "keep"}
    )
    assert closed.status_code == 200
    assert "session" in closed.headers.get("set-cookie", "")  # the cookie is cleared
    # The person is gone: no address, no name, no password, no session.
    erased = library.scalar(select(User).where(User.id == citizen.id))
    assert erased.email is None and erased.display_name == "" and erased.password_hash is None
    assert erased.deleted_at is not None
    assert library.client.get("/account", follow_redirects=False).status_code in (302, 303)
    relogin = library.client.post(
        "/account/login", data={"email": citizen.email, "password": PASSWORD}
    )
    assert relogin.status_code == 422
    # What they contributed stays public under "deleted account", and their vote counts.
    page = library.client.get(ARTICLE).text
    assert argument.body in page
    assert "Compte supprimé" in page and "citizen tester" not in page
    assert library.scalar(select(func.count()).select_from(Vote)) == 1
    kept = library.scalar(select(Contribution).where(Contribution.id == argument.id))
    assert kept.author_pseudonym == ""
    # The audit log says it happened, without naming anyone.
    event = library.scalar(select(AuditEvent).where(AuditEvent.action == "account.closed"))
    assert event is not None and citizen.email not in json.dumps(event.details)


def test_closing_can_delete_the_contributions_nothing_depends_on(library: Site) -> None:
    citizen, answered = _take_part(library, "Une contribution à laquelle on a répondu.")
    library.client.post(f"{ARTICLE}/arguments", data={"stance": "contre", "body": "Sans suite."})
    alone = library.scalar(select(Contribution).where(Contribution.body == "Sans suite."))

    async def answer(session):  # type: ignore[no-untyped-def]
        reply = Answer(
            consultation_id=answered.consultation_id,
            scope=AnswerScope.CONTRIBUTION,
            contribution_id=answered.id,
            state=AnswerState.REJECTED,
            reason="Non retenu.",
        )
        session.add(reply)
        await session.flush()
        session.add(AnswerCoverage(answer_id=reply.id, contribution_id=answered.id))
        await session.commit()

    library.db(answer)
    closed = library.client.post(
        "/account/close", data={"password": PASSWORD, "contributions": "delete"}
    )
    assert closed.status_code == 200
    remaining = library.rows(select(Contribution.id).where(Contribution.author_id == citizen.id))
    assert remaining == [(answered.id,)]
    assert alone.id not in {row[0] for row in library.rows(select(Contribution.id))}


def test_an_administrator_account_is_not_closed_by_its_holder(library: Site) -> None:
    admin = library.user(Role.ADMIN)
    library.login(admin)
    refused = library.client.post(
        "/account/close", data={"password": PASSWORD, "contributions": "keep"}
    )
    assert refused.status_code == 422
    assert library.scalar(select(User.email).where(User.id == admin.id)) == admin.email


# --- accounts not used for a long time ------------------------------------------------------


def _run_purge(site: Site) -> None:
    site.enqueue_job(purge_sessions)
    site.drain_jobs()


def test_an_account_unused_for_years_is_warned_then_closed(library_url: str, clock: Clock) -> None:
    with mail_server() as mail:
        settings = make_settings(library_url, smtp_host="127.0.0.1", smtp_port=mail.port)
        with start_site(settings, clock) as site:
            sleeper, argument = _take_part(site, "Une contribution d'il y a longtemps.")
            faithful = site.user()
            days = settings.inactive_account_days
            clock.advance(days=days - 31)
            site.login(faithful)  # logs in now and then: never warned
            _run_purge(site)
            assert mail.inbox.recipients == []

            clock.advance(days=2)  # a month before the end: warned, once
            _run_purge(site)
            _run_purge(site)
            site.enqueue_job(send_notifications)
            site.drain_jobs()
            assert mail.inbox.recipients == [[sleeper.email]]
            assert "/account/login" in mail.inbox.messages[0].get_content()

            clock.advance(days=29)  # not yet a month after the warning
            _run_purge(site)
            assert site.scalar(select(User.email).where(User.id == sleeper.id)) is not None

            clock.advance(days=2)
            _run_purge(site)
            closed = site.scalar(select(User).where(User.id == sleeper.id))
            assert closed.email is None and closed.deleted_at is not None
            kept = site.scalar(select(Contribution).where(Contribution.id == argument.id))
            assert kept is not None and kept.author_pseudonym == ""
            assert site.scalar(select(User.email).where(User.id == faithful.id)) == faithful.email


def test_logging_in_after_the_warning_keeps_the_account(library_url: str, clock: Clock) -> None:
    with mail_server() as mail:
        settings = make_settings(library_url, smtp_host="127.0.0.1", smtp_port=mail.port)
        with start_site(settings, clock) as site:
            sleeper = site.user()
            clock.advance(days=settings.inactive_account_days - 10)
            _run_purge(site)
            assert site.scalar(select(User.inactivity_warned_at).where(User.id == sleeper.id))
            site.login(sleeper)
            clock.advance(days=40)
            _run_purge(site)
            assert site.scalar(select(User.email).where(User.id == sleeper.id)) == sleeper.email


def test_without_email_an_unused_account_is_closed_when_its_time_comes(
    library: Site, clock: Clock
) -> None:
    sleeper = library.user()
    staff = library.user(Role.OFFICIAL)
    clock.advance(days=library.settings.inactive_account_days + 1)
    _run_purge(library)
    assert library.scalar(select(User.deleted_at).where(User.id == sleeper.id)) is not None
    assert library.scalar(select(User.deleted_at).where(User.id == staff.id)) is None


def test_closing_an_account_with_an_answer_email_pending_sends_nothing_and_keeps_the_answer(
    library_url: str, clock: Clock
) -> None:
    with mail_server() as mail:
        settings = make_settings(library_url, smtp_host="127.0.0.1", smtp_port=mail.port)
        with start_site(settings, clock) as site:
            citizen, answered = _take_part(site, "Une contribution à laquelle on a répondu.")

            async def answer_with_email_pending(session):  # type: ignore[no-untyped-def]
                reply = Answer(
                    consultation_id=answered.consultation_id,
                    scope=AnswerScope.CONTRIBUTION,
                    contribution_id=answered.id,
                    state=AnswerState.ACCEPTED,
                    reason="Retenu.",
                    published_at=clock(),
                )
                session.add(reply)
                await session.flush()
                session.add(AnswerCoverage(answer_id=reply.id, contribution_id=answered.id))
                session.add(Notification(user_id=citizen.id, answer_id=reply.id))
                await session.commit()
                return reply.id

            answer_id = site.db(answer_with_email_pending)
            closed = site.client.post(
                "/account/close", data={"password": PASSWORD, "contributions": "delete"}
            )
            assert closed.status_code == 200
            site.enqueue_job(send_notifications)
            site.drain_jobs()
            assert mail.inbox.messages == []  # the address is gone: no email after closing
            assert site.scalar(select(func.count()).select_from(Notification)) == 0
            # The answer and what it answers stay public.
            assert site.scalar(select(Answer.id).where(Answer.id == answer_id)) == answer_id
            kept = site.scalar(select(Contribution).where(Contribution.id == answered.id))
            assert kept is not None and kept.author_pseudonym == ""
