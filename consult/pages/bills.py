"""The bill import page: the text pasted or uploaded, and its parsed tree or its error."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from consult.bills.models import BillVersion
from consult.bills.parser import ParsedBill
from consult.bills.services import latest_version
from consult.consultations.models import Consultation


@dataclass(frozen=True)
class BillImportPage:
    """The import form, empty, or with the text read, its tree or the line it stopped at."""

    consultation: Consultation
    latest: BillVersion | None
    source: str = ""
    format: str = "markdown"
    error: str | None = None
    bill: ParsedBill | None = None


async def bill_import_page(
    db: AsyncSession,
    consultation: Consultation,
    *,
    source: str = "",
    source_format: str = "markdown",
    error: str | None = None,
    bill: ParsedBill | None = None,
) -> BillImportPage:
    """The import page, with the latest version published so far."""
    latest = await latest_version(db, consultation)
    return BillImportPage(consultation, latest, source, source_format, error, bill)
