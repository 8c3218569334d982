"""Consultation services: create, find, list."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import Select, String, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from consult.accounts.models import Role, User
from consult.audit.services import record_event
from consult.consultations.models import (
    PHASE_ORDER,
    Consultation,
    ConsultationKind,
    ConsultationPhase,
    Phase,
)
from consult.errors import FormError, NotFound
from consult.i18n import DISPLAY_TIMEZONE, SUPPORTED_LANGUAGES
from consult.i18n import gettext as _
from consult.organisations.models import Organisation
from consult.organisations.services import acts_for, organisation_ids_of, organisations_of

# The phases a consultation's schedule sets dates for (a draft starts when it is created).
SCHEDULED_PHASES = tuple(phase for phase in PHASE_ORDER if phase is not Phase.DRAFT)
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TITLE = 300
MAX_SUMMARY = 5000
MAX_MINISTRY = 200


async def can_see_draft(
    session: AsyncSession, user: User | None, consultation: Consultation
) -> bool:
    """The officials of its organisation and administrators prepare a consultation before it
    opens."""
    if user is None or not user.has_role(Role.OFFICIAL):
        return False
    return await acts_for(session, user, consultation)


async def create_consultation(
    session: AsyncSession,
    *,
    slug: str,
    title: str,
    summary: str,
    ministry: str,
    owner: User,
    phase_starts: dict[Phase, datetime],
    organisation: Organisation | None = None,
    languages: list[str] | None = None,
    participation_requires: int = 0,
    input_errors: Mapping[str, str] | None = None,
    kind: str = ConsultationKind.BILL,
) -> Consultation:
    """Create a consultation with its schedule, or raise FormError field by field
    (`input_errors`: what was already found wrong in the input, such as unreadable dates,
    reported with the rest). It belongs to `organisation`, by default the owner's one
    organisation; the caller checks that the owner may act for the organisation chosen."""
    slug = slug.strip().lower()
    title, summary = " ".join(title.split()), summary.strip()
    errors: dict[str, str] = dict(input_errors or {})
    if not SLUG_PATTERN.match(slug) or len(slug) > 80:
        errors["slug"] = _("Use lowercase letters, digits and hyphens only, like “numerique-2026”.")
    elif await session.scalar(select(func.count()).where(Consultation.slug == slug)):
        errors["slug"] = _("Another consultation already uses this address.")
    errors = _check_details(title, summary, ministry, phase_starts, errors)
    if organisation is None:
        own = await organisations_of(session, owner)
        if len(own) == 1:
            organisation = own[0]
        else:
            errors.setdefault(
                "organisation",
                _("Choose the organisation that holds the consultation.")
                if own
                else _("Your account is not a member of any organisation yet."),
            )
    if participation_requires not in (0, 1, 2):
        errors["participation_requires"] = _("Choose who may take part.")
    if kind not in {k.value for k in ConsultationKind}:
        errors["kind"] = _("Choose what the public is consulted on: a bill or a questionnaire.")
    chosen_languages = languages or ["fr"]
    if any(code not in SUPPORTED_LANGUAGES for code in chosen_languages):
        errors["languages"] = _("Choose among the supported languages.")
    if errors or organisation is None:
        raise FormError(errors)
    ministry = " ".join(ministry.split()) or organisation.name
    consultation = Consultation(
        slug=slug,
        kind=ConsultationKind(kind),
        title=title,
        summary=summary,
        ministry=ministry,
        organisation_id=organisation.id,
        owner_id=owner.id,
        languages=chosen_languages,
        participation_requires=participation_requires,
        phases=[
            ConsultationPhase(phase=phase, starts_at=starts_at)
            for phase, starts_at in sorted(
                phase_starts.items(), key=lambda i: PHASE_ORDER.index(i[0])
            )
            if phase is not Phase.DRAFT
        ],
    )
    session.add(consultation)
    await session.flush()
    return consultation


def _check_details(
    title: str,
    summary: str,
    ministry: str,
    phase_starts: dict[Phase, datetime],
    errors: dict[str, str],
) -> dict[str, str]:
    """The title, summary, ministry and schedule rules of creating and editing a consultation,
    added to `errors` (what was already found wrong in the input)."""
    if len(" ".join(ministry.split())) > MAX_MINISTRY:
        errors["ministry"] = _("The ministry must have at most {count} characters.").format(
            count=MAX_MINISTRY
        )
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("The title must have at most {count} characters.").format(
            count=MAX_TITLE
        )
    if len(summary) > MAX_SUMMARY:
        errors["summary"] = _("The summary must have at most {count} characters.").format(
            count=MAX_SUMMARY
        )
    # A date that could not be read says so, rather than that it is missing.
    return {**_check_schedule(phase_starts), **errors}


async def update_consultation(
    session: AsyncSession,
    consultation: Consultation,
    *,
    title: str,
    summary: str,
    ministry: str,
    phase_starts: dict[Phase, datetime],
    actor: User,
    participation_requires: int | None = None,
    input_errors: Mapping[str, str] | None = None,
) -> None:
    """Change a consultation's title, summary, ministry label and schedule under the rules of
    its creation (FormError field by field), recorded in the audit log with the names of the
    fields changed."""
    title, summary = " ".join(title.split()), summary.strip()
    errors = _check_details(title, summary, ministry, phase_starts, dict(input_errors or {}))
    if participation_requires is not None and participation_requires not in (0, 1, 2):
        errors["participation_requires"] = _("Choose who may take part.")
    if errors:
        raise FormError(errors)
    organisation = await session.get(Organisation, consultation.organisation_id)
    ministry = " ".join(ministry.split()) or (organisation.name if organisation else "")
    before = _details_of(consultation)
    consultation.title, consultation.summary, consultation.ministry = title, summary, ministry
    if participation_requires is not None:
        consultation.participation_requires = participation_requires
    scheduled = {p.phase: p for p in consultation.phases}
    for phase in SCHEDULED_PHASES:
        if phase not in phase_starts and phase in scheduled:
            consultation.phases.remove(scheduled[phase])
        elif phase in phase_starts and phase in scheduled:
            scheduled[phase].starts_at = phase_starts[phase]
        elif phase in phase_starts:
            consultation.phases.append(
                ConsultationPhase(phase=phase, starts_at=phase_starts[phase])
            )
    await session.flush()
    after = _details_of(consultation)
    changed = sorted(name for name in after if after[name] != before[name])
    await record_event(
        session,
        actor.id,
        "consultation.update",
        target=f"consultation:{consultation.id}",
        details={"changed": changed},
    )


def _details_of(consultation: Consultation) -> dict[str, str]:
    """What the edit form changes, as the audit log records it."""
    details = {
        "title": consultation.title,
        "summary": consultation.summary,
        "ministry": consultation.ministry,
        "participation_requires": str(consultation.participation_requires),
    }
    for phase in SCHEDULED_PHASES:
        starts = consultation.start_of(phase)
        details[phase.value] = starts.isoformat() if starts else ""
    return details


def _check_schedule(phase_starts: dict[Phase, datetime]) -> dict[str, str]:
    """Phases must start in their natural order; the opening date is required."""
    if Phase.OPEN not in phase_starts:
        return {"open": _("Enter the date the consultation opens.")}
    scheduled = [(phase, phase_starts[phase]) for phase in PHASE_ORDER if phase in phase_starts]
    for (_earlier, earlier_start), (later, later_start) in itertools.pairwise(scheduled):
        if later_start <= earlier_start:
            return {later.value: _("This date must come after the previous phase's date.")}
    return {}


@functools.cache
def _consultation_query() -> Select[Consultation]:
    """Built once per process, the address bound at each call (every request of a consultation
    asks it); its phases come in the same query, as every page of a consultation reads them."""
    return (
        select(Consultation)
        .where(Consultation.slug == bindparam("slug", type_=String))
        .options(joinedload(Consultation.phases))
    )


async def get_consultation(
    session: AsyncSession, slug: str, viewer: User | None, now: datetime
) -> Consultation:
    """The consultation at `slug`; drafts are hidden from the public."""
    found = await session.execute(_consultation_query(), {"slug": slug})
    consultation = found.unique().scalar_one_or_none()
    if consultation is None:
        raise NotFound(slug)
    if consultation.phase_at(now) is Phase.DRAFT and not await can_see_draft(
        session, viewer, consultation
    ):
        raise NotFound(slug)
    return consultation


async def list_consultations(
    session: AsyncSession, viewer: User | None, now: datetime
) -> list[Consultation]:
    """Consultations the viewer may see, newest first."""
    consultations = (
        await session.scalars(select(Consultation).order_by(Consultation.created_at.desc()))
    ).all()
    if viewer is not None and viewer.role is Role.ADMIN:
        return list(consultations)
    own = await organisation_ids_of(session, viewer)
    drafts_seen = viewer is not None and viewer.has_role(Role.OFFICIAL)
    return [
        c
        for c in consultations
        if c.phase_at(now) is not Phase.DRAFT or (drafts_seen and c.organisation_id in own)
    ]


def accepts_contributions(consultation: Consultation, now: datetime) -> bool:
    """Citizens may contribute only while the consultation is open."""
    return consultation.phase_at(now) is Phase.OPEN


# Phases an official can start by hand, from the one in force.
_NEXT_PHASES = {
    Phase.OPEN: (Phase.CLOSED,),
    Phase.CLOSED: (Phase.ANSWERED, Phase.PUBLISHED),
    Phase.ANSWERED: (Phase.PUBLISHED,),
}


def next_phases(consultation: Consultation, now: datetime) -> tuple[Phase, ...]:
    """The phases an official may start now (closing, then answering, then publishing)."""
    return _NEXT_PHASES.get(consultation.phase_at(now), ())


def read_schedule(values: Mapping[str, str]) -> tuple[dict[Phase, datetime], dict[str, str]]:
    """The start of each scheduled phase typed in a form (``values[phase]``, local Paris time
    unless a zone is given), and the message for each date that cannot be read."""
    starts: dict[Phase, datetime] = {}
    errors: dict[str, str] = {}
    for phase in SCHEDULED_PHASES:
        raw = values.get(phase.value, "").strip()
        if not raw:
            continue
        try:
            local = datetime.fromisoformat(raw)
        except ValueError:
            errors[phase.value] = _("Enter a date and time such as 2027-03-01 09:00.")
            continue
        if local.tzinfo is None:
            local = local.replace(tzinfo=DISPLAY_TIMEZONE)
        starts[phase] = local.astimezone(UTC)
    return starts, errors


async def start_phase_now(
    session: AsyncSession, consultation: Consultation, phase: Phase, now: datetime, actor: User
) -> Phase:
    """Start ``phase`` now, recorded in the audit log as `actor`'s decision, and return the
    phase it replaces.

    The schedule stays in order: a phase between the current one and ``phase`` that was
    planned for later is dropped (it will not happen), phases after ``phase`` keep their date
    if it is still to come. Raises FormError when ``phase`` cannot start now.
    """
    current = consultation.phase_at(now)
    if phase not in next_phases(consultation, now):
        raise FormError({"phase": _("This consultation cannot move to that phase now.")})
    target_index = PHASE_ORDER.index(phase)
    for scheduled in list(consultation.phases):
        index = PHASE_ORDER.index(scheduled.phase)
        if PHASE_ORDER.index(current) < index < target_index or (
            index > target_index and scheduled.starts_at <= now
        ):
            consultation.phases.remove(scheduled)
    existing = next((p for p in consultation.phases if p.phase is phase), None)
    if existing is None:
        consultation.phases.append(ConsultationPhase(phase=phase, starts_at=now))
    else:
        existing.starts_at = now
    await session.flush()
    await record_event(
        session,
        actor.id,
        "consultation.phase",
        target=f"consultation:{consultation.id}",
        details={"from": current.value, "to": phase.value},
    )
    return current
