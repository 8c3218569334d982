"""Authors get an email when an answer to their contributions is published, through a real SMTP
server on loopback; failures are retried; anyone can opt out."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from consult.accounts.models import Role, User
from consult.contributions.models import Contribution, ContributionKind
from consult.db import utcnow
from consult.demo.seed import DEMO_SLUG
from consult.jobs import send_notifications
from consult.notifications.models import Notification, NotificationStatus
from consult.notifications.services import unsubscribe_token
from consult.synthesis.models import SynthesisCampaign, SynthesisCampaignMember
from tests.conftest import REDIS_URL, Clock, Site, make_settings, service_missing, start_site
from tests.synthesis.test_synthesis_web import seed, start_and_finish
from tests.web.test_answers import REASON, _all

BASE = f"/consultations/{DEMO_SLUG}"


@dataclass
class Inbox:
    """Every message the test SMTP server accepted."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    refusing: bool = False
    """While true, the server answers every message with a temporary failure."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            return "451 Requested action aborted: try again later"
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class LoopbackController(Controller):
    """An SMTP server on a free port of 127.0.0.1 (bound first, so no port race)."""

    def __init__(self, handler: Inbox) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self._socket.getsockname()[1])

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._socket)


@pytest.fixture
def mail_server() -> Iterator[tuple[LoopbackController, Inbox]]:
    inbox = Inbox()
    controller = LoopbackController(inbox)
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def mailing_site(
    database_url: str, clock: Clock, mail_server: tuple[LoopbackController, Inbox]
) -> Iterator[Site]:
    controller, _inbox = mail_server
    settings = make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        mail_from="Ministère <consultation@example.org>",
    )
    yield from start_site(settings, clock)


def _contribute(site: Site, citizen: User, bodies: list[str]) -> list[int]:
    site.login(citizen)
    for body in bodies:
        response = site.client.post(
            f"{BASE}/articles/art-1/arguments", data={"stance": "pour", "body": body}
        )
        assert response.status_code == 303, response.text
    site.client.post("/account/logout")
    rows = _all(
        site,
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


def _drain(site: Site) -> None:
    site.client.portal.call(site.services.jobs.drain)  # type: ignore[union-attr]


def _statuses(site: Site) -> list[tuple[int, NotificationStatus, int]]:
    return [
        (row[0], row[1], row[2])
        for row in _all(
            site,
            select(Notification.user_id, Notification.status, Notification.attempts).order_by(
                Notification.id
            ),
        )
    ]


def test_the_author_is_emailed_in_french_once_the_answer_is_published(
    mailing_site: Site, mail_server: tuple[LoopbackController, Inbox]
) -> None:
    _controller, inbox = mail_server
    site = mailing_site
    seed(site)
    citizen = site.user(email="camille@example.org")
    (contribution_id,) = _contribute(site, citizen, ["Il faut publier les avis reçus."])
    site.login(site.user(Role.OFFICIAL))
    site.client.post(
        f"{BASE}/answers/contribution/{contribution_id}",
        data={"state": "accepted", "reason": REASON, "action": "draft"},
    )
    _drain(site)
    assert inbox.messages == []  # a draft tells no one

    _publish(site, contribution_id)
    _drain(site)
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
    _drain(site)
    assert len(inbox.messages) == 1


LETTER = (
    "Nous demandons que chaque consultation publique publie la liste complète des avis reçus, "
    "avec la réponse motivée du ministère à chacun d'entre eux, dans un délai de trois mois."
)


def test_a_campaign_answer_emails_each_author_once_and_respects_opt_outs(
    mailing_site: Site, mail_server: tuple[LoopbackController, Inbox]
) -> None:
    _controller, inbox = mail_server
    site = mailing_site
    seed(site)
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
    campaign_id = _all(
        site,
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
    _drain(site)
    assert sorted(r[0] for r in inbox.recipients) == ["once@example.org", "twice@example.org"]
    (to_twice,) = [m for m in inbox.messages if m["To"].addresses[0].username == "twice"]
    assert to_twice.get_content().count(f"{BASE}/contributions/") == 2
    assert quiet.id not in {user_id for user_id, _s, _a in _statuses(site)}


def test_a_mail_server_that_refuses_is_tried_again_by_the_sweep(
    mailing_site: Site, mail_server: tuple[LoopbackController, Inbox]
) -> None:
    _controller, inbox = mail_server
    site = mailing_site
    seed(site)
    citizen = site.user(email="patient@example.org")
    (contribution_id,) = _contribute(site, citizen, ["Une idée à retenir."])
    site.login(site.user(Role.OFFICIAL))
    inbox.refusing = True
    _publish(site, contribution_id)
    _drain(site)
    ((_user, status, attempts),) = _statuses(site)
    assert status is NotificationStatus.PENDING and attempts == 1
    assert inbox.messages == []

    inbox.refusing = False
    site.client.portal.call(  # type: ignore[union-attr]
        site.services.jobs.enqueue, send_notifications
    )
    _drain(site)
    assert [r for r in inbox.recipients] == [["patient@example.org"]]
    assert _statuses(site)[0][1] is NotificationStatus.SENT


def test_an_unsubscribe_link_works_without_logging_in_and_refuses_a_wrong_token(
    mailing_site: Site,
) -> None:
    site = mailing_site
    site.client.headers["Accept-Language"] = "en"
    citizen = site.user(email="bye@example.org")
    token = unsubscribe_token(site.services.settings, citizen.id)
    url = f"/account/unsubscribe/{citizen.id}/{token}"
    page = site.client.get(url)
    assert page.status_code == 200 and "Stop these emails" in page.text
    assert site.client.get(f"/account/unsubscribe/{citizen.id}/{'0' * 32}").status_code == 404
    assert site.client.post(f"/account/unsubscribe/{citizen.id}/nope").status_code == 404
    done = site.client.post(url)
    assert done.status_code == 200 and "no longer receive" in done.text

    async def read(session):  # type: ignore[no-untyped-def]
        return await session.get(User, citizen.id)

    assert site.db(read).notify_answers is False


@pytest.mark.redis
def test_an_arq_worker_sends_what_the_outbox_holds(
    database_url: str,
    mail_server: tuple[LoopbackController, Inbox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Production: the web process only writes the outbox; a worker on Redis sends it."""
    if not REDIS_URL:
        service_missing("Redis", "CONSULT_TEST_REDIS_URL")
    controller, inbox = mail_server
    redis_url = REDIS_URL.rsplit("/", 1)[0] + "/12"
    queue_name = f"consult-test-mail-{uuid.uuid4().hex[:8]}"
    for name, value in {
        "CONSULT_DATABASE_URL": database_url,
        "CONSULT_REDIS_URL": redis_url,
        "CONSULT_EMBEDDING_MODEL": "hashing",
        "CONSULT_SYNTHESIS_PROCESSES": "0",
        "CONSULT_SMTP_HOST": "127.0.0.1",
        "CONSULT_SMTP_PORT": str(controller.port),
    }.items():
        monkeypatch.setenv(name, value)

    async def scenario() -> None:
        from consult.accounts.services import create_user
        from consult.answers.services import AnswerDecision, find_target, save_answer
        from consult.db import create_engine, create_session_factory
        from consult.jobs import ArqQueue
        from consult.notifications.services import queue_answer_notifications
        from consult.settings import Settings
        from tests.integration.seeding import open_article
        from tests.integration.test_synthesis_jobs import _worker

        settings = Settings.from_env()
        engine = create_engine(database_url)
        factory = create_session_factory(engine)
        queue = await ArqQueue.connect(redis_url)
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
                target = await find_target(
                    db, context.consultation, "contribution", contribution.id
                )
                decision = AnswerDecision("accepted", REASON, publish=True)
                saved = await save_answer(db, target, decision, author=official, now=utcnow())
                assert await queue_answer_notifications(db, saved.answer, settings, utcnow()) == 1
                await db.commit()
            await queue.pool.enqueue_job("send_notifications", _queue_name=queue_name)
            worker = _worker(queue_name, redis_url)
            await worker.main()
            await worker.close()
            assert worker.jobs_complete == 1 and worker.jobs_failed == 0
        finally:
            await queue.pool.delete(queue_name)
            await queue.close()
            await engine.dispose()

    asyncio.run(scenario())
    assert inbox.recipients == [["citizen-courriels@example.org"]]
