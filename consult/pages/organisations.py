"""Administrators' pages: the organisations, and the members of one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from consult.accounts.models import User
from consult.organisations.models import Organisation
from consult.organisations.services import (
    OrganisationSummary,
    list_organisations,
    members_of,
)


@dataclass(frozen=True)
class OrganisationsPage:
    """Every organisation with its counts, and the form that creates one."""

    organisations: list[OrganisationSummary]
    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OrganisationPage:
    """One organisation's members, the form that adds one and a button to remove each."""

    organisation: Organisation
    members: list[User]
    form: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    notice: str | None = None
    """What was just done: "created", "added" or "removed"."""


async def organisations_page(
    db: AsyncSession,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> OrganisationsPage:
    """The list of organisations, with the creation form (shown again with its errors)."""
    return OrganisationsPage(await list_organisations(db), form or {}, errors or {})


async def organisation_page(
    db: AsyncSession,
    organisation: Organisation,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> OrganisationPage:
    """An organisation's members, with the form that adds one (shown again with its errors)."""
    members = await members_of(db, organisation)
    return OrganisationPage(organisation, members, form or {}, errors or {}, notice)
