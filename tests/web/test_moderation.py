"""Moderation: reports, the moderators' queue, hiding and restoring with a public reason, the
public log, copies of a letter, suspended accounts (no JS and htmx)."""

from __future__ import annotations

import io
import json
import zipfile

import anyio
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult.accounts.models import Role, User
from consult.audit.models import AuditEvent
from consult.contributions.models import Contribution, Visibility, Vote
from consult.demo.seed import DEMO_SLUG
from consult.jobs import send_notifications
from consult.moderation.models import ModerationEvent, Report, Suspension
from consult.notifications.models import ACCOUNT_REINSTATED, ACCOUNT_SUSPENDED, AccountNotice
from consult.synthesis.models import (
    RunStatus,
    SynthesisCampaign,
    SynthesisCampaignMember,
    SynthesisRun,
)
from consult.web.services import services_of_app
from tests.support.mail import mail_server
from tests.support.seeding import read_in_english
from tests.support.site import (
    PASSWORD,
    Clock,
    Site,
    browser,
    htmx_headers,
    make_settings,
    serving,
    start_site,
)
from tests.support.synthesis import prepare_synthesis

SLUG = "bibliotheques"
ARTICLE = f"/consultations/{SLUG}/articles/art-1"
QUEUE = f"/consultations/{SLUG}/moderation"
LOG = f"/consultations/{SLUG}/moderation/log"
LETTER = "Les bibliothèques doivent ouvrir le dimanche matin pour les familles."


def _write(site: Site, author: User, body: str = LETTER) -> int:
    """`author` argues on article 1; returns the new contribution's id."""
    site.client.cookies.clear()
    site.login(author)
    response = site.client.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": body})
    assert response.status_code == 303, response.text
    site.client.cookies.clear()
    return int(site.scalar(select(func.max(Contribution.id))))


def _report(site: Site, reporter: User, contribution_id: int, **data: str) -> int:
    site.client.cookies.clear()
    site.login(reporter)
    form = {"reason": "insult", "details": ""} | data
    path = f"/consultations/{SLUG}/contributions/{contribution_id}/reports"
    status = site.client.post(path, data=form).status_code
    site.client.cookies.clear()
    return status


def _reports(site: Site) -> int:
    return int(site.scalar(select(func.count()).select_from(Report)))


def _contribution(site: Site, contribution_id: int) -> Contribution:
    found = site.scalar(select(Contribution).where(Contribution.id == contribution_id))
    assert found is not None
    return found


@pytest.fixture
def english(library: Site) -> Site:
    return read_in_english(library)


def test_a_participant_reports_a_contribution_once_without_javascript(english: Site) -> None:
    site = english
    author, reader = site.user(), site.user()
    target = _write(site, author)
    site.login(reader)
    page = site.client.get(ARTICLE).text
    assert f'id="report-c{target}"' in page
    assert f"/contributions/{target}/reports" in page
    path = f"/consultations/{SLUG}/contributions/{target}/reports"
    sent = site.client.post(path, data={"reason": "spam", "details": "Une publicité."})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/consultations/{SLUG}/contributions/{target}/report"
    assert "You reported this contribution" in site.client.get(sent.headers["location"]).text
    # Reported once: the form is no longer offered on its own page.
    again = site.client.post(path, data={"reason": "insult"})
    assert again.status_code == 409
    assert "You have already reported this contribution" in again.text
    assert site.rows(select(Report.reason, Report.details)) == [("spam", "Une publicité.")]
    # The report is the reporter's data: it is in the archive of their data.
    archive = zipfile.ZipFile(io.BytesIO(site.client.get("/account/export").content))
    mine = json.loads(archive.read("moderation.json"))["reports"]
    assert [(r["contribution"], r["reason"]) for r in mine] == [(target, "spam")]
    # The author has no report button on their own contribution, and cannot report it.
    site.client.cookies.clear()
    site.login(author)
    assert f'id="report-c{target}"' not in site.client.get(ARTICLE).text
    own = site.client.post(path, data={"reason": "spam"})
    assert own.status_code == 403
    assert "You cannot report your own contribution" in own.text
    assert _reports(site) == 1


def test_reporting_with_htmx_answers_in_place(english: Site) -> None:
    site = english
    target = _write(site, site.user())
    site.login(site.user())
    path = f"/consultations/{SLUG}/contributions/{target}/reports"
    missing = site.client.post(path, data={"reason": "other"}, headers=htmx_headers())
    assert missing.status_code == 422
    assert f'id="report-c{target}"' in missing.text and "Say what is wrong" in missing.text
    assert "<html" not in missing.text
    unknown = site.client.post(path, data={"reason": "boring"}, headers=htmx_headers())
    assert unknown.status_code == 422 and "Choose why you report" in unknown.text
    assert _reports(site) == 0
    sent = site.client.post(path, data={"reason": "off_topic"}, headers=htmx_headers())
    assert sent.status_code == 200
    assert f'<p id="report-c{target}" class="report-status" role="status">' in sent.text
    assert "your report was sent" in sent.text
    twice = site.client.post(path, data={"reason": "spam"}, headers=htmx_headers())
    assert twice.status_code == 409 and "already reported" in twice.text
    assert _reports(site) == 1


def test_three_reports_hide_a_contribution_pending_review(english: Site) -> None:
    site = english
    author = site.user()
    target = _write(site, author)
    for status in (_report(site, site.user(), target) for _ in range(2)):
        assert status == 303
    assert _contribution(site, target).is_visible
    assert _report(site, site.user(), target) == 303
    hidden = _contribution(site, target)
    assert hidden.visibility is Visibility.HIDDEN and hidden.pending_review
    with site.anonymously() as reader:
        page = reader.get(ARTICLE).text
        assert "Hidden pending review by the moderators" in page
        assert LETTER not in page
        log = reader.get(LOG).text
        assert "Hidden pending review after reports" in log
        assert f"#{target}" in log


def test_a_moderator_restores_or_hides_with_a_public_reason(english: Site) -> None:
    site = english
    author = site.user()
    target = _write(site, author)
    site.login(author)
    reply_path = f"{ARTICLE}/contributions/{target}/replies"
    assert site.client.post(reply_path, data={"body": "Je précise ma pensée."}).status_code == 303
    site.client.cookies.clear()
    voter = site.user()
    site.login(voter)
    vote_path = f"{ARTICLE}/contributions/{target}/votes"
    assert site.client.post(vote_path, data={"value": "pour"}).status_code == 303
    site.client.cookies.clear()
    reporters = [site.user(email=f"reporter-{n}@example.org") for n in range(3)]
    for n, reporter in enumerate(reporters):
        reason = ("insult", "insult", "other")[n]
        assert _report(site, reporter, target, reason=reason, details="Trop agressif.") == 303

    moderator = site.user(Role.MODERATOR)
    site.login(moderator)
    assert "/moderation" in site.client.get(f"/consultations/{SLUG}").text
    queue = site.client.get(QUEUE).text
    assert f'id="q{target}"' in queue
    assert "Hidden pending review" in queue and LETTER in queue
    assert "Insult or harassment — 2" in queue and "Other reason — 1" in queue
    assert "Trop agressif." in queue
    for reporter in reporters:  # never who reported
        assert str(reporter.email) not in queue, queue[queue.index(str(reporter.email)) - 300 :]
    assert "The author&#39;s history" in queue or "The author's history" in queue

    decide = f"{QUEUE}/contributions/{target}"
    empty = site.client.post(decide, data={"action": "restore", "reason": "  "})
    assert empty.status_code == 422 and "Give the reason the public will read" in empty.text
    assert not _contribution(site, target).is_visible
    restored = site.client.post(
        decide, data={"action": "restore", "reason": "Critique vive mais respectueuse."}
    )
    assert restored.status_code == 303
    shown = _contribution(site, target)
    assert shown.is_visible and not shown.pending_review
    assert site.scalar(select(func.count()).where(Report.reviewed_at.is_(None))) == 0

    hid = site.client.post(decide, data={"action": "hide", "reason": "Propos injurieux."})
    assert hid.status_code == 303
    with site.anonymously() as reader:
        page = reader.get(ARTICLE).text
        assert "Hidden by moderation: Propos injurieux." in page
        assert LETTER not in page
        assert "Je précise ma pensée." in page  # its answers stay
        permalink = reader.get(f"/consultations/{SLUG}/contributions/{target}").text
        assert "Hidden by moderation: Propos injurieux." in permalink and LETTER not in permalink
        log = reader.get(LOG).text
        assert "Critique vive mais respectueuse." in log and "Propos injurieux." in log
        assert moderator.display_name not in log and str(moderator.email) not in log
    assert _contribution(site, target).votes_for == 1
    assert site.scalar(select(func.count()).select_from(Vote)) == 1
    events = site.rows(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.action.like("moderation.%"))
        .order_by(AuditEvent.id)
    )
    assert events == [
        ("moderation.auto_hide", None),
        ("moderation.restore", moderator.id),
        ("moderation.hide", moderator.id),
    ]
    already = site.client.post(decide, data={"action": "hide", "reason": "Encore."})
    assert already.status_code == 422 and "already hidden" in already.text


def test_the_queue_filters_by_reason_kind_and_article(english: Site) -> None:
    site = english
    first = _write(site, site.user(), "Premier texte signalé.")
    second = _write(site, site.user(), "Second texte signalé.")
    assert _report(site, site.user(), first, reason="spam") == 303
    assert _report(site, site.user(), second, reason="illegal") == 303
    site.login(site.user(Role.MODERATOR))
    assert f'id="q{first}"' in site.client.get(QUEUE).text
    by_reason = site.client.get(f"{QUEUE}?reason=illegal").text
    assert f'id="q{second}"' in by_reason and f'id="q{first}"' not in by_reason
    assert f'id="q{first}"' not in site.client.get(f"{QUEUE}?kind=annotation").text
    assert f'id="q{first}"' in site.client.get(f"{QUEUE}?kind=argument&article=art-1").text
    assert f'id="q{first}"' not in site.client.get(f"{QUEUE}?article=art-2").text
    assert site.client.get(f"{QUEUE}?reason=%00&kind=x&article=" + "a" * 500).status_code in (
        200,
        400,
    )


def test_citizens_and_anonymous_readers_cannot_moderate(english: Site) -> None:
    site = english
    target = _write(site, site.user())
    site.login(site.user())
    assert site.client.get(QUEUE).status_code == 403
    decide = f"{QUEUE}/contributions/{target}"
    assert site.client.post(decide, data={"action": "hide", "reason": "Non."}).status_code == 403
    site.client.cookies.clear()
    assert site.client.get(QUEUE).status_code == 303
    assert _contribution(site, target).is_visible
    assert '/moderation"' not in site.client.get(f"/consultations/{SLUG}").text


def test_a_suspended_account_cannot_post_vote_or_report_and_asks_for_a_review_once(
    english: Site,
) -> None:
    site = english
    author = site.user()
    target = _write(site, author)
    other = _write(site, site.user(), "Un autre avis.")
    moderator = site.user(Role.MODERATOR)
    site.login(moderator)
    suspend = f"{QUEUE}/accounts/{author.id}/suspension"
    assert site.client.post(suspend, data={"reason": ""}).status_code == 422
    assert site.client.post(suspend, data={"reason": "Insultes répétées."}).status_code == 303
    assert site.client.post(suspend, data={"reason": "Encore."}).status_code == 422
    notices = site.rows(select(AccountNotice.user_id, AccountNotice.kind))
    assert notices == [(author.id, ACCOUNT_SUSPENDED)]
    site.client.cookies.clear()

    site.login(author)
    before = site.scalar(select(func.count()).select_from(Contribution))
    refusals = [
        site.client.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Encore moi."}),
        site.client.post(f"{ARTICLE}/annotations", data={"alinea": "1", "body": "Note."}),
        site.client.post(f"{ARTICLE}/contributions/{other}/replies", data={"body": "Non."}),
        site.client.post(f"{ARTICLE}/votes", data={"value": "pour"}),
        site.client.post(f"{ARTICLE}/contributions/{other}/votes", data={"value": "contre"}),
        site.client.post(
            f"/consultations/{SLUG}/contributions/{other}/reports", data={"reason": "spam"}
        ),
    ]
    for response in refusals:
        assert response.status_code == 403, response.request.url
        assert "Your account is suspended" in response.text
    assert site.scalar(select(func.count()).select_from(Contribution)) == before
    assert site.scalar(select(func.count()).select_from(Vote)) == 0
    assert _reports(site) == 0
    assert _contribution(site, target).is_visible  # its past contributions stay

    profile = site.client.get("/account").text
    assert "Your account is suspended" in profile and "Insultes répétées." in profile
    assert site.client.post("/account/review", data={"review": ""}).status_code == 422
    asked = site.client.post("/account/review", data={"review": "Je m'excuse."})
    assert asked.status_code == 303
    second = site.client.post("/account/review", data={"review": "Encore une fois."})
    assert second.status_code == 422 and "already asked for a review" in second.text
    assert site.scalar(select(Suspension.review_request)) == "Je m'excuse."
    site.client.cookies.clear()

    site.login(moderator)
    queue = site.client.get(QUEUE).text
    assert "Reviews asked by suspended accounts" in queue and "Je m&#39;excuse." in queue
    reinstate = f"{QUEUE}/accounts/{author.id}/reinstatement"
    assert site.client.post(reinstate, data={"reason": "Excuses acceptées."}).status_code == 303
    assert site.client.post(reinstate, data={"reason": "Deux fois."}).status_code == 404
    site.client.cookies.clear()
    site.login(author)
    argued = site.client.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": "Merci."})
    assert argued.status_code == 303
    kinds = site.rows(select(AccountNotice.kind).order_by(AccountNotice.id))
    assert kinds == [(ACCOUNT_SUSPENDED,), (ACCOUNT_REINSTATED,)]
    actions = site.rows(select(ModerationEvent.action).order_by(ModerationEvent.id))
    assert actions == [("suspend",), ("reinstate",)]
    audit = site.rows(select(AuditEvent.action).where(AuditEvent.action.like("moderation.%")))
    assert sorted(audit) == [
        ("moderation.reinstate",),
        ("moderation.review_request",),
        ("moderation.suspend",),
    ]


def test_only_participants_of_the_consultation_can_be_suspended_from_its_queue(
    english: Site,
) -> None:
    site = english
    stranger = site.user()
    official = site.user(Role.OFFICIAL)
    _write(site, official, "Un texte du ministère.")
    site.login(site.user(Role.MODERATOR))
    gone = site.client.post(f"{QUEUE}/accounts/{stranger.id}/suspension", data={"reason": "X"})
    assert gone.status_code == 404
    staff = site.client.post(f"{QUEUE}/accounts/{official.id}/suspension", data={"reason": "X"})
    assert staff.status_code == 422
    assert site.scalar(select(func.count()).select_from(Suspension)) == 0


def test_every_copy_of_a_letter_is_hidden_at_once(demo: Site) -> None:
    prepare_synthesis(read_in_english(demo))
    campaign = demo.scalar(
        select(SynthesisCampaign.id).order_by(SynthesisCampaign.copies.desc()).limit(1)
    )
    members = [
        row[0]
        for row in demo.rows(
            select(SynthesisCampaignMember.contribution_id).where(
                SynthesisCampaignMember.campaign_id == campaign
            )
        )
    ]
    assert len(members) > 10
    demo.login(demo.user(Role.MODERATOR))
    decide = f"/consultations/{DEMO_SLUG}/moderation/contributions/{members[0]}"
    one = demo.client.post(decide, data={"action": "hide", "reason": "Copie."})
    assert one.status_code == 303
    hidden = select(func.count()).where(
        Contribution.id.in_(members), Contribution.visibility == Visibility.HIDDEN
    )
    assert demo.scalar(hidden) == 1
    queue = demo.client.get(f"/consultations/{DEMO_SLUG}/moderation").text
    assert f"Apply to every copy of this letter ({len(members)} copies)" in queue
    every = demo.client.post(
        f"/consultations/{DEMO_SLUG}/moderation/contributions/{members[1]}",
        data={"action": "hide", "reason": "Campagne de spam.", "copies": "all"},
    )
    assert every.status_code == 303
    assert demo.scalar(hidden) == len(members)
    # The copy hidden first keeps its own reason; the others have the letter's.
    reasons = {
        row[0]
        for row in demo.rows(select(Contribution.hidden_reason).where(Contribution.id.in_(members)))
    }
    assert reasons == {"Copie.", "Campagne de spam."}
    logged = demo.scalar(select(func.count()).where(ModerationEvent.action == "hide"))
    assert logged == len(members)
    # The next synthesis run leaves every hidden copy out.
    demo.client.cookies.clear()
    demo.login(demo.user(Role.OFFICIAL))
    assert demo.client.post(f"/consultations/{DEMO_SLUG}/synthesis/runs").status_code == 303
    demo.drain_jobs()
    latest = demo.scalar(select(SynthesisRun).order_by(SynthesisRun.id.desc()).limit(1))
    assert latest.status is RunStatus.SUCCEEDED and latest.input_ids
    synthesised = {n for first, last in latest.input_ids for n in range(first, last + 1)}
    assert synthesised and synthesised.isdisjoint(members)


# --- the database keeps one report per person ----------------------------------------------


@pytest.mark.each_database
@pytest.mark.anyio
async def test_concurrent_reports_count_once_per_person_and_hide_once(library_url: str) -> None:
    clock = Clock()
    async with serving(make_settings(library_url), clock) as app:
        factory = services_of_app(app).session_factory
        from consult.accounts.services import create_user

        async with factory() as session:
            author = await create_user(session, "auteur@example.org", "Auteur", PASSWORD)
            for n in range(5):
                await create_user(session, f"r{n}@example.org", f"R{n}", PASSWORD)
            await session.commit()
            author_id = author.id
        writer = await browser(app, "auteur@example.org")
        sent = await writer.post(f"{ARTICLE}/arguments", data={"stance": "pour", "body": LETTER})
        assert sent.status_code == 303
        await writer.aclose()
        async with factory() as session:
            target = await session.scalar(
                select(Contribution.id).where(Contribution.author_id == author_id)
            )
        path = f"/consultations/{SLUG}/contributions/{target}/reports"
        same = await browser(app, "r0@example.org")
        others = [await browser(app, f"r{n}@example.org") for n in range(1, 5)]
        answers: list[int] = []

        async def send(http: object) -> None:
            response = await http.post(path, data={"reason": "spam"})  # type: ignore[attr-defined]
            answers.append(response.status_code)

        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(send, same)
            for http in others:
                group.start_soon(send, http)
        for http in [same, *others]:
            await http.aclose()
        async with factory() as session:
            reports = await session.scalar(select(func.count()).select_from(Report))
            auto_hides = await session.scalar(
                select(func.count()).where(ModerationEvent.action == "auto_hide")
            )
            contribution = await session.get(Contribution, target)
            assert contribution is not None
            hidden = contribution.visibility
            # The constraint itself refuses a second report by the same person.
            reporter = await session.scalar(select(User.id).where(User.email == "r0@example.org"))
            session.add(
                Report(
                    consultation_id=contribution.consultation_id,
                    contribution_id=target,
                    reporter_id=reporter,
                    reason="spam",
                    details="",
                )
            )
            with pytest.raises(IntegrityError):
                await session.flush()
    assert sorted(answers) == [303] * 5 + [409] * 5
    assert reports == 5
    assert auto_hides == 1
    assert hidden is Visibility.HIDDEN


def test_the_author_is_told_by_email_of_a_suspension_and_of_its_end(library_url: str) -> None:
    with mail_server() as mail:
        settings = make_settings(library_url, smtp_host="127.0.0.1", smtp_port=mail.port)
        with start_site(settings, Clock()) as site:
            author = site.user()
            _write(site, author)
            site.login(site.user(Role.MODERATOR))
            suspend = f"{QUEUE}/accounts/{author.id}/suspension"
            assert (
                site.client.post(suspend, data={"reason": "Insultes répétées."}).status_code == 303
            )
            reinstate = f"{QUEUE}/accounts/{author.id}/reinstatement"
            assert (
                site.client.post(reinstate, data={"reason": "Excuses acceptées."}).status_code
                == 303
            )
            site.drain_jobs()
            site.enqueue_job(send_notifications)
            site.drain_jobs()
    suspended, reinstated = mail.inbox.messages
    assert suspended["To"].addresses[0].addr_spec == author.email
    assert suspended["Subject"] == "Votre compte est suspendu"
    assert "Insultes répétées." in suspended.get_content()
    assert "/account" in suspended.get_content()
    assert reinstated["Subject"] == "Votre compte est rétabli"
    assert "Excuses acceptées." in reinstated.get_content()
