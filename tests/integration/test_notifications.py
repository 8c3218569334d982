"""Authors get an email when an answer to their contributions is published, through a real SMTP
server on loopback; failures are retried; anyone can opt out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from consult.accounts.models import Role, User
from consult.contributions.models import Contribution, ContributionKind
from consult.db import utcnow
from consult.demo.seed import DEMO_SLUG
from consult.jobs import send_notifications
from consult.notifications.models import Notification, NotificationStatus
from consult.notifications.services import unsubscribe_token
from consult.synthesis.models import SynthesisCampaign, SynthesisCampaignMember
from tests.support.mail import MailServer, mail_server
from tests.support.seeding import REASON, open_article, read_in_english
from tests.support.services import redis_url
from tests.support.site import Clock, Site, make_settings, start_site
from tests.support.synthesis import start_and_finish
from tests.support.worker import make_worker, work_until, worker_environment

BASE = f"/consultations/{DEMO_SLUG}"


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


@pytest.fixture
def mailing_site(demo_url: str, clock: Clock, mail: MailServer) -> Iterator[Site]:
    """The demo, read in English, on a site that sends its emails to the test mail server."""
    settings = make_settings(
        demo_url,
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        mail_from="Ministère <consultation@example.org>",
    )
    with start_site(settings, clock) as site:
        yield read_in_english(site)


def _contribute(site: Site, citizen: User, bodies: list[str]) -> list[int]:
    site.login(citizen)
    for body in bodies:
        response = site.client.post(
            f"{BASE}/articles/art-1/arguments", data={"stance": "pour", "body": body}
        )
        assert response.status_code == 303, response.text
    site.client.post("/account/logout")
    rows = site.rows(
        select(Contribution.id)
        .where(Contribution.author_id == citizen.id)
        .order_by(Contribution.id),
    )
    return [row[0] for row in rows]


def _publish(site: Site, contribution_id: int, state: str = "accepted") -> None:
    response = site.client.post(
        f"{BASE}/answers/contribution/{contribution_id}",
        data={"state": state, "reason": REASON, "action": "publish"},
    )
    assert response.status_code == 303, response.text


def _statuses(site: Site) -> list[tuple[int, NotificationStatus, int]]:
    return [
        (row[0], row[1], row[2])
        for row in site.rows(
            select(Notification.user_id, Notification.status, Notification.attempts).order_by(
                Notification.id
            ),
        )
    ]


def test_the_author_is_emailed_in_french_once_the_answer_is_published(
    mailing_site: Site, mail: MailServer
) -> None:
    inbox = mail.inbox
    site = mailing_site
    citizen = site.user(email="camille@example.org")
    (contribution_id,) = _contribute(site, citizen, ["Il faut publier les avis reçus."])
    site.login(site.user(Role.OFFICIAL))
    site.client.post(
        f"{BASE}/answers/contribution/{contribution_id}",
        data={"state": "accepted", "reason": REASON, "action": "draft"},
    )
    site.drain_jobs()
    assert inbox.messages == []  # a draft tells no one

    _publish(site, contribution_id)
    site.drain_jobs()
    (message,) = inbox.messages
    assert inbox.recipients == [["camille@example.org"]]
    assert message["Subject"].startswith("Votre contribution à «")
    assert message["From"] == "Ministère <consultation@example.org>"
    body = message.get_content()
    assert "Décision\u00a0: Retenue" in body
    assert "Le texte prévoit déjà cette garantie à l'article 3, alinéa 2." in body
    assert f"/contributions/{contribution_id}" in body
    assert f"/account/unsubscribe/{citizen.id}/" in message["List-Unsubscribe"]
    assert _statuses(site) == [(citizen.id, NotificationStatus.SENT, 0)]
    # Publishing a revision later sends nothing new.
    _publish(site, contribution_id, state="partially_accepted")
    site.drain_jobs()
    assert len(inbox.messages) == 1


LETTER = (
    "Nous demandons que chaque consultation publique publie la liste complète des avis reçus, "
    "avec la réponse motivée du ministère à chacun d'entre eux, dans un délai de trois mois."
)


def test_a_campaign_answer_emails_each_author_once_and_respects_opt_outs(
    mailing_site: Site, mail: MailServer
) -> None:
    inbox = mail.inbox
    site = mailing_site
    twice = site.user(email="twice@example.org")
    once = site.user(email="once@example.org")
    quiet = site.user(email="quiet@example.org")
    _contribute(site, twice, [LETTER, LETTER + " Merci."])
    _contribute(site, once, [LETTER])
    _contribute(site, quiet, [LETTER])
    client = site.login(quiet)
    assert client.post("/account/notifications", data={}).status_code == 303  # unticked
    client.post("/account/logout")

    site.login(site.user(Role.OFFICIAL))
    run_id = start_and_finish(site)
    campaign_id = site.rows(
        select(SynthesisCampaign.id)
        .join(SynthesisCampaignMember, SynthesisCampaignMember.campaign_id == SynthesisCampaign.id)
        .join(Contribution, Contribution.id == SynthesisCampaignMember.contribution_id)
        .where(SynthesisCampaign.run_id == run_id, Contribution.author_id == twice.id),
    )[0][0]
    response = site.client.post(
        f"{BASE}/answers/campaign/{campaign_id}",
        data={"state": "rejected", "reason": REASON, "action": "publish"},
    )
    assert response.status_code == 303
    site.drain_jobs()
    assert sorted(r[0] for r in inbox.recipients) == ["once@example.org", "twice@example.org"]
    (to_twice,) = [m for m in inbox.messages if m["To"].addresses[0].username == "twice"]
    assert to_twice.get_content().count(f"{BASE}/contributions/") == 2
    assert quiet.id not in {user_id for user_id, _s, _a in _statuses(site)}


@pytest.mark.each_database
def test_a_mail_server_that_refuses_is_tried_again_by_the_sweep(
    mailing_site: Site, mail: MailServer
) -> None:
    inbox = mail.inbox
    site = mailing_site
    citizen = site.user(email="patient@example.org")
    (contribution_id,) = _contribute(site, citizen, ["Une idée à retenir."])
    site.login(site.user(Role.OFFICIAL))
    inbox.refusing = True
    _publish(site, contribution_id)
    site.drain_jobs()
    ((_user, status, attempts),) = _statuses(site)
    assert status is NotificationStatus.PENDING and attempts == 1
    assert inbox.messages == []

    inbox.refusing = False
    site.enqueue_job(send_notifications)
    site.drain_jobs()
    assert [r for r in inbox.recipients] == [["patient@example.org"]]
    assert _statuses(site)[0][1] is NotificationStatus.SENT


def test_an_unsubscribe_link_works_without_logging_in_and_refuses_a_wrong_token(
    mailing_site: Site,
) -> None:
    site = mailing_site
    citizen = site.user(email="bye@example.org")
    token = unsubscribe_token(site.settings, citizen.id)
    url = f"/account/unsubscribe/{citizen.id}/{token}"
    page = site.client.get(url)
    assert page.status_code == 200 and "Stop these emails" in page.text
    assert site.client.get(f"/account/unsubscribe/{citizen.id}/{'0' * 32}").status_code == 404
    assert site.client.post(f"/account/unsubscribe/{citizen.id}/nope").status_code == 404
    done = site.client.post(url)
    assert done.status_code == 200 and "no longer receive" in done.text

    assert site.scalar(select(User.notify_answers).where(User.id == citizen.id)) is False


@pytest.mark.each_database
@pytest.mark.redis
@pytest.mark.anyio
async def test_an_arq_worker_sends_what_the_outbox_holds(
    database_url: str, mail: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production: the web process only writes the outbox; a worker on Redis sends it."""
    from consult.accounts.services import create_user
    from consult.answers.services import AnswerDecision, find_target, save_answer
    from consult.db import create_engine, create_session_factory
    from consult.jobs import ArqQueue
    from consult.notifications.services import queue_answer_notifications
    from consult.settings import Settings

    redis = redis_url()
    queue_name = f"consult-test-mail-{uuid.uuid4().hex[:8]}"
    worker_environment(
        monkeypatch, database_url, redis, smtp_host="127.0.0.1", smtp_port=str(mail.port)
    )
    settings = Settings.from_env()
    engine = create_engine(database_url)
    factory = create_session_factory(engine)
    queue = await ArqQueue.connect(redis)
    try:
        async with factory() as db:
            citizen, context = await open_article(db, "courriels")
            contribution = Contribution(
                consultation_id=context.consultation.id,
                version_id=context.version.id,
                article_key="art-1",
                kind=ContributionKind.ARGUMENT,
                author_id=citizen.id,
                author_pseudonym=citizen.display_name,
                body="Une idée à retenir.",
            )
            db.add(contribution)
            await db.flush()
            official = await create_user(
                db, "answering@example.org", "Official", "a-long-password-1", Role.OFFICIAL
            )
            target = await find_target(db, context.consultation, "contribution", contribution.id)
            decision = AnswerDecision("accepted", REASON, publish=True)
            saved = await save_answer(db, target, decision, author=official, now=utcnow())
            assert await queue_answer_notifications(db, saved.answer, settings, utcnow()) == 1
            await db.commit()
        await queue.pool.enqueue_job("send_notifications", _queue_name=queue_name)
        worker = make_worker(queue_name, redis)

        async def finished() -> bool:
            return bool(worker.jobs_complete + worker.jobs_failed)

        await work_until(worker, finished)
        assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    finally:
        await queue.pool.delete(queue_name)
        await queue.close()
        await engine.dispose()
    assert mail.inbox.recipients == [["citizen-courriels@example.org"]]
