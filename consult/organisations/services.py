"""Organisations and their members; who acts for a consultation.

A consultation belongs to one organisation. Officials and moderators act only on the
consultations of the organisations they are members of; administrators act everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import Role, User
from consult.accounts.services import find_user_by_email
from consult.audit.services import record_event
from consult.consultations.models import Consultation
from consult.errors import FormError, NotFound
from consult.i18n import gettext as _
from consult.organisations.models import Organisation, OrganisationMember

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 200
MAX_SLUG = 80
# The roles whose accounts act for an organisation (administrators act everywhere).
MEMBER_ROLES = (Role.OFFICIAL, Role.MODERATOR)


@dataclass(frozen=True)
class OrganisationSummary:
    """An organisation with how many members and consultations it has."""

    organisation: Organisation
    members: int
    consultations: int


def slug_from_name(name: str) -> str:
    """A web address made from a name: « Ministère de l’Intérieur » → ministere-de-l-interieur."""
    plain = unicodedata.normalize("NFKD", name.replace("’", " ")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:MAX_SLUG].strip("-")


async def create_organisation(
    session: AsyncSession, name: str, slug: str, actor: User | None
) -> Organisation:
    """Create an organisation (recorded in the audit log as `actor`'s), or raise FormError."""
    name = " ".join(name.split())
    slug = slug.strip().lower() or slug_from_name(name)
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the organisation's name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("The name must have at most {count} characters.").format(count=MAX_NAME)
    elif await session.scalar(select(func.count()).where(Organisation.name == name)):
        errors["name"] = _("Another organisation already has this name.")
    if not SLUG_PATTERN.match(slug) or len(slug) > MAX_SLUG:
        errors["slug"] = _("Use lowercase letters, digits and hyphens only, like “numerique-2026”.")
    elif await session.scalar(select(func.count()).where(Organisation.slug == slug)):
        errors["slug"] = _("Another organisation already uses this address.")
    if errors:
        raise FormError(errors)
    organisation = Organisation(name=name, slug=slug)
    session.add(organisation)
    await session.flush()
    await record_event(
        session,
        actor.id if actor else None,
        "organisation.create",
        target=f"organisation:{organisation.id}",
        details={"slug": slug},
    )
    return organisation


async def get_organisation(session: AsyncSession, slug: str) -> Organisation:
    """The organisation at `slug`, or NotFound."""
    organisation = await session.scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise NotFound(slug)
    return organisation


async def list_organisations(session: AsyncSession) -> list[OrganisationSummary]:
    """Every organisation by name, with its counts."""
    members = (
        select(func.count())
        .where(OrganisationMember.organisation_id == Organisation.id)
        .scalar_subquery()
    )
    consultations = (
        select(func.count())
        .where(Consultation.organisation_id == Organisation.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Organisation, members, consultations).order_by(Organisation.name)
    )
    return [OrganisationSummary(org, int(m), int(c)) for org, m, c in rows]


async def members_of(session: AsyncSession, organisation: Organisation) -> list[User]:
    """The accounts that act for `organisation`, by name."""
    return list(
        await session.scalars(
            select(User)
            .join(OrganisationMember, OrganisationMember.user_id == User.id)
            .where(OrganisationMember.organisation_id == organisation.id)
            .order_by(User.display_name, User.id)
        )
    )


async def is_member(session: AsyncSession, organisation_id: int, user_id: int) -> bool:
    """Whether the account `user_id` acts for the organisation `organisation_id`."""
    found = await session.scalar(
        select(func.count()).where(
            OrganisationMember.organisation_id == organisation_id,
            OrganisationMember.user_id == user_id,
        )
    )
    return bool(found)


async def add_member(
    session: AsyncSession, organisation: Organisation, email: str, actor: User | None
) -> User:
    """Make the official or moderator with this email a member, or raise FormError."""
    account = await find_user_by_email(session, email) if email.strip() else None
    if account is None or not account.is_active:
        raise FormError({"email": _("No account uses this email address.")})
    if not account.has_role(*MEMBER_ROLES):
        raise FormError(
            {"email": _("Only officials and moderators can be members of an organisation.")}
        )
    if await is_member(session, organisation.id, account.id):
        raise FormError({"email": _("This account is already a member.")})
    session.add(OrganisationMember(organisation_id=organisation.id, user_id=account.id))
    await session.flush()
    await record_event(
        session,
        actor.id if actor else None,
        "organisation.member_add",
        target=f"organisation:{organisation.id}",
        details={"user_id": account.id},
    )
    return account


async def remove_member(
    session: AsyncSession, organisation: Organisation, user_id: int, actor: User | None
) -> None:
    """The account stops acting for `organisation` (NotFound if it was not a member)."""
    removed = await session.execute(
        delete(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation.id,
            OrganisationMember.user_id == user_id,
        )
    )
    if not getattr(removed, "rowcount", 0):
        raise NotFound(str(user_id))
    await record_event(
        session,
        actor.id if actor else None,
        "organisation.member_remove",
        target=f"organisation:{organisation.id}",
        details={"user_id": user_id},
    )


async def organisations_of(session: AsyncSession, user: User) -> list[Organisation]:
    """The organisations `user` is a member of, by name."""
    return list(
        await session.scalars(
            select(Organisation)
            .join(OrganisationMember, OrganisationMember.organisation_id == Organisation.id)
            .where(OrganisationMember.user_id == user.id)
            .order_by(Organisation.name)
        )
    )


async def organisations_for_new_consultation(
    session: AsyncSession, user: User
) -> list[Organisation]:
    """The organisations `user` may create a consultation for: all of them for an
    administrator, their own for an official."""
    if user.role is Role.ADMIN:
        return list(await session.scalars(select(Organisation).order_by(Organisation.name)))
    if not user.has_role(Role.OFFICIAL):
        return []
    return await organisations_of(session, user)


async def acts_for(session: AsyncSession, user: User | None, consultation: Consultation) -> bool:
    """Whether `user` acts for `consultation`'s organisation: an administrator, or an
    official or moderator who is a member of it."""
    if user is None or not user.is_active:
        return False
    if user.role is Role.ADMIN:
        return True
    if not user.has_role(*MEMBER_ROLES):
        return False
    return await is_member(session, consultation.organisation_id, user.id)


async def organisation_ids_of(session: AsyncSession, user: User | None) -> set[int]:
    """The ids of the organisations `user` acts for as an official or moderator."""
    if user is None or not user.has_role(*MEMBER_ROLES):
        return set()
    rows = await session.scalars(
        select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == user.id)
    )
    return set(rows)
