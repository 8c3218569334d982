"""Reporting contributions, hiding and restoring them, suspending and reinstating accounts.

Every decision is written twice: in the public moderation log of its consultation (what, why,
when; never who reported, never which moderator) and in the append-only audit log (who).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, User
from consult.audit.services import record_event
from consult.consultations.models import Consultation
from consult.contributions.models import Contribution, Visibility
from consult.db import lock_row
from consult.errors import Forbidden, FormError, NotFound
from consult.i18n import gettext as _
from consult.moderation.models import (
    ModerationAction,
    ModerationEvent,
    Report,
    ReportReason,
    Suspension,
)
from consult.notifications.models import (
    ACCOUNT_REINSTATED,
    ACCOUNT_SUSPENDED,
    AccountNotice,
)
from consult.synthesis.models import SynthesisCampaign, SynthesisCampaignMember
from consult.synthesis.runs import latest_draft_run

MAX_DETAILS = 1000
MAX_REASON = 1000
OWNER_READS = "owner"


class AlreadyReported(Forbidden):
    """This person has already reported this contribution: nothing changes."""


class OwnContribution(Forbidden):
    """Nobody reports their own contribution."""


class Suspended(Forbidden):
    """A suspended account may not post or vote."""


def _text(value: str, limit: int, field: str, empty: str | None) -> str:
    if empty == OWNER_READS:
        empty = _("Give the reason the account's owner will read.")
    text = value.strip()
    if empty is not None and not text:
        raise FormError({field: empty})
    if len(text) > limit:
        message = _("At most %(count)s characters.") % {"count": limit}
        raise FormError({field: message})
    return text


# --- suspensions ----------------------------------------------------------------------------


async def current_suspension(session: AsyncSession, user_id: int) -> Suspension | None:
    """The account's suspension in force, if any."""
    return await session.scalar(
        select(Suspension)
        .where(Suspension.in_force_for(user_id))
        .order_by(Suspension.id.desc())
        .limit(1)
    )


async def check_not_suspended(session: AsyncSession, user: User) -> None:
    """Raise `Suspended` if the account may not post or vote."""
    if await current_suspension(session, user.id) is not None:
        raise Suspended(user.id)


# --- reports --------------------------------------------------------------------------------


async def report_contribution(
    session: AsyncSession,
    contribution: Contribution,
    reporter: User,
    *,
    reason: str,
    details: str,
    threshold: int,
    now: datetime,
) -> Report:
    """Record `reporter`'s report; the `threshold`-th report not yet reviewed hides the
    contribution pending review. Refused (nothing saved) on one's own contribution, for a
    second report by the same person, or from a suspended account."""
    if contribution.author_id == reporter.id:
        raise OwnContribution(contribution.id)
    await check_not_suspended(session, reporter)
    try:
        chosen = ReportReason(reason)
    except ValueError as error:
        raise FormError({"reason": _("Choose why you report this contribution.")}) from error
    empty = _("Say what is wrong.") if chosen is ReportReason.OTHER else None
    text = _text(details, MAX_DETAILS, "details", empty)
    # Reports on one contribution take turns: the count that decides to hide it is exact.
    await lock_row(session, Contribution, contribution.id)
    if await _has_reported(session, contribution.id, reporter.id):
        raise AlreadyReported(contribution.id)
    report = Report(
        consultation_id=contribution.consultation_id,
        contribution_id=contribution.id,
        reporter_id=reporter.id,
        reason=chosen.value,
        details=text,
        created_at=now,
    )
    savepoint = await session.begin_nested()
    try:
        session.add(report)
        await session.flush()
    except IntegrityError as error:
        # The same person's report sent twice at once: the database keeps one.
        await savepoint.rollback()
        raise AlreadyReported(contribution.id) from error
    await savepoint.commit()
    open_reports = await session.scalar(
        select(func.count()).where(
            Report.contribution_id == contribution.id, Report.reviewed_at.is_(None)
        )
    )
    await session.refresh(contribution)
    if threshold and int(open_reports or 0) >= threshold and contribution.is_visible:
        contribution.visibility = Visibility.HIDDEN
        contribution.pending_review = True
        contribution.hidden_reason = ""
        session.add(
            ModerationEvent(
                consultation_id=contribution.consultation_id,
                action=ModerationAction.AUTO_HIDE.value,
                contribution_id=contribution.id,
                created_at=now,
            )
        )
        await record_event(
            session,
            None,
            "moderation.auto_hide",
            target=f"contribution:{contribution.id}",
            details={"reports": int(open_reports or 0)},
        )
    await session.flush()
    return report


async def _has_reported(session: AsyncSession, contribution_id: int, user_id: int) -> bool:
    found = await session.scalar(
        select(Report.id).where(
            Report.contribution_id == contribution_id, Report.reporter_id == user_id
        )
    )
    return found is not None


async def my_report(
    session: AsyncSession, contribution_id: int, user: User | None
) -> Report | None:
    """The report `user` made on this contribution, if any."""
    if user is None:
        return None
    return await session.scalar(
        select(Report).where(
            Report.contribution_id == contribution_id, Report.reporter_id == user.id
        )
    )


# --- decisions on contributions -------------------------------------------------------------


async def copy_groups(
    session: AsyncSession, consultation: Consultation, ids: list[int]
) -> dict[int, list[int]]:
    """For each of `ids` in a group of copies found by the latest synthesis run (a campaign or
    a repost), every contribution of its group, itself included."""
    run = await latest_draft_run(session, consultation.id)
    if run is None or not ids:
        return {}
    groups: dict[int, int] = dict(
        (
            await session.execute(
                select(SynthesisCampaignMember.contribution_id, SynthesisCampaign.id)
                .join(
                    SynthesisCampaign,
                    SynthesisCampaign.id == SynthesisCampaignMember.campaign_id,
                )
                .where(
                    SynthesisCampaign.run_id == run.id,
                    SynthesisCampaignMember.contribution_id.in_(ids),
                )
            )
        ).all()
    )
    if not groups:
        return {}
    members: dict[int, list[int]] = {}
    rows = await session.execute(
        select(SynthesisCampaignMember.campaign_id, SynthesisCampaignMember.contribution_id)
        .join(Contribution, Contribution.id == SynthesisCampaignMember.contribution_id)
        .where(
            SynthesisCampaignMember.campaign_id.in_(set(groups.values())),
            Contribution.consultation_id == consultation.id,
        )
        .order_by(SynthesisCampaignMember.contribution_id)
    )
    for group, member in rows:
        members.setdefault(group, []).append(member)
    return {contribution: members[group] for contribution, group in groups.items()}


async def copies_of(
    session: AsyncSession, consultation: Consultation, contribution: Contribution
) -> list[int]:
    """The contributions in the same group of copies as `contribution` (itself included), as
    the latest synthesis run found them; just itself when it is in none."""
    groups = await copy_groups(session, consultation, [contribution.id])
    return groups.get(contribution.id, [contribution.id])


async def decide(
    session: AsyncSession,
    consultation: Consultation,
    contribution: Contribution,
    moderator: User,
    *,
    action: str,
    reason: str,
    all_copies: bool,
    now: datetime,
) -> list[int]:
    """Hide or restore (`action`) the contribution, or every copy of its letter, with a public
    `reason`; its open reports count as reviewed. Returns the ids it changed."""
    if action not in (ModerationAction.HIDE, ModerationAction.RESTORE):
        raise FormError({"action": _("Choose whether to hide or restore the contribution.")})
    if contribution.consultation_id != consultation.id:
        raise NotFound(str(contribution.id))
    public = _text(reason, MAX_REASON, "reason", _("Give the reason the public will read."))
    ids = await copies_of(session, consultation, contribution) if all_copies else [contribution.id]
    hide = action == ModerationAction.HIDE
    reported = set(
        await session.scalars(
            select(Report.contribution_id).where(
                Report.contribution_id.in_(ids), Report.reviewed_at.is_(None)
            )
        )
    )
    changed = []
    for target in await session.scalars(
        select(Contribution).where(Contribution.id.in_(ids)).order_by(Contribution.id)
    ):
        settled = target.is_visible != hide and not target.pending_review
        if settled and target.id not in reported:
            continue  # already as asked, no report waiting: nothing to decide
        target.visibility = Visibility.HIDDEN if hide else Visibility.VISIBLE
        target.hidden_reason = public if hide else ""
        target.pending_review = False
        changed.append(target.id)
        session.add(
            ModerationEvent(
                consultation_id=consultation.id,
                action=action,
                contribution_id=target.id,
                reason=public,
                created_at=now,
            )
        )
    if not changed:
        message = (
            _("This contribution is already hidden.")
            if hide
            else _("This contribution is already visible.")
        )
        raise FormError({"action": message})
    await session.execute(
        update(Report)
        .where(Report.contribution_id.in_(changed), Report.reviewed_at.is_(None))
        .values(reviewed_at=now)
    )
    await record_event(
        session,
        moderator.id,
        f"moderation.{action}",
        target=f"consultation:{consultation.id}",
        details={"contributions": changed},
    )
    return changed


# --- suspensions ----------------------------------------------------------------------------


async def took_part_in(session: AsyncSession, user_id: int, consultation: Consultation) -> bool:
    """Whether the account wrote anything in the consultation."""
    found = await session.scalar(
        select(Contribution.id)
        .where(Contribution.consultation_id == consultation.id, Contribution.author_id == user_id)
        .limit(1)
    )
    return found is not None


async def suspend_account(
    session: AsyncSession,
    consultation: Consultation,
    account_id: int,
    moderator: User,
    *,
    reason: str,
    now: datetime,
) -> Suspension:
    """Suspend an account that took part in `consultation`, from its moderation queue; its
    owner is told by email and may ask once for a review."""
    account = await session.get(User, account_id)
    if account is None or not await took_part_in(session, account_id, consultation):
        raise NotFound(str(account_id))
    if account.role is not Role.CITIZEN:
        raise FormError({"suspend": _("Only participants' accounts can be suspended here.")})
    public = _text(
        reason, MAX_REASON, "suspend", _("Give the reason the account's owner will read.")
    )
    if await current_suspension(session, account.id) is not None:
        raise FormError({"suspend": _("This account is already suspended.")})
    suspension = Suspension(
        user_id=account.id, consultation_id=consultation.id, reason=public, created_at=now
    )
    session.add(suspension)
    await _record_account_decision(
        session, consultation, suspension, moderator, ModerationAction.SUSPEND, public, now
    )
    return suspension


async def reinstate_account(
    session: AsyncSession,
    consultation: Consultation,
    account_id: int,
    moderator: User,
    *,
    reason: str,
    now: datetime,
) -> Suspension:
    """Lift the account's suspension decided from this consultation's queue (its owner is told
    by email)."""
    suspension = await current_suspension(session, account_id)
    if suspension is None or suspension.consultation_id != consultation.id:
        raise NotFound(str(account_id))
    public = _text(
        reason, MAX_REASON, "reinstate", _("Give the reason the account's owner will read.")
    )
    suspension.lifted_at = now
    await _record_account_decision(
        session, consultation, suspension, moderator, ModerationAction.REINSTATE, public, now
    )
    return suspension


async def _record_account_decision(
    session: AsyncSession,
    consultation: Consultation,
    suspension: Suspension,
    moderator: User,
    action: ModerationAction,
    public: str,
    now: datetime,
) -> None:
    """A suspension or its lifting: in the public log, in an email to the account's owner,
    and in the audit log."""
    session.add(
        ModerationEvent(
            consultation_id=consultation.id,
            action=action.value,
            account_id=suspension.user_id,
            reason=public,
            created_at=now,
        )
    )
    kind = ACCOUNT_SUSPENDED if action is ModerationAction.SUSPEND else ACCOUNT_REINSTATED
    details = {"reason": public, "consultation": consultation.title}
    session.add(
        AccountNotice(user_id=suspension.user_id, kind=kind, details=details, created_at=now)
    )
    await session.flush()
    await record_event(
        session,
        moderator.id,
        f"moderation.{action.value}",
        target=f"user:{suspension.user_id}",
        details={"consultation": consultation.id, "suspension": suspension.id},
    )


async def request_review(session: AsyncSession, user: User, text: str, now: datetime) -> Suspension:
    """The suspended account's owner asks for a review, once per suspension."""
    suspension = await current_suspension(session, user.id)
    if suspension is None:
        raise FormError({"review": _("Your account is not suspended.")})
    if suspension.review_requested_at is not None:
        raise FormError({"review": _("You have already asked for a review of this suspension.")})
    suspension.review_request = _text(
        text, MAX_DETAILS, "review", _("Say why the suspension should be lifted.")
    )
    suspension.review_requested_at = now
    await session.flush()
    await record_event(
        session, user.id, "moderation.review_request", target=f"suspension:{suspension.id}"
    )
    return suspension
